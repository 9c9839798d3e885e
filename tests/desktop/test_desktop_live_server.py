"""The desktop against the REAL server (cti.server) and the CSTA switch simulator.

A caller rings an agent's extension on the simulated switch; everything between (CSTA over
TCP, driver, call model, database, API, WebSocket) is the production code.
"""

from __future__ import annotations

import pytest
import pytest_twisted
from PyQt5.QtCore import Qt
from PyQt5.QtWidgets import QLabel, QLineEdit, QPushButton, QTableWidget

from cti.server.testing import PASSWORD
from desktop.client import ApiClient, ApiError
from desktop.viewmodels.desktop import DesktopModel
from desktop.widgets.main_window import MainWindow
from desktop.widgets.supervisor_window import SupervisorWindow

CALLER = "+49301234567"


@pytest.fixture
def desktops():
    made = []

    def make(url):
        model = DesktopModel(ApiClient(url), stream_options={"initial_delay": 0.05})
        made.append(model)
        return model

    yield make
    for model in made:
        model.shutdown()
        pytest_twisted.blockon(model.client.close())


def child(window, cls, name):
    found = window.findChild(cls, name)
    assert found is not None, f"no {cls.__name__} named {name}"
    return found


@pytest_twisted.ensureDeferred
async def test_login_errors_are_the_servers_one_line_text(live_server, desktops):
    running, _ = live_server
    model = desktops(running.url)
    with pytest.raises(ApiError) as caught:
        await model.login("1001", "wrong", "1001")
    assert caught.value.status == 401 and "\n" not in str(caught.value)
    assert model.last_error == str(caught.value)


@pytest_twisted.ensureDeferred
async def test_lists_and_state_from_the_real_server(live_server, desktops, wait_until):
    running, _ = live_server
    model = desktops(running.url)
    await model.login("1001", PASSWORD, "1001")
    await model.when_synced()
    assert model.agent_state.status == "not_ready"
    assert any(e["number"] == "1002" for e in model.address_book.entries)
    await model.set_ready()
    await wait_until(lambda: model.agent_state.status == "ready")


@pytest_twisted.ensureDeferred
async def test_call_pops_is_answered_noted_and_consult_transferred(live_server, desktops, qtbot,
                                                                   wait_until):
    running, switch = live_server
    first, second = desktops(running.url), desktops(running.url)
    await first.login("1001", PASSWORD, "1001")
    await second.login("1002", PASSWORD, "1002")
    await first.when_synced()
    await second.when_synced()
    window = MainWindow(first, use_tray=False)
    qtbot.addWidget(window)
    window.show()

    call_id = switch.inbound_call(CALLER, "1001")
    await wait_until(lambda: first.pop.call_id == call_id and first.notifier.current)
    assert child(window, QLabel, "customerTitle").text() == "Ada Lovelace"
    assert child(window, QLineEdit, "customerCompany").text() == "Analytical Engines"
    assert "Ada Lovelace" in child(window, QLabel, "incomingText").text()

    qtbot.mouseClick(child(window, QPushButton, "answerButton"), Qt.LeftButton)
    calls = child(window, QTableWidget, "callsTable")
    await wait_until(lambda: calls.item(0, 2) is not None and calls.item(0, 2).text() == "Connected")

    qtbot.keyClicks(child(window, QLineEdit, "noteEdit"), "wants express delivery")
    qtbot.mouseClick(child(window, QPushButton, "addNoteButton"), Qt.LeftButton)
    await wait_until(lambda: any(n.get("text") == "wants express delivery"
                                 for n in first.pop.notes))

    consult = await first.consult("1002")
    await wait_until(lambda: second.pop.call_id == str(consult["call_id"]))
    assert second.pop.display_name() == "Ada Lovelace"
    assert second.pop.consulting_call_id == call_id
    await second.answer()
    await wait_until(lambda: "transfer" in first.calls.enabled_actions())
    assert child(window, QPushButton, "transferButton").isEnabled()
    qtbot.mouseClick(child(window, QPushButton, "transferButton"), Qt.LeftButton)

    await wait_until(lambda: first.calls.my_calls() == [])
    # The consultation pop already carried the note; wait for the transferred call's own pop.
    await wait_until(lambda: second.pop.call_id not in (call_id, str(consult["call_id"])))
    assert [n.get("text") for n in second.pop.notes] == ["wants express delivery"]
    assert second.pop.display_name() == "Ada Lovelace"
    assert [c["calling"] for c in second.calls.my_calls()] == [CALLER]
    handled = {e["call_id"]: e for e in first.history.entries}
    assert handled[call_id]["customer"] == "Ada Lovelace"
    assert handled[call_id]["number"] == CALLER and handled[call_id]["answered"]


@pytest_twisted.ensureDeferred
async def test_supervisor_board_follows_agents_on_the_real_server(live_server, desktops, qtbot,
                                                                  wait_until):
    running, switch = live_server
    agent, sup = desktops(running.url), desktops(running.url)
    await sup.login("sup", PASSWORD)
    await sup.when_synced()
    window = SupervisorWindow(sup)
    qtbot.addWidget(window)
    await agent.login("1001", PASSWORD, "1001")
    await agent.set_ready()
    await wait_until(lambda: sup.supervisor.agents.get("1001", {}).get("status") == "ready")
    assert "sales" in sup.supervisor.queues
    call_id = switch.inbound_call(CALLER, "1001")
    await wait_until(lambda: agent.pop.call_id == call_id)
    await agent.answer()
    await wait_until(lambda: sup.supervisor.agent_call("1001", list(sup.calls.calls.values())))
    window.agents.selectRow([r["agent_id"] for r in sup.supervisor.agent_rows()].index("1001"))
    assert child(window, QPushButton, "listenButton").isEnabled()


@pytest_twisted.ensureDeferred
async def test_dropped_stream_reconnects_and_keeps_the_call(live_server, desktops, wait_until):
    running, switch = live_server
    model = desktops(running.url)
    await model.login("1001", PASSWORD, "1001")
    await model.when_synced()
    call_id = switch.inbound_call(CALLER, "1001")
    await wait_until(lambda: model.pop.call_id == call_id)
    await model.answer()
    await wait_until(lambda: "hold" in model.calls.enabled_actions())
    statuses = []
    model.status_changed.connect(lambda status, detail: statuses.append(status))
    for stream in list(running.server.hub.streams):
        stream.close(1001)
    await wait_until(lambda: statuses[-2:] == ["reconnecting", "connected"])
    await model.when_synced()
    assert [c["call_id"] for c in model.calls.my_calls()] == [call_id]
    assert model.pop.display_name() == "Ada Lovelace"
    await model.hold()
    await wait_until(lambda: "retrieve" in model.calls.enabled_actions())


@pytest_twisted.ensureDeferred
async def test_restarted_desktop_rebuilds_the_pop_of_the_call_in_progress(live_server, desktops,
                                                                         wait_until):
    running, switch = live_server
    before = desktops(running.url)
    await before.login("1001", PASSWORD, "1001")
    call_id = switch.inbound_call(CALLER, "1001")
    await wait_until(lambda: before.pop.call_id == call_id)
    await before.answer()
    await before.add_note("caller is in a hurry")
    before.shutdown()

    after = desktops(running.url)
    await after.login("1001", PASSWORD, "1001")
    await after.when_synced()
    await wait_until(lambda: after.pop.call_id == call_id)
    assert after.pop.display_name() == "Ada Lovelace"
    assert [t["subject"] for t in after.pop.open_tickets()] == ["Difference engine"]
    assert [n["text"] for n in after.pop.notes] == ["caller is in a hurry"]
    assert after.calls.enabled_actions(call_id) >= {"hangup", "hold"}


@pytest_twisted.ensureDeferred
async def test_call_that_rang_before_login_is_popped_by_the_callers_number(live_server,
                                                                           desktops, wait_until):
    running, switch = live_server
    call_id = switch.inbound_call(CALLER, "1001")
    model = desktops(running.url)
    await model.login("1001", PASSWORD, "1001")
    await model.when_synced()
    await wait_until(lambda: model.pop.call_id == call_id and model.pop.customer)
    assert model.pop.display_name() == "Ada Lovelace"
    assert model.calls.enabled_actions(call_id) == {"answer", "deflect", "hangup"}


@pytest_twisted.ensureDeferred
async def test_supervisor_sets_another_agents_state(live_server, desktops, qtbot, wait_until):
    running, _ = live_server
    agent, sup = desktops(running.url), desktops(running.url)
    await agent.login("1002", PASSWORD, "1002")
    await agent.set_ready()
    await sup.login("sup", PASSWORD)
    await sup.when_synced()
    window = SupervisorWindow(sup)
    qtbot.addWidget(window)
    await wait_until(lambda: sup.supervisor.agents.get("1002", {}).get("status") == "ready")
    window.agents.selectRow([r["agent_id"] for r in sup.supervisor.agent_rows()].index("1002"))
    assert not child(window, QPushButton, "agent_readyButton").isEnabled()
    qtbot.mouseClick(child(window, QPushButton, "agent_not_readyButton"), Qt.LeftButton)
    await wait_until(lambda: agent.agent_state.status == "not_ready")
    assert sup.last_error is None


@pytest_twisted.ensureDeferred
async def test_consult_then_conference_keeps_everyone_on_the_call(live_server, desktops,
                                                                  wait_until):
    running, switch = live_server
    first, second = desktops(running.url), desktops(running.url)
    await first.login("1001", PASSWORD, "1001")
    await second.login("1002", PASSWORD, "1002")
    await first.when_synced()
    await second.when_synced()
    call_id = switch.inbound_call(CALLER, "1001")
    await wait_until(lambda: first.pop.call_id == call_id)
    await first.answer()
    await wait_until(lambda: "consult" in first.calls.enabled_actions())
    await first.consult("1002")
    await wait_until(lambda: "answer" in second.calls.enabled_actions())
    await second.answer()
    await wait_until(lambda: "conference" in first.calls.enabled_actions())
    await first.conference()
    await wait_until(lambda: len(first.calls.my_calls()) == 1
                     and len(first.calls.my_calls()[0]["parties"]) == 3)
    parties = {p["device"]: p["state"] for p in first.calls.my_calls()[0]["parties"]}
    assert parties == {CALLER: "connected", "1001": "connected", "1002": "connected"}
    await wait_until(lambda: [c["calling"] for c in second.calls.my_calls()] == [CALLER])


@pytest_twisted.ensureDeferred
async def test_supervisor_listens_in_from_their_own_extension(live_server, desktops, qtbot,
                                                              wait_until):
    running, switch = live_server
    agent, sup = desktops(running.url), desktops(running.url)
    await agent.login("1001", PASSWORD, "1001")
    await sup.login("sup", PASSWORD, "1003")
    await sup.when_synced()
    window = SupervisorWindow(sup)
    qtbot.addWidget(window)
    call_id = switch.inbound_call(CALLER, "1001")
    await wait_until(lambda: agent.pop.call_id == call_id)
    await agent.answer()
    await wait_until(lambda: sup.supervisor.agent_call("1001", list(sup.calls.calls.values())))
    window.agents.selectRow([r["agent_id"] for r in sup.supervisor.agent_rows()].index("1001"))
    qtbot.mouseClick(child(window, QPushButton, "listenButton"), Qt.LeftButton)
    await wait_until(lambda: any(p.get("device") == "1003" for c in sup.calls.calls.values()
                                 for p in c.get("parties") or []) or sup.last_error)
    assert sup.last_error is None


@pytest_twisted.ensureDeferred
async def test_card_edit_ticket_and_disposition_are_stored_by_the_real_server(live_server,
                                                                             desktops,
                                                                             wait_until):
    running, switch = live_server
    model = desktops(running.url)
    await model.login("1001", PASSWORD, "1001")
    await model.when_synced()
    call_id = switch.inbound_call(CALLER, "1001")
    await wait_until(lambda: model.pop.call_id == call_id)
    await model.answer()
    customer_id = model.pop.customer_id
    model.pop.set_field("company", "Analytical Engines Ltd")
    model.pop.set_field("notes", "call back after 3 pm")
    await model.save_customer()
    assert not model.pop.dirty
    stored = await model.client.customer(customer_id)
    assert (stored["company"], stored["notes"]) == ("Analytical Engines Ltd", "call back after 3 pm")
    assert stored["name"] == "Ada Lovelace" and stored["vip"] is True

    await model.create_ticket("complaint", "Engine jammed", "Gear 4 stuck")
    assert model.pop.open_tickets()[0]["subject"] == "Engine jammed"
    assert "Engine jammed" in [t["subject"] for t in await model.client.tickets(customer_id)]

    codes = [d["code"] for d in model.dispositions]
    assert codes, "the server lists disposition codes"
    await model.set_disposition(codes[0], "sorted out")
    assert model.pop.disposition_saved
    assert any(i.get("disposition") == codes[0] for i in model.pop.interactions)


async def _answered_after_a_pop(model, switch, caller, wait_until):
    """Agent 1001 logged in; `caller` rings, pops and is answered: the call's ID."""
    await model.login("1001", PASSWORD, "1001")
    await model.when_synced()
    call_id = switch.inbound_call(caller, "1001")
    await wait_until(lambda: model.pop.call_id == call_id)
    await model.answer()
    return call_id


async def _hang_up_and_dispose(model, code, wait_until):
    await model.hangup()
    await wait_until(lambda: model.calls.my_calls() == [])
    await model.set_disposition(code)


@pytest_twisted.ensureDeferred
async def test_unknown_caller_saved_as_customer_during_the_call_has_the_call_in_history(
        live_server, desktops, wait_until):
    running, switch = live_server
    model = desktops(running.url)
    call_id = await _answered_after_a_pop(model, switch, "+49305550199", wait_until)
    assert model.pop.is_new_customer
    model.pop.set_field("name", "Grace Hopper")
    created = await model.save_customer()
    await model.add_note("first call")
    await _hang_up_and_dispose(model, "sale", wait_until)
    history = await model.client.interactions(created["id"])
    assert [(i["call_id"], i["disposition"]) for i in history] == [(call_id, "sale")]
    assert "first call" in history[0]["notes"]
    assert history[0]["ended"] is not None and history[0]["ended"] >= history[0]["time"]
    assert [i["call_id"] for i in model.pop.interactions] == [call_id]


@pytest_twisted.ensureDeferred
async def test_known_callers_disposition_goes_through_the_call(live_server, desktops,
                                                               wait_until):
    running, switch = live_server
    model = desktops(running.url)
    call_id = await _answered_after_a_pop(model, switch, CALLER, wait_until)
    assert model.pop.customer and not model.pop.customer_new_to_call
    await _hang_up_and_dispose(model, "resolved", wait_until)
    assert model.pop.interactions[0]["call_id"] == call_id


@pytest_twisted.ensureDeferred
async def test_supervisor_without_a_phone_is_not_alerted_by_the_agents_calls(
        live_server, desktops, qtbot, wait_until):
    """A supervisor logged in without an extension sees the tenant's calls on the board, but
    none of them rings, fills the calls panel or the call history of their agent window."""
    running, switch = live_server
    agent, sup = desktops(running.url), desktops(running.url)
    await sup.login("sup", PASSWORD)
    await sup.when_synced()
    window = MainWindow(sup, use_tray=False)
    qtbot.addWidget(window)
    window.show()
    await agent.login("1001", PASSWORD, "1001")
    call_id = switch.inbound_call(CALLER, "1001")
    await wait_until(lambda: agent.notifier.current and call_id in sup.calls.calls)
    assert sup.notifier.current is None and not window.alert.isVisible()
    assert sup.calls.my_calls() == [] and child(window, QTableWidget, "callsTable").rowCount() == 0
    await agent.answer()
    await wait_until(lambda: sup.supervisor.agent_call("1001", list(sup.calls.calls.values())))
    switch.clear_call(call_id)
    await wait_until(lambda: sup.calls.calls == {})
    assert sup.history.entries == [] and sup.calls.my_calls() == []


@pytest_twisted.ensureDeferred
async def test_a_dialled_customer_gets_the_card_the_note_and_the_disposition(live_server,
                                                                            desktops,
                                                                            wait_until):
    """An outbound call has no screen pop from the server: the card turns to the dialled
    customer, so the note and the disposition are the outbound call's, not the last caller's."""
    running, switch = live_server
    model = desktops(running.url)
    earlier = await _answered_after_a_pop(model, switch, "+49307654321", wait_until)
    await _hang_up_and_dispose(model, "resolved", wait_until)
    assert model.pop.display_name() == "Charles Babbage"

    await model.dial(CALLER)
    await wait_until(lambda: model.calls.my_calls() and model.pop.display_name() == "Ada Lovelace")
    (outbound,) = [c["call_id"] for c in model.calls.my_calls()]
    assert model.pop.call_id == outbound != earlier
    await model.add_note("called back about the quote")
    assert [n["text"] for n in (await model.client.call(outbound))["notes"]] == [
        "called back about the quote"]
    await _hang_up_and_dispose(model, "sale", wait_until)
    history = await model.client.interactions(model.pop.customer_id)
    assert (history[0]["call_id"], history[0]["disposition"]) == (outbound, "sale")
    assert "called back about the quote" in history[0]["notes"]

