"""A server that runs for weeks keeps no state per call once the call is over.

Two hundred calls go through the real server and the CSTA simulator on loopback: inbound to
the queue device, delivered by the ACD to agents, answered, some transferred and some
conferenced after a consultation made through the API, some abandoned while queued, some
disposed (after the call, or through an old ID of a transferred call), some never disposed;
event streams come and go meanwhile. Afterwards every container the server holds, found by
walking its objects, is no bigger than after a warm-up of the same calls, except the ones
allow-listed below as bounded by design, which must be within their bound. A per-call map
added later is caught without naming it here.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
import pytest_twisted
from twisted.internet import defer, task

from cti.server import testing
from cti.server.testing import EventStreamClient, wait_for

AGENTS = tuple(str(n) for n in range(1001, 1009))
"""Agents (and their extensions): 1001..1003 are seeded, the others added here."""
OUTSIDE = tuple(str(n) for n in range(2001, 2009))
"""Monitored extensions no agent sits at, one per agent: consulted, then given the caller."""
QUEUE = "1900"
KNOWN = "+49301234567"
"""Ada Lovelace: a customer, so the pop finds one and dispositions name her."""
KINDS = ("cleared", "transfer", "disposed_after", "conference", "disposed_live", "never")
WAVES = 22
ABANDON_BATCHES = 3
"""WAVES * len(AGENTS) + ABANDON_BATCHES * len(AGENTS) = 200 calls."""

CONTAINERS = (dict, set, list, deque, frozenset)
WALKED = ("cti.", "drivers.", "db.")
"""Modules whose objects the walk enters: the server's own, its drivers', its database's."""

BOUNDED: dict[str, str] = {
    "history._records": "a deque with maxlen: the model's bounded history of ended calls",
    "pops._ended": "customers of ended calls, dropped with their call's history record",
    "pools[*]._heap": "an idle-agent heap with lazy deletion, rebuilt once over twice the "
                      "live agents + 64 (cti/acd/pools.py KeyedPool)",
    "stats._queue_intervals[*]": "per 15-minute interval, not per call (AcdRunner never calls "
                                 "Stats.prune: reported); a 30 s run may start one more",
    "stats._agent_intervals[*]": "as above, per agent",
}
"""Path suffix -> why it may differ from its size before the calls (checked by `_within`)."""


def _walk(root: Any, path: str = "server") -> dict[str, int]:
    """Path pattern -> summed size of every container reachable from `root` through objects
    of WALKED modules (attributes, dict values, sequence items; `[*]` stands for any key)."""
    sizes: dict[str, int] = {}
    seen: set[int] = set()

    def visit(value: Any, at: str) -> None:
        if id(value) in seen:
            return
        if isinstance(value, CONTAINERS):
            seen.add(id(value))
            sizes[at] = sizes.get(at, 0) + len(value)
            if any(at.endswith(bounded) for bounded in BOUNDED):
                return
            items = value.values() if isinstance(value, dict) else (
                value if isinstance(value, (list, deque)) else ())
            for item in items:
                visit(item, at + "[*]")
            return
        if isinstance(value, tuple):
            for item in value:
                visit(item, at + "[*]")
            return
        if not type(value).__module__.startswith(WALKED) or isinstance(value, type) \
                or callable(value) and not hasattr(value, "__dict__"):
            return
        seen.add(id(value))
        for name, attribute in _attributes(value):
            visit(attribute, f"{at}.{name}")

    visit(root, path)
    return sizes


def _attributes(obj: Any) -> Iterator[tuple[str, Any]]:
    yield from getattr(obj, "__dict__", {}).items()
    for cls in type(obj).__mro__:
        for name in getattr(cls, "__slots__", ()):
            if name != "__weakref__" and hasattr(obj, name):
                yield name, getattr(obj, name)


def _within(path: str, before: int, after: int, services: Any) -> bool:
    if path.endswith("history._records"):
        return after <= services.calls.history_capacity
    if path.endswith("pops._ended"):
        return after <= services.calls.history_capacity
    if path.endswith("._heap"):
        return after <= 2 * len(AGENTS) + 64
    return after <= before + 1


def _quiet(services: Any) -> bool:
    """Nothing batched waits to be written or published (those batches drain by themselves
    within a second; measured before they do, they would look like growth)."""
    return (services.contexts.idle and not services._agent_rows and not services.db._records
            and not services._queue_pending)


def _leaks(before: dict[str, int], after: dict[str, int], services: Any) -> dict[str, tuple]:
    out = {}
    for path, size in after.items():
        was = before.get(path, 0)
        bounded = next((b for b in BOUNDED if path.endswith(b)), None)
        if bounded is not None:
            if not _within(path, was, size, services):
                out[path] = (was, size, "over its bound")
        elif size > was:
            out[path] = (was, size)
    return out


def _serve(tmp_path: Any, pbx: testing.SimulatedPbx, link: Any, prepare: Any = None) -> Any:
    """(running server, API client, pbx) for a fixture; `prepare(conn)` edits the database
    before the links come up."""
    running = pytest_twisted.blockon(testing.start_server(tmp_path, links=[link]))
    if prepare is not None:
        pytest_twisted.blockon(running.services.db.run(prepare))
    pytest_twisted.blockon(running.links_ready())
    client = testing.ApiClient(running.url)
    yield running, client, pbx
    for close in (client.close, running.stop, pbx.close):
        pytest_twisted.blockon(close())


def _more_agents(conn: Any) -> None:
    """Agents 1004.. at their extensions, members of queue sales like the seeded ones."""
    from db import agents, queues, tenants

    tenant = tenants.get_tenant(conn, "acme")
    for number in AGENTS[3:]:
        agent = agents.create_agent(conn, tenant, number, testing.PASSWORD,
                                    name=f"Agent {number}", extension=number,
                                    skills={"sales": 5})
        queues.add_queue_member(conn, tenant, "sales", agent.id)


@pytest.fixture
def site(tmp_path):
    pbx = testing.SimulatedPbx(extensions=(*AGENTS, *OUTSIDE))
    yield from _serve(tmp_path, pbx, pbx.link(), _more_agents)


class Traffic:
    """Drives calls of every kind, as the switch's callers and the agents' desktops would."""

    def __init__(self, running: Any, client: Any, pbx: Any, tokens: dict[str, str]) -> None:
        self.running, self.client, self.pbx, self.tokens = running, client, pbx, tokens
        self.calls = 0

    @property
    def services(self) -> Any:
        return self.running.services

    def _alerting_agent(self, call_id: str) -> str | None:
        call = self.pbx.switch.calls.get(call_id)
        if call is None:
            return None
        return next((d for d, c in call.connections.items()
                     if c.state == "alerting" and d in AGENTS), None)

    def _connected(self, call_id: str, device: str) -> bool:
        call = self.services.calls.live(call_id)
        conn = call.connections.get(device) if call is not None else None
        return conn is not None and conn.state == "connected"

    @defer.inlineCallbacks
    def _post(self, path: str, body: dict, token: str, expected: int = 200) -> Any:
        status, answer = yield self.client.post(path, body, token)
        assert status == expected, (path, status, answer)
        return answer

    @defer.inlineCallbacks
    def wave(self, index: int) -> Any:
        """One call per agent, each ending its own way."""
        callers = [KNOWN if n % 2 == 0 else f"+4930555{index:03d}{n}"
                   for n in range(len(AGENTS))]
        call_ids = [self.pbx.switch.inbound_call(caller, QUEUE) for caller in callers]
        self.calls += len(call_ids)
        yield wait_for(lambda: all(self._alerting_agent(c) for c in call_ids), timeout=10)
        agents = [self._alerting_agent(c) for c in call_ids]
        work = [self._one(call_id, agent, KINDS[(n + index) % len(KINDS)], n)
                for n, (call_id, agent) in enumerate(zip(call_ids, agents, strict=True))]
        yield defer.gatherResults(work, consumeErrors=True)

    @defer.inlineCallbacks
    def _one(self, call_id: str, agent: str, kind: str, n: int) -> Any:
        token = self.tokens[agent]
        self.pbx.switch.answer_call(call_id, agent)
        yield wait_for(lambda: self._connected(call_id, agent), timeout=10)
        if kind in ("transfer", "conference"):
            yield self._merge(call_id, agent, kind, OUTSIDE[AGENTS.index(agent)], token)
            return
        if n % 2 == 0:
            yield wait_for(lambda: self.services.pops.customer_of(
                self.services.calls.live(call_id)) is not None, timeout=10)
        if kind == "disposed_live":
            yield self._post(f"/api/v1/calls/{call_id}/disposition", {"code": "sale"}, token,
                             201)
        yield self._post(f"/api/v1/calls/{call_id}/hangup", {}, token)
        yield wait_for(lambda: self.services.calls.live(call_id) is None, timeout=10)
        if kind == "disposed_after":
            answer = yield self._post(f"/api/v1/calls/{call_id}/disposition",
                                      {"code": "resolved", "notes": "ended first"}, token, 201)
            if n % 2 == 0:
                assert answer["customer_id"] is not None, "an ended call keeps its customer"

    @defer.inlineCallbacks
    def _merge(self, call_id: str, agent: str, kind: str, other: str, token: str) -> Any:
        """Consult `other` through the API, then transfer or conference; the caller leaves."""
        consult = (yield self._post(f"/api/v1/calls/{call_id}/consult", {"to": other},
                                    token))["call_id"]
        yield wait_for(lambda: self._alerting(consult, other), timeout=10)
        self.pbx.switch.answer_call(consult, other)
        yield wait_for(lambda: self._connected(consult, other), timeout=10)
        merged = (yield self._post(f"/api/v1/calls/{call_id}/{kind}",
                                   {"consult_call_id": consult}, token))["call_id"]
        if kind == "transfer":
            yield wait_for(lambda: agent not in getattr(
                self.services.calls.live(merged), "connections", {agent: 1}), timeout=10)
            # The old ID still names the call while it goes on at the consulted party.
            answer = yield self._post(f"/api/v1/calls/{call_id}/disposition",
                                      {"code": "callback"}, token, 201)
            assert answer["call_id"] == merged
        else:
            yield wait_for(lambda: self._connected(merged, other), timeout=10)
        self.pbx.switch.clear_call(merged)
        yield wait_for(lambda: self.services.calls.live(merged) is None, timeout=10)

    def _alerting(self, call_id: str, device: str) -> bool:
        call = self.services.calls.live(call_id)
        conn = call.connections.get(device) if call is not None else None
        return conn is not None and conn.state == "alerting"

    @defer.inlineCallbacks
    def abandoned(self, index: int) -> Any:
        """Callers hang up while queued: every agent is not ready."""
        yield self.set_ready(False)
        acd = self.services.acd.tenants["acme"]
        call_ids = [self.pbx.switch.inbound_call(f"+4930777{index:03d}{n}", QUEUE)
                    for n in range(len(AGENTS))]
        self.calls += len(call_ids)
        yield wait_for(lambda: all(c in acd.engine.calls for c in call_ids), timeout=10)
        for call_id in call_ids:
            self.pbx.switch.clear_call(call_id)
        yield wait_for(lambda: not any(c in acd.engine.calls for c in call_ids), timeout=10)
        yield self.set_ready(True)

    @defer.inlineCallbacks
    def set_ready(self, ready: bool) -> Any:
        body = {"state": "ready"} if ready else {"state": "not_ready", "reason": "break"}
        for token in self.tokens.values():
            yield self._post("/api/v1/agents/me/state", body, token)

    @defer.inlineCallbacks
    def visiting_stream(self) -> Any:
        """A desktop that logs in, listens a while and logs out."""
        session = yield self.client.login("sup")
        stream = yield EventStreamClient.connect(self.running.url, session["token"])
        yield stream.next_event("hello")
        yield self.client.request("DELETE", "/api/v1/sessions/current", session["token"])
        yield stream.close()

    def settled(self) -> bool:
        services = self.services
        acd = services.acd.tenants["acme"]
        return (not self.pbx.switch.calls and not list(services.calls.calls())
                and not acd.engine.calls and _quiet(services)
                and len(services.hub.streams) == len(self.tokens) + 1  # the agents', sup's
                and all(a.state == "idle" for a in services.agents.of_tenant("acme")))


@pytest_twisted.inlineCallbacks
def test_two_hundred_calls_leave_no_state_behind(site):
    running, client, pbx = site
    tokens = {}
    streams = []
    try:
        for number in AGENTS:
            tokens[number] = (yield client.login(number, extension=number))["token"]
            streams.append((yield EventStreamClient.connect(running.url, tokens[number])))
        sup = yield client.login("sup")
        streams.append((yield EventStreamClient.connect(running.url, sup["token"])))
        traffic = Traffic(running, client, pbx, tokens)
        yield traffic.set_ready(True)

        # Warm-up: whatever is kept per tenant, queue, agent or link is there from now on.
        for index in range(len(KINDS)):
            yield traffic.wave(-1 - index)
        yield traffic.abandoned(999)
        yield traffic.visiting_stream()
        yield wait_for(traffic.settled, timeout=10)
        before = _walk(running.server)
        traffic.calls = 0

        for index in range(WAVES):
            yield traffic.wave(index)
            if index % 8 == 3:
                yield traffic.abandoned(index)
            if index % 5 == 0:
                yield traffic.visiting_stream()
        while traffic.calls < 200:
            yield traffic.abandoned(500 + traffic.calls)
        yield wait_for(traffic.settled, timeout=10)
        after = _walk(running.server)
    finally:
        for stream in streams:
            yield stream.close()

    assert traffic.calls == 200
    assert _leaks(before, after, running.services) == {}
    assert after["server.services.pops._ended"] > 0, "ended calls' customers are kept a while"
    history = {record.call_id for model in running.services.calls.models.values()
               for record in model.history}
    assert set(running.services.pops._ended) <= history


@pytest_twisted.inlineCallbacks
def test_a_call_no_event_will_end_is_swept_and_forgotten(site):
    """The agent sent the caller on to an outside number: no monitored device is left on the
    call to report its end, and a quiet link sends no event to settle it. The sweep ends it:
    recorded, its pop data gone but for the customer kept for a late disposition."""
    running, client, pbx = site
    services = running.services
    token = (yield client.login("1001", extension="1001"))["token"]
    for model in services.calls.models.values():
        model.unobserved_grace = 0.1
    call_id = pbx.switch.inbound_call(KNOWN, "1001")
    yield wait_for(lambda: services.pops.customer_of(services.calls.live(call_id)) is not None
                   if services.calls.live(call_id) else False)
    pbx.switch.answer_call(call_id, "1001")
    yield wait_for(lambda: services.agents.get("acme", "1001").state == "in_call")
    status, body = yield client.post(f"/api/v1/calls/{call_id}/single-step-transfer",
                                     {"to": "+4930999888"}, token)
    assert status == 200, body
    yield wait_for(lambda: services.agents.get("acme", "1001").state == "idle")
    from twisted.internet import reactor

    yield task.deferLater(reactor, 0.3, lambda: None)
    assert services.calls.live(call_id) is not None, "no event came to settle it"
    assert services._sweep_timer.active(), "the sweep is due later"

    services.sweep_calls()
    assert services.calls.live(call_id) is None
    record = services.calls.ended(call_id)
    assert record.cause == "unobserved"
    assert services.pops._customers == {} and services.pops.customer_of(record) is not None
    answer = yield client.post(f"/api/v1/calls/{call_id}/disposition", {"code": "sale"}, token)
    assert answer[0] == 201 and answer[1]["customer_id"] is not None


def _ended_calls(model, *call_ids):
    """Records of calls that went through `model` and ended, one per ID, in order."""
    from cti.events import CALL_CLEARED, DELIVERED, Event

    records = []
    for n, call_id in enumerate(call_ids):
        model.apply(Event(DELIVERED, 100.0 + n, call_id=call_id, device="1001",
                          calling="+4930111"))
        model.apply(Event(CALL_CLEARED, 100.5 + n, call_id=call_id))
        records.append(model.history.find(call_id))
    return records


def test_ended_calls_customers_are_as_many_as_the_history_holds():
    from types import SimpleNamespace

    from cti.server.calls import LinkCalls
    from cti.server.screenpop import ScreenPops

    calls = LinkCalls(history_size=3)
    model = calls.add_link("pbx1", ["1001"])
    pops = ScreenPops(SimpleNamespace(calls=calls))
    records = _ended_calls(model, "1", "2", "3", "4")
    for customer, record in enumerate(records, start=10):
        pops.remember(customer, record.call_id)
        pops.ended([record])
    assert list(pops._ended) == ["2", "3", "4"] and pops._customers == {}
    assert [pops.customer_of(r) for r in records] == [None, 11, 12, 13]
    # The switch reuses ID 4 for a call no customer was found for: it names nobody.
    [again] = _ended_calls(model, "4")
    pops.ended([again])
    assert pops.customer_of(again) is None and list(pops._ended) == ["2", "3"]


def test_the_walk_finds_a_new_per_call_map(site):
    """The walk is what catches a map added later: one hidden deep in the server shows."""
    running, _, _ = site
    services = running.services
    before = _walk(running.server)
    services.agents._spare = {"call-1": 1, "call-2": 2}
    services.pops._customers["call-3"] = 7
    try:
        after = _walk(running.server)
    finally:
        del services.agents._spare
        services.pops._customers.clear()
    assert _leaks(before, after, services) == {
        "server.agents._spare": (0, 2), "server.services.pops._customers": (0, 1)}


@pytest.fixture
def resyncing(tmp_path):
    """A server whose link snapshots the switch on (re)connect and reconnects at once."""
    pbx = testing.SimulatedPbx()
    yield from _serve(tmp_path, pbx, replace(pbx.link(), options={
        "keepalive": 0, "reconnect_initial": 0.1}))


@pytest_twisted.inlineCallbacks
def test_calls_a_snapshot_ends_after_a_link_drop_leave_no_state_behind(resyncing):
    """The switch cleared the calls while the link was down: no clearing event ever comes,
    the snapshot alone says they are gone, and the server forgets them all the same."""
    running, client, pbx = resyncing
    services = running.services
    link = running.server.links.links["pbx1"]
    agents = ("1001", "1002")
    for number in agents:
        token = (yield client.login(number, extension=number))["token"]
        status, _ = yield client.post("/api/v1/agents/me/state", {"state": "ready"}, token)
        assert status == 200

    @defer.inlineCallbacks
    def calls_up() -> Any:
        call_ids = [pbx.switch.inbound_call(KNOWN, number) for number in agents]
        for call_id, number in zip(call_ids, agents, strict=True):
            yield wait_for(lambda c=call_id: services.calls.live(c) is not None
                           and services.pops.customer_of(services.calls.live(c)) is not None)
            pbx.switch.answer_call(call_id, number)
        yield wait_for(lambda: all(services.agents.get("acme", n).state == "in_call"
                                   for n in agents))
        return call_ids

    def settled() -> bool:
        return (not list(services.calls.calls()) and _quiet(services)
                and all(services.agents.get("acme", n).state == "idle" for n in agents))

    for call_id in (yield calls_up()):
        pbx.switch.clear_call(call_id)
    yield wait_for(settled)
    before = _walk(running.server)

    yield calls_up()
    for protocol in list(pbx.factory.connections):
        protocol.transport.loseConnection()
    yield wait_for(lambda: not link.up)
    for call_id in list(pbx.switch.calls):
        pbx.switch.clear_call(call_id)
    yield wait_for(lambda: link.up, timeout=10)
    yield running.links_ready()
    yield wait_for(settled, timeout=10)
    after = _walk(running.server)

    assert [services.agents.get("acme", n).calls for n in agents] == [{}, {}]
    assert _leaks(before, after, services) == {}
