"""The desktop's one controller: a logged-in session, its event stream and every viewmodel.

Widgets and test automation call the methods here (login, answer, consult, transfer, save the
customer, ...); events from the stream and answers from REST update the viewmodels, whose signals
repaint the widgets. Every action returns a Deferred that fails with the client's ApiError; the
same one-line message is also reported through `error` so the window can show it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from twisted.internet import defer
from twisted.python.failure import Failure

from desktop.client import CONNECTED, ApiClient, ApiError, EventStream
from desktop.viewmodels.address_book import AddressBookModel
from desktop.viewmodels.agent_state import AgentStateModel
from desktop.viewmodels.calls import CallHistoryModel, CallsModel
from desktop.viewmodels.cards import CardKeeper
from desktop.viewmodels.notification import IncomingCallNotifier
from desktop.viewmodels.observable import Signal
from desktop.viewmodels.screenpop import ScreenPopModel
from desktop.viewmodels.supervisor import SupervisorModel

CALL_EVENT_NAMES = frozenset({
    "service_initiated", "originated", "delivered", "established", "held", "retrieved",
    "connection_cleared", "call_cleared", "transferred", "conferenced", "diverted", "failed",
    "queued", "network_reached",
})
SUPERVISOR_ROLES = frozenset({"supervisor", "administrator"})


def consume(d: defer.Deferred) -> defer.Deferred:
    """For UI callers: the error was already reported through DesktopModel.error."""
    return d.addErrback(lambda _failure: None)


class DesktopModel:
    """Session + viewmodels + actions. `clock` gives epoch seconds (injected for tests)."""

    def __init__(self, client: ApiClient, clock: Callable[[], float] = time.time,
                 stream_options: dict[str, Any] | None = None,
                 hello_timeout: float = 3.0) -> None:
        self.client = client
        self.clock = clock
        self.stream_options = stream_options or {}
        self.hello_timeout = hello_timeout
        self.session: dict[str, Any] | None = None
        self.dispositions: list[dict[str, str]] = []
        self.connection = "stopped"
        self.connection_detail = ""
        self.last_error: str | None = None
        self.stream: EventStream | None = None

        self.agent_state = AgentStateModel(clock)
        self.calls = CallsModel(clock)
        self.history = CallHistoryModel(clock)
        self.pop = ScreenPopModel()
        self.address_book = AddressBookModel()
        self.supervisor = SupervisorModel(clock)
        self.notifier = IncomingCallNotifier()

        self.error = Signal()
        self.status_changed = Signal()
        self.session_changed = Signal()
        self.synced = Signal()

        self._awaiting_hello = False
        self._syncs = 0
        self._hello_timer: Any = None
        self._sync_waiters: list[defer.Deferred] = []
        self.calls.alerting.connect(self._on_alerting)
        self.calls.ended.connect(self._on_ended)
        self.calls.changed.connect(self._dismiss_answered)
        self.cards = CardKeeper(self.calls, self.pop, self._build_card)
        self.calls.changed.connect(self.cards.follow)

    # -- session -------------------------------------------------------------------------------

    @property
    def role(self) -> str:
        return (self.session or {}).get("role") or ""

    @property
    def is_supervisor(self) -> bool:
        return self.role in SUPERVISOR_ROLES

    @property
    def extension(self) -> str | None:
        return (self.session or {}).get("extension")

    @property
    def agent_id(self) -> str | None:
        return (self.session or {}).get("agent_id")

    def login(self, user: str, password: str, extension: str | None = None,
              tenant: str | None = None) -> defer.Deferred:
        """Log in, load the lists (reasons, dispositions, directory), open the event stream.

        Fires with the session once logged in; `when_synced()` fires once the stream's first
        `hello` (or the REST fallback) has restored the calls and the agent state.
        """

        async def go() -> dict[str, Any]:
            session = await self.client.login(user, password, extension, tenant)
            self._set_session(session)
            await self._load_lists()
            self.start_stream()
            return session

        return self._guard(defer.Deferred.fromCoroutine(go()))

    def _set_session(self, session: dict[str, Any]) -> None:
        self.session = session
        self.calls.extension = session.get("extension")
        self.session_changed.emit()

    async def _fetch(self, what: str, pending: defer.Deferred) -> Any:
        """A list the desktop can live without: a failure is reported, not fatal."""
        try:
            return await pending
        except ApiError as exc:
            self._report(f"could not load {what}: {exc}")
            return None

    async def _load_lists(self) -> None:
        reasons = await self._fetch("reasons", self.client.reasons()) or []
        self.agent_state.set_reasons(reasons)
        self.supervisor.set_reasons(reasons)
        dispositions = await self._fetch("dispositions", self.client.dispositions()) or []
        self.dispositions = [d for d in dispositions if d.get("code")]
        self.address_book.set_entries(
            await self._fetch("the directory", self.client.directory()) or [])
        if self.is_supervisor:
            await self.refresh_supervisor()

    async def refresh_supervisor(self) -> None:
        agents = await self._fetch("agents", self.client.agents())
        if agents is not None:
            self.supervisor.set_agents(agents)
        queues = await self._fetch("queues", self.client.queues())
        if queues is not None:
            self.supervisor.set_queues(queues)

    def start_stream(self) -> None:
        if self.stream is None:
            self.stream = EventStream(self.client, self.handle_event, self._on_stream_status,
                                      **self.stream_options)
        self.stream.start()

    def when_synced(self) -> defer.Deferred:
        """Fires once the stream has (re)stored the state; at once if it already has."""
        if self.connection == CONNECTED and not self._awaiting_hello:
            return defer.succeed(None)
        waiter: defer.Deferred = defer.Deferred()
        self._sync_waiters.append(waiter)
        return waiter

    def logout(self) -> defer.Deferred:
        self.shutdown()
        return self._guard(self.client.logout())

    def shutdown(self) -> None:
        """Stop the stream and timers (closing the window, tests' teardown)."""
        if self.stream is not None:
            self.stream.stop()
        self._cancel_hello_timer()

    # -- the event stream ----------------------------------------------------------------------

    def _on_stream_status(self, status: str, detail: str) -> None:
        self.connection, self.connection_detail = status, detail
        if status == CONNECTED:
            self._awaiting_hello = True
            self._cancel_hello_timer()
            self._hello_timer = self.client.reactor.callLater(
                self.hello_timeout, lambda: defer.ensureDeferred(self.resync())
            )
        self.status_changed.emit(status, detail)

    def handle_event(self, event: dict[str, Any]) -> None:
        """One event object of the stream (tests feed recorded ones here directly)."""
        name = event.get("event")
        if name == "hello":
            self._apply_hello(event)
            return
        if name == "pong":
            return
        if self._awaiting_hello:
            defer.ensureDeferred(self.resync())
        if name == "call":
            self._apply_call_event(event)
        elif name == "agent_state":
            agent = event["agent"] if isinstance(event.get("agent"), dict) else event
            self._apply_agent(agent)
        elif name == "queue_stats":
            queue = event["queue"] if isinstance(event.get("queue"), dict) else event
            self.supervisor.update_queue(queue)
        elif name == "screen_pop":
            self._apply_pop(event)
        elif name in CALL_EVENT_NAMES:
            self.calls.apply_event(event)

    def _apply_hello(self, hello: dict[str, Any]) -> None:
        self._cancel_hello_timer()
        if hello.get("session"):
            merged = {**(self.session or {}), **hello["session"]}
            if merged != self.session:
                self._set_session(merged)
        self.calls.reset(hello.get("calls") or [])
        if hello.get("agent") is not None:
            self._apply_agent(hello["agent"])
        self._synced()
        defer.ensureDeferred(self._restore_after_connect())

    async def resync(self) -> None:
        """Restore over REST (GET /calls, /agents/me) when no `hello` came."""
        if not self._awaiting_hello:
            return
        self._cancel_hello_timer()
        self._awaiting_hello = False
        try:
            calls = await self.client.calls()
            self.calls.reset(calls or [])
            if self.extension:
                self._apply_agent(await self.client.me())
        except ApiError as exc:
            self._report(str(exc))
        self._synced()
        await self._restore_after_connect()

    async def _restore_after_connect(self) -> None:
        """After a reconnect: the supervisor's tables and the pop of a call still going on."""
        try:
            if self.is_supervisor and self._syncs > 1:
                await self.refresh_supervisor()
            current = self.calls.current()
            if current is not None and not self.pop.matches(str(current["call_id"])):
                await self._rebuild_pop(current)
        except ApiError as exc:
            self._report(str(exc))

    async def _rebuild_pop(self, call: dict[str, Any]) -> None:
        customer, interactions, tickets = None, [], []
        customer_id = call.get("customer_id")
        caller = self.calls.other_party(call)
        if customer_id is None and caller:
            found = await self.client.find_customers(phone=caller)
            if isinstance(found, list) and len(found) == 1:
                customer_id = found[0].get("id")
        if customer_id is not None:
            customer = await self.client.customer(customer_id)
            interactions = await self.client.interactions(customer_id)
            tickets = await self.client.tickets(customer_id)
        self.pop.load({
            "call_id": call["call_id"], "agent": self.agent_id, "device": self.extension,
            "customer": customer, "interactions": interactions, "tickets": tickets,
            "data": call.get("data") or {}, "notes": call.get("notes") or [],
            "calling": call.get("calling"), "called": call.get("called"),
        })
        self.pop.call_customer_id = call.get("customer_id")

    def _synced(self) -> None:
        self._syncs += 1
        self._awaiting_hello = False
        waiters, self._sync_waiters = self._sync_waiters, []
        for waiter in waiters:
            waiter.callback(None)
        self.synced.emit()

    def _cancel_hello_timer(self) -> None:
        if self._hello_timer is not None and self._hello_timer.active():
            self._hello_timer.cancel()
        self._hello_timer = None

    def _apply_call_event(self, event: dict[str, Any]) -> None:
        call = event.get("call") or {}
        if not call.get("call_id"):
            return
        if event.get("kind") == "ended":
            self.calls.remove(str(call["call_id"]))
        else:
            self.calls.upsert(call)
        self.pop.follow_call(call)

    def _apply_agent(self, agent: dict[str, Any]) -> None:
        if agent.get("agent_id") is not None and str(agent.get("agent_id")) == str(self.agent_id):
            self.agent_state.update(agent)
        elif self.agent_id is None and self.extension and agent.get("extension") == self.extension:
            self.agent_state.update(agent)
        if self.is_supervisor and agent.get("agent_id") is not None:
            self.supervisor.update_agent(agent)

    def _apply_pop(self, pop: dict[str, Any]) -> None:
        mine = (self.agent_id is not None and pop.get("agent") == self.agent_id) or (
            self.extension is not None and pop.get("device") == self.extension
        )
        if not mine:
            return
        self.cards.offer(pop)
        self.notifier.enrich(str(pop.get("call_id")), (pop.get("customer") or {}).get("name"))

    def _on_alerting(self, call: dict[str, Any]) -> None:
        call_id = str(call["call_id"])
        name = self.pop.display_name() if self.pop.matches(call_id) and self.pop.customer else None
        self.notifier.alerting(call_id, self.calls.other_party(call), name, call.get("queue"))

    async def _build_card(self, call: dict[str, Any]) -> None:
        try:
            await self._rebuild_pop(call)
        except ApiError as exc:
            self._report(str(exc))

    def _dismiss_answered(self) -> None:
        current = self.notifier.current
        if current is None:
            return
        call = self.calls.calls.get(current["call_id"])
        if call is None or self.calls.my_state(call) != "alerting":
            self.notifier.dismiss(current["call_id"])

    def _on_ended(self, call: dict[str, Any]) -> None:
        call_id = str(call.get("call_id"))
        same_customer = self.pop.customer_id is not None and (
            call.get("customer_id") == self.pop.customer_id)
        name = self.pop.display_name() if self.pop.matches(call_id) or same_customer else None
        name = name or self.cards.parked_name(call_id)
        self.history.record(self.calls, call, name)

    # -- errors --------------------------------------------------------------------------------

    def _report(self, message: str) -> None:
        self.last_error = message
        self.error.emit(message)

    def _guard(self, d: defer.Deferred) -> defer.Deferred:
        def failed(failure: Failure) -> Failure:
            if failure.check(ApiError, ValueError):
                self._report(str(failure.value))
            else:
                self._report(f"{type(failure.value).__name__}: {failure.getErrorMessage()}")
            return failure

        return d.addErrback(failed)

    def _on_current(self, call_id: str | None) -> tuple[str, defer.Deferred | None]:
        """The call to act on (given, else the panel's current one), or a failed Deferred."""
        call = self.calls.calls.get(call_id) if call_id else self.calls.current()
        if call is None:
            return "", self._guard(defer.fail(ApiError("there is no call to act on", 409, "conflict")))
        return str(call["call_id"]), None

    # -- call control --------------------------------------------------------------------------

    def dial(self, number: str) -> defer.Deferred:
        number = number.strip()
        if not number:
            return self._guard(defer.fail(ApiError("enter a number to dial", 400, "bad_request")))
        return self._guard(self.client.make_call(number))

    def answer(self, call_id: str | None = None) -> defer.Deferred:
        if call_id is None:
            alerting = [c for c in self.calls.my_calls() if self.calls.my_state(c) == "alerting"]
            call_id = str(alerting[-1]["call_id"]) if alerting else None
        target, failed = self._on_current(call_id)
        return failed or self._guard(self.client.answer(target))

    def hangup(self, call_id: str | None = None) -> defer.Deferred:
        target, failed = self._on_current(call_id)
        return failed or self._guard(self.client.hangup(target))

    def hold(self, call_id: str | None = None) -> defer.Deferred:
        target, failed = self._on_current(call_id)
        return failed or self._guard(self.client.hold(target))

    def retrieve(self, call_id: str | None = None) -> defer.Deferred:
        if call_id is None:
            held = [c for c in self.calls.my_calls() if self.calls.my_state(c) == "hold"]
            call_id = str(held[-1]["call_id"]) if held else None
        target, failed = self._on_current(call_id)
        return failed or self._guard(self.client.retrieve(target))

    def consult(self, to: str, call_id: str | None = None) -> defer.Deferred:
        """Consultation call from the current call; remembers the pair for transfer."""
        target, failed = self._on_current(call_id)
        if failed:
            return failed

        def made(answer: dict[str, Any] | None) -> dict[str, Any] | None:
            if answer and answer.get("call_id"):
                self.calls.record_consult(target, str(answer["call_id"]))
            return answer

        return self._guard(self.client.consult(target, to.strip()).addCallback(made))

    def _pair(self, call_id: str | None) -> tuple[str, str] | defer.Deferred:
        call = self.calls.calls.get(call_id) if call_id else self.calls.current()
        pair = self.calls.consult_pair(str(call["call_id"])) if call else None
        if pair is None:
            return self._guard(defer.fail(
                ApiError("no consultation call to complete: consult first", 409, "conflict")))
        return pair

    def transfer(self, call_id: str | None = None) -> defer.Deferred:
        pair = self._pair(call_id)
        if isinstance(pair, defer.Deferred):
            return pair
        return self._guard(self.client.transfer(*pair))

    def conference(self, call_id: str | None = None) -> defer.Deferred:
        pair = self._pair(call_id)
        if isinstance(pair, defer.Deferred):
            return pair
        return self._guard(self.client.conference(*pair))

    def alternate(self, call_id: str | None = None) -> defer.Deferred:
        pair = self._pair(call_id)
        if isinstance(pair, defer.Deferred):
            return pair
        return self._guard(self.client.alternate(*pair))

    def reconnect(self, call_id: str | None = None) -> defer.Deferred:
        pair = self._pair(call_id)
        if isinstance(pair, defer.Deferred):
            return pair
        return self._guard(self.client.reconnect(*pair))

    def single_step_transfer(self, to: str, call_id: str | None = None) -> defer.Deferred:
        target, failed = self._on_current(call_id)
        return failed or self._guard(self.client.single_step_transfer(target, to.strip()))

    def deflect(self, to: str, call_id: str | None = None) -> defer.Deferred:
        target, failed = self._on_current(call_id)
        return failed or self._guard(self.client.deflect(target, to.strip()))

    def dtmf(self, digits: str, call_id: str | None = None) -> defer.Deferred:
        target, failed = self._on_current(call_id)
        return failed or self._guard(self.client.dtmf(target, digits))

    def monitor(self, agent_id: str, mode: str) -> defer.Deferred:
        """Supervisor: listen / whisper / barge on the call the agent is talking on."""
        call = self.supervisor.agent_call(agent_id, list(self.calls.calls.values()))
        if call is None:
            return self._guard(defer.fail(
                ApiError(f"agent {agent_id} is not on a call", 409, "conflict")))
        return self._guard(self.client.monitor(str(call["call_id"]), mode, self.extension))

    # -- agent state ---------------------------------------------------------------------------

    def _state(self, state: str, reason: str | None = None) -> defer.Deferred:
        def applied(answer: Any) -> Any:
            if isinstance(answer, dict) and answer.get("agent_id") is not None:
                self._apply_agent(answer)
            return answer

        return self._guard(self.client.set_state(state, reason).addCallback(applied))

    def set_ready(self) -> defer.Deferred:
        return self._state("ready")

    def set_not_ready(self, reason: str | None = None) -> defer.Deferred:
        return self._state("not_ready", reason)

    def wrap_up_done(self) -> defer.Deferred:
        return self._state("wrap_up_done")

    def set_agent_state(self, agent_id: str, state: str, reason: str | None = None) -> defer.Deferred:
        """Supervisor: change another agent's state."""
        return self._guard(self.client.set_state(state, reason, agent_id=agent_id))

    # -- the screen pop ------------------------------------------------------------------------

    def save_customer(self) -> defer.Deferred:
        """PUT the edited record (POST a new one for an unknown caller); nothing if unchanged."""
        if not self.pop.dirty:
            return defer.succeed(self.pop.customer)
        try:
            record = self.pop.record_for_save()
        except ValueError as exc:
            return self._guard(defer.fail(exc))
        if self.pop.customer_id is not None:
            d = self.client.update_customer(self.pop.customer_id, record)
        else:
            d = self.client.create_customer(record)

        def stored(customer: dict[str, Any] | None) -> dict[str, Any]:
            customer = customer or {**record, "id": self.pop.customer_id}
            self.pop.saved(customer)
            return customer

        return self._guard(d.addCallback(stored))

    def add_note(self, text: str) -> defer.Deferred:
        text = text.strip()
        if not text:
            return self._guard(defer.fail(ApiError("the note is empty", 400, "bad_request")))
        if self.pop.call_id is None:
            return self._guard(defer.fail(ApiError("there is no call to attach the note to",
                                                   409, "conflict")))

        def added(answer: Any) -> Any:
            if isinstance(answer, dict) and answer.get("call_id") is not None:
                self.pop.follow_call(answer)
            if not any(n.get("text") == text for n in self.pop.notes):
                self.pop.add_note({"time": None, "author": (self.session or {}).get("user"),
                                   "text": text})
            return answer

        return self._guard(self.client.add_note(self.pop.call_id, text).addCallback(added))

    def set_disposition(self, code: str, notes: str | None = None) -> defer.Deferred:
        """Record the call's outcome on the call, so the interaction keeps the call's times and
        the server lets the call's stored context go. A customer the server does not link to
        the call (a caller the agent saved as a new customer during it, the customer on an
        outbound call's card) is named in the request."""
        if self.pop.call_id is None:
            return self._guard(defer.fail(ApiError("there is no call to disposition",
                                                   409, "conflict")))
        call_id = self.pop.call_id

        def recorded(answer: Any) -> Any:
            self.pop.set_disposition(code, saved=True)
            self.history.annotate(call_id, disposition=code)
            if self.pop.customer_id is not None:
                return self.client.interactions(self.pop.customer_id).addCallback(
                    self.pop.set_interactions).addCallback(lambda _: answer)
            return answer

        named = self.pop.customer_id if self.pop.customer_new_to_call else None
        return self._guard(self.client.disposition(call_id, code, notes, named)
                           .addCallback(recorded))

    def create_ticket(self, type_: str, subject: str, body: str) -> defer.Deferred:
        if self.pop.customer_id is None:
            return self._guard(defer.fail(ApiError(
                "save the caller as a customer before opening a ticket", 409, "conflict")))
        if not subject.strip():
            return self._guard(defer.fail(ApiError("the ticket needs a subject", 400,
                                                   "bad_request")))

        def created(ticket: Any) -> Any:
            if isinstance(ticket, dict):
                self.pop.add_ticket(ticket)
            return ticket

        return self._guard(self.client.create_ticket(
            self.pop.customer_id, type_, subject.strip(), body).addCallback(created))
