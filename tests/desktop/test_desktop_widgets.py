"""Real widgets (offscreen) bound to real viewmodels, driven as an agent would."""

from __future__ import annotations

import pytest
import pytest_twisted
from PyQt5.QtCore import Qt
from PyQt5.QtWidgets import QLabel, QLineEdit, QPushButton, QTableWidget

from desktop.client import ApiClient
from desktop.demo import populate
from desktop.viewmodels.desktop import DesktopModel
from desktop.widgets.login import LoginDialog
from desktop.widgets.main_window import MainWindow
from desktop.widgets.supervisor_window import SupervisorWindow

T0 = 1_795_000_000.0


@pytest.fixture
def desktops():
    made = []

    def make(url, **options):
        model = DesktopModel(ApiClient(url), stream_options={"initial_delay": 0.05}, **options)
        made.append(model)
        return model

    yield make
    for model in made:
        model.shutdown()
        model.client.close()


def child(window, cls, name):
    found = window.findChild(cls, name)
    assert found is not None, f"no {cls.__name__} named {name}"
    return found


def cell(table: QTableWidget, row: int, column: int) -> str:
    item = table.item(row, column)
    return item.text() if item else ""


def ring(api, call_id="c1"):
    call = api.add_call({"call_id": call_id, "calling": "+4930123456", "called": "2001",
                         "customer_id": 7, "queue": "sales",
                         "parties": [{"device": "+4930123456", "state": "connected"},
                                     {"device": "2001", "state": "alerting"}]})
    api.push({"event": "call", "kind": "created", "call": call})
    api.push({"event": "screen_pop", "call_id": call_id, "agent": "1001", "device": "2001",
              "customer": api.customers[7], "interactions": api.interactions[7],
              "tickets": api.tickets[7], "data": {"order": "4471"}, "notes": [],
              "calling": "+4930123456", "called": "2001"})


@pytest_twisted.ensureDeferred
async def test_login_dialog_checks_fields_and_shows_the_servers_error(recorded_api, desktops,
                                                                      qtbot, wait_until):
    _, url = recorded_api
    models = []

    def login(server, user, password, extension):
        models.append(desktops(server))
        return models[-1].login(user, password, extension)

    dialog = LoginDialog(login, server=url)
    qtbot.addWidget(dialog)
    qtbot.mouseClick(child(dialog, QPushButton, "loginButton"), Qt.LeftButton)
    assert child(dialog, QLabel, "loginError").text() == "Please enter the user, password."
    qtbot.keyClicks(child(dialog, QLineEdit, "loginUser"), "1001")
    qtbot.keyClicks(child(dialog, QLineEdit, "loginPassword"), "wrong")
    qtbot.keyClicks(child(dialog, QLineEdit, "loginExtension"), "2001")
    qtbot.mouseClick(child(dialog, QPushButton, "loginButton"), Qt.LeftButton)
    await wait_until(lambda: child(dialog, QLabel, "loginError").text() == "wrong user or password")
    assert child(dialog, QPushButton, "loginButton").isEnabled()
    child(dialog, QLineEdit, "loginPassword").setText("secret")
    await dialog.submit()
    assert dialog.result() == dialog.Accepted
    assert dialog.result_session["role"] == "agent"


@pytest_twisted.ensureDeferred
async def test_agent_answers_from_the_banner_notes_saves_and_dispositions(recorded_api, desktops,
                                                                         qtbot, wait_until):
    api, url = recorded_api
    model = desktops(url)
    await model.login("1001", "secret", "2001")
    await model.when_synced()
    window = MainWindow(model, use_tray=False)
    qtbot.addWidget(window)
    window.show()
    ring(api)
    banner = child(window, QLabel, "incomingText")
    await wait_until(lambda: "Clara Jansen" in banner.text())
    assert banner.text().endswith("Incoming call: Clara Jansen (+4930123456) via sales")
    assert banner.parentWidget().isVisible()
    calls = child(window, QTableWidget, "callsTable")
    assert [cell(calls, 0, c) for c in range(3)] == ["+4930123456", "Clara Jansen", "Alerting"]
    answer = child(window, QPushButton, "answerButton")
    assert answer.isEnabled() and not child(window, QPushButton, "holdButton").isEnabled()

    qtbot.mouseClick(child(window, QPushButton, "bannerAnswerButton"), Qt.LeftButton)
    await wait_until(lambda: cell(calls, 0, 2) == "Connected")
    assert not banner.parentWidget().isVisible()
    assert child(window, QPushButton, "holdButton").isEnabled()

    company = child(window, QLineEdit, "customerCompany")
    assert company.text() == "Jansen Logistics"
    save = child(window, QPushButton, "saveCustomerButton")
    assert not save.isEnabled()
    company.selectAll()
    qtbot.keyClicks(company, "Jansen & Co")
    assert save.isEnabled()
    qtbot.mouseClick(save, Qt.LeftButton)
    await wait_until(lambda: api.customers[7]["company"] == "Jansen & Co")
    await wait_until(lambda: not save.isEnabled())

    qtbot.keyClicks(child(window, QLineEdit, "noteEdit"), "Parcel 4471 is late")
    qtbot.mouseClick(child(window, QPushButton, "addNoteButton"), Qt.LeftButton)
    await wait_until(lambda: api.calls["c1"]["notes"])
    assert api.calls["c1"]["notes"][-1]["text"] == "Parcel 4471 is late"
    await wait_until(lambda: window.pop_tabs.notes_list.count() == 1)
    assert window.pop_tabs.notes_list.item(0).text() == "1001: Parcel 4471 is late"

    combo = window.pop_tabs.disposition
    assert [combo.itemData(i) for i in range(combo.count())] == ["resolved", "callback", "sale"]
    combo.setCurrentIndex(2)
    qtbot.mouseClick(child(window, QPushButton, "saveDispositionButton"), Qt.LeftButton)
    await wait_until(lambda: model.pop.disposition_saved)
    assert child(window, QLabel, "dispositionState").text() == "Disposition saved: Sale"
    assert cell(child(window, QTableWidget, "callDataTable"), 0, 1) == "4471"


@pytest_twisted.ensureDeferred
async def test_server_error_shows_in_the_status_bar(recorded_api, desktops, qtbot, wait_until):
    api, url = recorded_api
    model = desktops(url)
    await model.login("1001", "secret", "2001")
    await model.when_synced()
    window = MainWindow(model, use_tray=False)
    qtbot.addWidget(window)
    ring(api)
    await wait_until(lambda: model.pop.call_id == "c1")
    del api.customers[7]  # someone else deleted the record meanwhile
    qtbot.keyClicks(child(window, QLineEdit, "customerCompany"), " GmbH")
    qtbot.mouseClick(child(window, QPushButton, "saveCustomerButton"), Qt.LeftButton)
    await wait_until(lambda: child(window, QLabel, "statusMessage").text())
    assert child(window, QLabel, "statusMessage").text() == "⚠ no customer 7"
    assert child(window, QPushButton, "saveCustomerButton").isEnabled()


@pytest_twisted.ensureDeferred
async def test_not_ready_reason_menu_and_ready_button(recorded_api, desktops, qtbot, wait_until):
    api, url = recorded_api
    model = desktops(url)
    await model.login("1001", "secret", "2001")
    await model.when_synced()
    window = MainWindow(model, use_tray=False)
    qtbot.addWidget(window)
    status = child(window, QLabel, "stateStatus")
    assert status.text() == "Not ready – Login"
    ready = child(window, QPushButton, "readyButton")
    qtbot.mouseClick(ready, Qt.LeftButton)
    await wait_until(lambda: status.text() == "Ready")
    assert not ready.isEnabled()
    lunch = [a for a in window.state_bar.reason_menu.actions() if a.objectName() == "reason_lunch"]
    lunch[0].trigger()
    await wait_until(lambda: status.text() == "Not ready – Lunch")
    assert api.agents["1001"]["reason"] == "lunch"


def test_wrap_up_timer_counts_in_the_state_bar(qtbot):
    clock = [T0]
    model = DesktopModel(ApiClient("http://127.0.0.1:9"), clock=lambda: clock[0])
    window = MainWindow(model, use_tray=False, tick_ms=60_000)
    qtbot.addWidget(window)
    model._set_session({"user": "1001", "agent_id": "1001", "extension": "2001",
                        "role": "agent"})
    model.agent_state.update({"agent_id": "1001", "status": "wrap_up", "state": "wrap_up",
                              "since": None})
    clock[0] += 42
    window.tick()
    assert child(window, QLabel, "stateTimer").text() == "Wrap-up 0:42"
    assert child(window, QPushButton, "wrapUpDoneButton").isVisibleTo(window)
    model.client.close()


@pytest_twisted.ensureDeferred
async def test_address_book_search_and_double_click_dials(recorded_api, desktops, qtbot,
                                                          wait_until):
    api, url = recorded_api
    model = desktops(url)
    await model.login("1001", "secret", "2001")
    window = MainWindow(model, use_tray=False)
    qtbot.addWidget(window)
    table = child(window, QTableWidget, "addressTable")
    assert table.rowCount() == 4
    qtbot.keyClicks(child(window, QLineEdit, "addressSearch"), "head")
    assert table.rowCount() == 1 and cell(table, 0, 1) == "+4940998877"
    table.cellDoubleClicked.emit(0, 0)
    await wait_until(lambda: ("POST", "/calls", {"to": "+4940998877"}) in api.requests)


@pytest_twisted.ensureDeferred
async def test_dial_pad_types_digits_then_sends_dtmf_on_a_call(recorded_api, desktops, qtbot,
                                                              wait_until):
    api, url = recorded_api
    model = desktops(url)
    await model.login("1001", "secret", "2001")
    await model.when_synced()
    window = MainWindow(model, use_tray=False)
    qtbot.addWidget(window)
    for key in ("2", "0", "0", "hash"):
        qtbot.mouseClick(child(window, QPushButton, f"dialPad_{key}"), Qt.LeftButton)
    number = child(window, QLineEdit, "dialNumber")
    assert number.text() == "200#"
    number.setText("2000")
    qtbot.mouseClick(child(window, QPushButton, "dialButton"), Qt.LeftButton)
    await wait_until(lambda: ("POST", "/calls", {"to": "2000"}) in api.requests)
    model.calls.reset(list(api.calls.values()))
    call_id = next(iter(api.calls))
    qtbot.mouseClick(child(window, QPushButton, "dialPad_5"), Qt.LeftButton)
    await wait_until(lambda: ("POST", f"/calls/{call_id}/dtmf", {"digits": "5"}) in api.requests)
    assert number.text() == ""


def test_supervisor_window_tables_charts_and_monitor_buttons(qtbot):
    model = DesktopModel(ApiClient("http://127.0.0.1:9"), clock=lambda: T0)
    populate(model, T0, role="supervisor")
    window = SupervisorWindow(model, tick_ms=60_000)
    qtbot.addWidget(window)
    agents = child(window, QTableWidget, "agentsTable")
    assert agents.rowCount() == 9
    assert [cell(agents, 3, c) for c in (0, 3, 5)] == ["1004", "Not ready – Lunch", "21:00"]
    queues = child(window, QTableWidget, "queuesTable")
    assert [cell(queues, 1, c) for c in (0, 1, 2, 5)] == ["Sales", "3", "0:48", "84%"]
    assert child(window, QLabel, "tileWaiting").text() == "4"
    assert child(window, QLabel, "tileServiceLevel").text() == "83%"
    assert window.pie_chart.slices[0] == ("Ready", 2, "#2e9d5b")
    assert dict(window.bar_chart.groups)["Sales"] == {"waiting": 3, "answered": 136,
                                                       "abandoned": 12}
    listen = child(window, QPushButton, "listenButton")
    agents.selectRow(0)
    assert model.supervisor.selected_agent == "1001" and listen.isEnabled()
    agents.selectRow(2)
    assert not listen.isEnabled()
    image = window.pie_chart.grab().toImage()
    assert image.pixelColor(image.width() // 4, image.height() // 2).name() != "#ffffff"
    model.client.close()


@pytest_twisted.ensureDeferred
async def test_supervisor_listens_to_the_selected_agents_call(recorded_api, desktops, qtbot,
                                                              wait_until):
    api, url = recorded_api
    api.add_call({"call_id": "c7", "calling": "+4930123456", "called": "2001",
                  "parties": [{"device": "+4930123456", "state": "connected"},
                              {"device": "2001", "state": "connected"}]})
    api.agents["1001"].update(extension="2001", status="ready", state="in_call")
    model = desktops(url)
    await model.login("sup", "secret", "2090")
    await model.when_synced()
    window = SupervisorWindow(model)
    qtbot.addWidget(window)
    agents = child(window, QTableWidget, "agentsTable")
    agents.selectRow(0)
    listen = child(window, QPushButton, "listenButton")
    assert listen.isEnabled()
    qtbot.mouseClick(child(window, QPushButton, "whisperButton"), Qt.LeftButton)
    await wait_until(lambda: any(p == "/calls/c7/monitor" for _, p, _ in api.requests))
    assert ("POST", "/calls/c7/monitor", {"mode": "whisper", "from": "2090"}) in api.requests


@pytest_twisted.ensureDeferred
async def test_function_keys_answer_and_hang_up(recorded_api, desktops, qtbot, wait_until):
    api, url = recorded_api
    model = desktops(url)
    await model.login("1001", "secret", "2001")
    await model.when_synced()
    window = MainWindow(model, use_tray=False)
    qtbot.addWidget(window)
    window.show()
    window.activateWindow()
    qtbot.waitActive(window)
    ring(api)
    await wait_until(lambda: "answer" in model.calls.enabled_actions())
    qtbot.keyClick(window, Qt.Key_F7)  # hold is not possible on a ringing call: nothing sent
    qtbot.keyClick(window, Qt.Key_F5)
    await wait_until(lambda: ("POST", "/calls/c1/answer", {}) in api.requests)
    assert not [r for r in api.requests if r[1].endswith("/hold")]
    await wait_until(lambda: "hangup" in model.calls.enabled_actions()
                     and "hold" in model.calls.enabled_actions())
    qtbot.keyClick(window, Qt.Key_F6)
    await wait_until(lambda: model.calls.my_calls() == [])


@pytest_twisted.ensureDeferred
async def test_desktop_app_logs_in_through_the_dialog_and_logs_out_on_close(recorded_api, qtbot,
                                                                            wait_until):
    from twisted.internet import reactor

    from desktop.app import DesktopApp

    api, url = recorded_api
    app = DesktopApp(reactor, url, use_tray=False)
    app.ask_login("1001", "2001")
    dialog = app._dialog
    qtbot.addWidget(dialog)
    dialog.password.setText("secret")
    await dialog.submit()
    assert app.main_window is not None and app.main_window.isVisible()
    assert app.supervisor_window is None
    qtbot.addWidget(app.main_window)
    app.main_window.close()
    assert await app.done == 0
    await wait_until(lambda: ("DELETE", "/sessions/current", None) in api.requests)
    app.close()
