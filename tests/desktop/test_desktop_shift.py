"""A compressed shift on the desktop: one agent, a colleague and a supervisor work two dozen calls
through the REAL server and the CSTA switch simulator, every step clicked in the REAL windows.

The agent logs in through the login dialog and goes ready; callers from outside (known
customers, strangers) dial two queues' numbers and the server's ACD deflects them to the agent.
For each call the in-window banner alerts, the pop names the customer (or offers to create
one), the agent answers, types a note, picks a disposition, hangs up and wraps up (ended by hand
on sales, by the one-second timer on support: no race between the two). Along the way: hold and retrieve, a consult-transfer and a conference
with the colleague, a ticket, an outbound call double-clicked in the address book, a break with
a reason code during which one queued caller gives up, and the logout at the end. The
supervisor's window watches the same queue; at the end its counters, the database and the
switch agree with what the test did, and nothing went wrong on the way.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
import pytest_twisted
from PyQt5.QtCore import Qt, QTimer
from PyQt5.QtWidgets import (
    QComboBox,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QTableWidget,
    QToolButton,
)
from twisted.internet import task
from twisted.logger import globalLogPublisher

from cti.server import testing
from cti.server.testing import PASSWORD
from db import agents as db_agents
from db import customers as db_customers
from db import queues as db_queues
from db.tenants import get_tenant
from desktop.app import DesktopApp
from desktop.client import ApiClient
from desktop.viewmodels.agent_state import label
from desktop.viewmodels.desktop import DesktopModel
from desktop.widgets.main_window import MainWindow
from desktop.widgets.supervisor_window import SupervisorWindow

SALES, SUPPORT = "1900", "1901"
"""The numbers of queue `sales` (wrap-up ended by hand: its timer is a minute) and of queue
`support` (wrap-up ended by its timer, after a second); agent 1001 works both."""
QUEUES = {SALES: "sales", SUPPORT: "support"}
ADA, BABBAGE = "+49301234567", "+49307654321"
HEAD_OFFICE = "+4940998877"
QT_WARNINGS_FAIL = pytest.mark.qt_log_level_fail("WARNING")
QT_OFFSCREEN_NOISE = pytest.mark.qt_log_ignore(
    "does not support propagateSizeHints", r"does not support raise\(\)",
    "does not support grabbing the keyboard")
"""Any Qt warning fails a shift, except the offscreen platform's notes on what it cannot do
(window hints, raising a popup menu, grabbing the keyboard for it)."""


def stranger(n: int) -> str:
    return f"+4930555{n:04d}"


async def until(predicate, what: str, timeout: float = 8.0) -> None:
    """Poll the shared reactor until `predicate()` holds; bounded, names what it waited for."""
    from twisted.internet import reactor

    deadline = reactor.seconds() + timeout
    while not predicate():
        if reactor.seconds() > deadline:
            raise AssertionError(f"not reached within {timeout}s: {what}")
        await task.deferLater(reactor, 0.01, lambda: None)


def child(window, cls, name):
    found = window.findChild(cls, name)
    assert found is not None, f"no {cls.__name__} named {name}"
    return found


def rows(table: QTableWidget) -> list[list[str]]:
    return [[table.item(r, c).text() if table.item(r, c) else ""
             for c in range(table.columnCount())] for r in range(table.rowCount())]


@dataclass
class Desk:
    """One agent window driven as a user does: clicks, typing, reading what is shown."""

    qtbot: object
    window: MainWindow
    model: DesktopModel
    errors: list[str] = field(default_factory=list)

    wrap_ups: int = 0
    """How many times the agent went into wrap-up (a one-second one may pass between polls)."""

    def __post_init__(self) -> None:
        self.model.error.connect(self.errors.append)
        self._state = None
        self.model.agent_state.changed.connect(self._state_changed)

    def _state_changed(self) -> None:
        state = self.model.agent_state.state
        if state == "wrap_up" and self._state != "wrap_up":
            self.wrap_ups += 1
        self._state = state

    def widget(self, cls, name):
        return child(self.window, cls, name)

    def click(self, name: str) -> None:
        button = self.widget(QPushButton, name)
        assert button.isEnabled() and button.isVisible(), f"{name} is not clickable"
        self.qtbot.mouseClick(button, Qt.LeftButton)

    def type(self, name: str, text: str, cls=QLineEdit) -> None:
        self.qtbot.keyClicks(self.widget(cls, name), text)

    def call_rows(self) -> list[list[str]]:
        return rows(self.widget(QTableWidget, "callsTable"))

    def call_states(self) -> list[str]:
        return [row[2] for row in self.call_rows()]

    def banner(self) -> str:
        banner = self.widget(QLabel, "incomingText")
        return banner.text() if self.widget(object, "incomingBanner").isVisible() else ""

    def title(self) -> str:
        return self.widget(QLabel, "customerTitle").text()

    def status(self) -> str:
        return self.widget(QLabel, "stateStatus").text()

    def state(self) -> str:
        return self.widget(QLabel, "stateDetail").text()

    async def alerted_by(self, number: str) -> str:
        await until(lambda: number in self.banner(), f"banner for {number}")
        await until(lambda: self.call_states() == ["Alerting"], "one alerting call in the table")
        return self.banner()

    async def answer(self, via: str = "button") -> None:
        """Answer with the calls panel's button, the banner's, or the F5 key."""
        if via == "F5":
            self.window.activateWindow()
            self.qtbot.keyClick(self.window, Qt.Key_F5)
        else:
            self.click("bannerAnswerButton" if via == "banner" else "answerButton")
        await until(lambda: self.call_states() == ["Connected"], "the call connected")
        await until(lambda: not self.banner(), "banner gone after answering")

    async def note(self, text: str) -> None:
        self.window.pop_tabs.setCurrentIndex(2)
        self.type("noteEdit", text)
        self.click("addNoteButton")
        notes = self.widget(object, "notesList")
        await until(lambda: any(text in notes.item(i).text() for i in range(notes.count())),
                    f"note {text!r} listed")
        await until(lambda: self.widget(QLineEdit, "noteEdit").text() == "", "note field cleared")

    async def dispose(self, code: str) -> None:
        combo = self.widget(QComboBox, "dispositionCombo")
        combo.setCurrentIndex(combo.findData(code))
        self.click("saveDispositionButton")
        state = self.widget(QLabel, "dispositionState")
        saved = f"Disposition saved: {label({}, code)}"
        await until(lambda: state.text() == saved, saved)

    async def pick_reason(self, name: str) -> None:
        """Click "Not ready ▾" and pick a reason in the menu that pops up (its own event loop
        runs until the pick, as on a desktop)."""
        button = self.widget(QToolButton, "notReadyButton")
        menu = button.menu()
        picked = []

        def pick() -> None:
            if not menu.isVisible():
                QTimer.singleShot(20, pick)
                return
            (action,) = [a for a in menu.actions() if a.objectName() == name]
            menu.setActiveAction(action)
            self.qtbot.keyClick(menu, Qt.Key_Return)
            picked.append(action.text())

        QTimer.singleShot(20, pick)
        self.qtbot.mouseClick(button, Qt.LeftButton)
        await until(lambda: picked and not menu.isVisible(), f"{name} picked")

    async def hold_and_retrieve(self) -> None:
        self.click("holdButton")
        await until(lambda: self.call_states() == ["Hold"], "call on hold")
        self.click("retrieveButton")
        await until(lambda: self.call_states() == ["Connected"], "call retrieved")

    async def hang_up(self) -> None:
        self.click("hangupButton")
        await until(lambda: self.call_states() == [], "call gone from the table")


@pytest.fixture
def site(request, tmp_path):
    """Switch simulator + real server; queue `sales` (number 1900) set for a short shift: its
    ring timeout in seconds is the fixture's parameter (default 15: nobody misses a call)."""
    ring_timeout = getattr(request, "param", 15)
    pbx = testing.SimulatedPbx(queues=(SALES, SUPPORT))
    running = pytest_twisted.blockon(testing.start_server(
        tmp_path, links=[pbx.link()], speed_dials=(("Head office", HEAD_OFFICE),)))

    def short_shift(conn):
        tenant = get_tenant(conn, "acme")
        timing = {"ring_timeout_seconds": ring_timeout, "service_level_seconds": 1}
        db_queues.update_queue(conn, tenant, "sales", wrapup_seconds=60, **timing)
        db_queues.create_queue(conn, tenant, "support", wrapup_seconds=1, **timing)
        agent = db_agents.get_agent_by_number(conn, tenant, "1001")
        db_queues.add_queue_member(conn, tenant, "support", agent.id)
        db_queues.create_number(conn, tenant, SUPPORT, queue="support")
        return tenant

    try:
        tenant = pytest_twisted.blockon(running.services.db.run(short_shift))
        # The running engine takes the changes made behind it (loaded at start or not yet).
        pytest_twisted.blockon(running.services.acd.reload(tenant.code))
        acd = pytest_twisted.blockon(running.services.acd.tenant(tenant))
        assert acd.engine.queues["support"].config.wrapup_seconds == 1
        assert acd.engine.queues["sales"].config.ring_timeout == ring_timeout
        pytest_twisted.blockon(running.links_ready())
        yield running, pbx
    finally:
        pytest_twisted.blockon(running.stop())
        pytest_twisted.blockon(pbx.close())


@pytest.fixture
def logged_failures():
    """Errors and failures logged through Twisted's logger while the test runs."""
    seen = []

    def observe(event):
        if event.get("log_failure") is not None or getattr(
                event.get("log_level"), "name", "") in ("error", "critical"):
            seen.append(event)

    globalLogPublisher.addObserver(observe)
    yield seen
    globalLogPublisher.removeObserver(observe)


class Windows:
    """Opens the desktops a test needs, logged in and shown, and closes them all at its end."""

    def __init__(self, qtbot, url: str) -> None:
        self.qtbot, self.url = qtbot, url
        self.apps: list[DesktopApp] = []
        self.models: list[DesktopModel] = []
        self.errors: list[str] = []
        """Every error any of the windows reported to its user."""

    async def _logged_in(self, user: str, extension: str | None = None) -> DesktopModel:
        model = DesktopModel(ApiClient(self.url))
        self.models.append(model)
        model.error.connect(self.errors.append)
        await model.login(user, PASSWORD, extension)
        await model.when_synced()
        return model

    async def supervisor(self) -> tuple[DesktopModel, SupervisorWindow]:
        model = await self._logged_in("sup")
        board = SupervisorWindow(model, tick_ms=50)
        self.qtbot.addWidget(board)
        board.show()
        return model, board

    async def agent(self, user: str) -> Desk:
        model = await self._logged_in(user, user)
        window = MainWindow(model, use_tray=False)
        self.qtbot.addWidget(window)
        window.show()
        return Desk(self.qtbot, window, model)

    def app(self) -> DesktopApp:
        """The desktop application as `cti desktop` runs it (login dialog first)."""
        from twisted.internet import reactor

        app = DesktopApp(reactor, self.url, use_tray=False)
        self.apps.append(app)
        return app

    def close(self) -> None:
        for app in self.apps:
            app.close()
        for model in self.models:
            model.shutdown()
            pytest_twisted.blockon(model.client.close())


@pytest.fixture
def windows(site, qtbot):
    opened = Windows(qtbot, site[0].url)
    yield opened
    opened.close()


@QT_WARNINGS_FAIL
@QT_OFFSCREEN_NOISE
@pytest_twisted.ensureDeferred
async def test_a_full_shift_from_the_desktop(site, windows, qtbot, logged_failures):
    running, pbx = site
    switch = pbx.switch

    # -- the supervisor opens the wallboard --------------------------------------------------
    sup_model, board = await windows.supervisor()
    agents_table = child(board, QTableWidget, "agentsTable")
    queues_table = child(board, QTableWidget, "queuesTable")
    callers_table = child(board, QTableWidget, "waitingCallersTable")

    def agent_row(agent_id: str) -> list[str]:
        return next((row for row in rows(agents_table) if row[0] == agent_id), [])

    def queue_row(name: str = "sales") -> list[str]:
        return next((row for row in rows(queues_table) if row[0] == name), [])

    # -- the colleague, logged in but not taking queue calls ----------------------------------
    colleague = await windows.agent("1002")

    # -- the agent logs in through the login dialog ------------------------------------------
    app = windows.app()
    app.ask_login("1001", "1001")
    dialog = app._dialog
    qtbot.keyClicks(child(dialog, QLineEdit, "loginPassword"), PASSWORD)
    qtbot.mouseClick(child(dialog, QPushButton, "loginButton"), Qt.LeftButton)
    await until(lambda: app.main_window is not None, "the agent window after logging in")
    window = app.main_window
    qtbot.addWidget(window)
    agent = Desk(qtbot, window, app.model)
    await app.model.when_synced()
    assert agent.status().startswith("Not ready")
    await until(lambda: agent_row("1001")[3:4] == ["Not ready – Login"],
                "supervisor sees the agent logged in, not ready")

    agent.click("readyButton")
    await until(lambda: agent.status() == "Ready", "agent ready")
    await until(lambda: agent_row("1001")[3:5] == ["Ready", "Idle"], "supervisor sees ready")

    offered = {"sales": 0, "support": 0}
    answered = {"sales": 0, "support": 0}
    handled: list[str] = []  # every call that left the agent's extension, in order
    saved: list[tuple[str, str, str, str]] = []  # (customer, call, disposition, note) typed

    async def wrap_up(by_hand: bool) -> None:
        """Sales calls: the agent ends wrap-up; support calls: its one-second timer does."""
        if by_hand:
            await until(lambda: agent.state() == "Wrap-up", "agent in wrap-up")
            timer = agent.widget(QLabel, "stateTimer")
            await until(lambda: timer.text().startswith("Wrap-up"), "wrap-up timer shown")
            agent.click("wrapUpDoneButton")
        await until(lambda: agent.state() == "Idle" and agent.status() == "Ready",
                    "wrap-up over")
        assert agent.wrap_ups == sum(answered.values()), "one wrap-up per queue call"
        assert not agent.widget(QPushButton, "wrapUpDoneButton").isVisible()

    async def take(caller: str, title: str, via: str = "button", number: str = SALES,
                   dial_in: bool = True) -> str:
        """A caller of queue `number` (dialled in now, or already waiting) rings and is
        answered."""
        if dial_in:
            switch.inbound_call(caller, number)
            offered[QUEUES[number]] += 1
        await agent.alerted_by(caller)
        await until(lambda: agent.title() == title, f"pop titled {title!r}")
        if not title.startswith("Unknown"):
            await until(lambda: title in agent.banner(), f"banner names {title}")
        await agent.answer(via)
        answered[QUEUES[number]] += 1
        await until(lambda: agent_row("1001")[4:5] == ["In call"], "supervisor sees in call")
        (call_id,) = [c.call_id for c in switch.calls.values() if caller in c.connections]
        return call_id

    async def close(title: str, call_id: str, note: str, code: str, by_hand: bool) -> None:
        """After the call left the extension: disposition, then wrap-up."""
        await agent.dispose(code)
        saved.append((title, call_id, code, note))
        if not title.startswith("Unknown"):
            # The customer's history on the card now starts with this call.
            history = agent.widget(QTableWidget, "interactionsTable")
            await until(lambda: [row[2:] for row in rows(history)[:1]]
                        == [[label({}, code), f"1001: {note}"]],
                        f"{title}'s history shows the call")
        await wrap_up(by_hand)

    async def finish(title: str, call_id: str, note: str, code: str,
                     by_hand: bool = True) -> None:
        await agent.note(note)
        await agent.hang_up()
        handled.append(call_id)
        await close(title, call_id, note, code, by_hand)

    async def queue_call(caller: str, title: str, *, note: str, code: str,
                         via: str = "button", hold: bool = False,
                         by_hand: bool = True) -> None:
        call_id = await take(caller, title, via, SALES if by_hand else SUPPORT)
        if hold:
            await agent.hold_and_retrieve()
        await finish(title, call_id, note, code, by_hand)

    # -- calls 1-5: known and unknown callers, a new customer, hold, wrap-up both ways --------
    await queue_call(ADA, "Ada Lovelace", note="asked about delivery", code="resolved",
                     via="banner")
    await queue_call(BABBAGE, "Charles Babbage", note="wants a callback", code="callback",
                     hold=True, by_hand=False)

    # An unknown caller: the card offers a new customer, the agent saves it during the call.
    grace = stranger(1)
    call_id = await take(grace, "Unknown caller – new customer")
    assert agent.widget(QLineEdit, "customerPhones").text() == grace
    agent.type("customerName", "Grace Hopper")
    agent.type("customerCompany", "Navy Labs")
    agent.click("saveCustomerButton")
    await until(lambda: agent.title() == "Grace Hopper", "new customer saved")
    assert not agent.widget(QPushButton, "saveCustomerButton").isEnabled()
    await finish("Grace Hopper", call_id, "first call, new customer", "sale")

    # The same number again: now the pop knows her.
    await queue_call(grace, "Grace Hopper", note="follow-up on the order", code="resolved",
                     hold=True)

    # A ticket on a known customer's call.
    call_id = await take(ADA, "Ada Lovelace")
    agent.window.pop_tabs.setCurrentIndex(1)
    ticket_type = agent.widget(QComboBox, "ticketType")
    ticket_type.setCurrentIndex(ticket_type.findData("complaint"))
    agent.type("ticketSubject", "Engine jammed")
    agent.type("ticketBody", "Gear 4 stuck since Monday", cls=QPlainTextEdit)
    agent.click("createTicketButton")
    tickets = agent.widget(QTableWidget, "ticketsTable")
    await until(lambda: any(row[2] == "Engine jammed" for row in rows(tickets)), "ticket listed")
    await finish("Ada Lovelace", call_id, "ticket opened", "complaint")

    # -- call 6: consult the colleague, transfer to her ---------------------------------------
    call_id = await take(ADA, "Ada Lovelace")
    await agent.note("needs the specialist")
    agent.type("dialNumber", "1002")
    agent.click("consultButton")
    await colleague.alerted_by("1001")
    await until(lambda: colleague.title() == "Ada Lovelace", "consultation pop names Ada")
    await until(lambda: agent.call_states() == ["Hold", "Connected"],
                "the customer on hold, the consultation up")
    consultation = next(c.call_id for c in switch.calls.values() if "1002" in c.connections)
    await colleague.answer()
    await until(lambda: agent.widget(QPushButton, "transferButton").isEnabled(),
                "transfer offered")
    agent.click("transferButton")
    await until(lambda: agent.call_states() == [], "agent's calls gone after the transfer")
    handled += [call_id, consultation]
    # The call lives on at the colleague under the ID the transfer gave it.
    (call_id,) = [c.call_id for c in switch.calls.values() if ADA in c.connections]
    await until(lambda: [row[0] for row in colleague.call_rows()] == [ADA],
                "colleague talks to Ada")
    colleague_notes = colleague.widget(object, "notesList")
    await until(lambda: any("needs the specialist" in colleague_notes.item(i).text()
                            for i in range(colleague_notes.count())), "the note travelled")
    await close("Ada Lovelace", call_id, "needs the specialist", "resolved", by_hand=True)
    await colleague.hang_up()

    # -- call 7: conference the colleague in --------------------------------------------------
    await take(BABBAGE, "Charles Babbage", number=SUPPORT)
    agent.type("dialNumber", "1002")
    agent.click("consultButton")
    await colleague.alerted_by("1001")
    await colleague.answer()
    await until(lambda: agent.widget(QPushButton, "conferenceButton").isEnabled(),
                "conference offered")
    agent.click("conferenceButton")
    await until(lambda: agent.call_states() == ["Connected"], "one conference call")
    await until(lambda: len(app.model.calls.my_calls()[0]["parties"]) == 3, "three parties")
    # The conference kept the consultation's ID: one call, one history entry.
    (call_id,) = [c.call_id for c in switch.calls.values() if BABBAGE in c.connections]
    await finish("Charles Babbage", call_id, "conference with the specialist", "resolved",
                 by_hand=False)
    assert colleague.call_states() == ["Connected"], "the colleague stays with him"
    await colleague.hang_up()

    # -- an outbound call from the address book (double-click) --------------------------------
    agent.window.side_tabs.setCurrentIndex(0)
    book = agent.widget(QTableWidget, "addressTable")
    row = next(r for r, cells in enumerate(rows(book)) if cells[1] == HEAD_OFFICE)
    where = book.visualItemRect(book.item(row, 0)).center()
    qtbot.mouseClick(book.viewport(), Qt.LeftButton, pos=where)
    qtbot.mouseDClick(book.viewport(), Qt.LeftButton, pos=where)
    await until(lambda: [r[0] for r in agent.call_rows()] == [HEAD_OFFICE], "outbound call up")
    (outbound,) = [c.call_id for c in switch.calls.values() if HEAD_OFFICE in c.connections]
    # The card turns to the dialled number (no customer yet), so the note is this call's.
    await until(lambda: agent.title() == "Unknown number – new customer", "outbound card")
    assert agent.widget(QLabel, "callerLabel").text() == f"Dialled {HEAD_OFFICE}"
    assert agent.widget(QLineEdit, "customerPhones").text() == HEAD_OFFICE
    switch.answer_call(outbound, HEAD_OFFICE)
    await until(lambda: agent.call_states() == ["Connected"], "head office answered")
    await agent.note("brochures ordered")
    await agent.hang_up()
    handled.append(outbound)
    await agent.dispose("sale")
    await until(lambda: agent.state() == "Idle", "no wrap-up after an outbound call")
    assert agent.status() == "Ready"

    # -- a break: the queue fills, one caller gives up ----------------------------------------
    await agent.pick_reason("reason_break")
    await until(lambda: agent.status() == "Not ready – Break", "agent on a break")
    await until(lambda: agent_row("1001")[3:4] == ["Not ready – Break"],
                "supervisor sees the break")
    quitter = switch.inbound_call(stranger(2), SALES)
    offered["sales"] += 1
    await until(lambda: [r[1] for r in rows(callers_table)] == [stranger(2)],
                "supervisor sees the caller waiting")
    await until(lambda: child(board, QLabel, "tileWaiting").text() == "1", "one waiting")
    await until(lambda: child(board, QLabel, "tileLongest").text() != "0:00",
                "longest wait counts up", timeout=4)
    assert queue_row()[1] == "1"
    assert agent_row("1001")[5] not in ("0:00", ""), "time on the break counts up"
    switch.clear_connection(quitter, stranger(2))
    await until(lambda: rows(callers_table) == [], "the caller gave up")
    await until(lambda: queue_row()[8:9] == ["1"], "supervisor counts the abandoned call")

    patient = stranger(3)
    switch.inbound_call(patient, SALES)
    offered["sales"] += 1
    await until(lambda: [r[1] for r in rows(callers_table)] == [patient], "next caller waits")
    # Waiting past the service-level time (1 s): this one is answered late.
    await until(lambda: rows(callers_table)[0][2] not in ("0:00", ""), "her wait counts up",
                timeout=4)
    assert agent.call_states() == []
    agent.click("readyButton")
    await until(lambda: agent_row("1001")[3] == "Ready" and agent_row("1001")[5] == "0:00",
                "supervisor sees the break end, time in state from zero")
    call_id = await take(patient, "Unknown caller – new customer", dial_in=False)
    await finish("Unknown caller – new customer", call_id, "waited during the break",
                 "callback")

    # -- the rest of the shift: a steady stream ------------------------------------------------
    for n in range(14):
        caller, title = [(ADA, "Ada Lovelace"), (BABBAGE, "Charles Babbage"),
                         (grace, "Grace Hopper"),
                         (stranger(10 + n), "Unknown caller – new customer")][n % 4]
        await queue_call(caller, title, note=f"call {n} of the afternoon",
                         code=("resolved", "sale", "callback")[n % 3],
                         via=("banner", "F5", "button")[n // 2 % 3], hold=n % 5 == 0,
                         by_hand=n % 3 != 1)

    # -- the supervisor's figures match the shift ----------------------------------------------
    abandoned = {"sales": 1, "support": 0}
    for name in ("sales", "support"):
        counted = [str(offered[name]), str(answered[name]), str(abandoned[name])]
        await until(lambda name=name, counted=counted: queue_row(name)[6:9] == counted,
                    f"supervisor counts {name}: offered, answered, abandoned {counted}")
    stats = {q["queue"]: q["stats"] for q in await sup_model.client.queues()}
    assert 0 < stats["sales"]["service_level"] < 1, "one caller waited past the SL time"
    overall = sum(s["service_level"] * s["answered"] for s in stats.values()) / sum(
        answered.values())
    assert child(board, QLabel, "tileServiceLevel").text() == f"{100 * overall:.0f}%"
    assert child(board, QLabel, "tileWaiting").text() == "0"
    assert int(agent_row("1001")[6]) == sum(answered.values())

    # -- the windows stayed healthy ------------------------------------------------------------
    history = agent.widget(QTableWidget, "historyTable")
    assert history.rowCount() == len(handled)
    assert sorted(e["call_id"] for e in app.model.history.entries) == sorted(handled)
    assert agent.call_rows() == [] and colleague.call_rows() == []
    assert sup_model.calls.calls == {}
    assert windows.errors == [] and agent.errors == []

    # -- logout: the agent closes the window ---------------------------------------------------
    window.close()
    await until(lambda: agent_row("1001")[3:4] == ["Logged out"], "supervisor sees logout")

    # -- what the server and the database hold after the shift ---------------------------------
    assert await sup_model.client.calls() == []
    assert switch.calls == {}
    me = next(a for a in await sup_model.client.agents() if a["agent_id"] == "1001")
    assert me["status"] == "logged_out"

    def stored(conn):
        tenant = get_tenant(conn, "acme")
        found = {}
        for name in ("Ada Lovelace", "Charles Babbage", "Grace Hopper"):
            (customer,) = db_customers.search_customers(conn, tenant, name)
            found[name] = db_customers.recent_interactions(conn, tenant, customer.id, limit=100)
        return found

    interactions = await running.services.db.run(stored)
    for name, found in interactions.items():
        typed = sorted((call, code, note) for who, call, code, note in saved if who == name)
        assert sorted((i.call_id, i.disposition, i.notes.split(": ", 1)[-1])
                      for i in found if i.call_id is not None) == typed, name
    assert logged_failures == []


@pytest.mark.parametrize("site", [2], indirect=True)
@QT_WARNINGS_FAIL
@QT_OFFSCREEN_NOISE
@pytest_twisted.ensureDeferred
async def test_a_call_the_agent_lets_ring_out_comes_back_once_ready(site, windows,
                                                                   logged_failures):
    """Ring-no-answer: the call goes back to the queue, the agent is paused and sees why, the
    missed ring is in the history; once ready again the same caller rings and is answered."""
    running, pbx = site
    _, board = await windows.supervisor()
    agent = await windows.agent("1001")
    agent.click("readyButton")
    await until(lambda: agent.status() == "Ready", "agent ready")

    call_id = pbx.switch.inbound_call(ADA, SALES)
    await agent.alerted_by(ADA)
    await until(lambda: not agent.banner() and agent.call_states() == [], "the ring timed out")
    await until(lambda: agent.status() == "Not ready – Missed call", "agent paused, told why")
    missed = rows(agent.widget(QTableWidget, "historyTable"))
    assert [(row[1], row[2]) for row in missed] == [("✗ missed", ADA)]
    callers = child(board, QTableWidget, "waitingCallersTable")
    await until(lambda: [row[1] for row in rows(callers)] == [ADA], "the caller waits again")
    agents = child(board, QTableWidget, "agentsTable")
    await until(lambda: [row[3] for row in rows(agents) if row[0] == "1001"]
                == ["Not ready – Missed call"], "supervisor sees why the agent is paused")

    agent.click("readyButton")
    await agent.alerted_by(ADA)
    await agent.answer(via="banner")
    assert [c.call_id for c in pbx.switch.calls.values()] == [call_id]
    await agent.hang_up()
    await until(lambda: agent.state() == "Wrap-up", "wrap-up after the answered call")
    agent.click("wrapUpDoneButton")
    await until(lambda: agent.state() == "Idle", "wrap-up over")
    history = agent.widget(QTableWidget, "historyTable")
    assert [row[1] for row in rows(history)] == ["↙ in", "✗ missed"]
    assert windows.errors == []
    assert logged_failures == []
