"""A ring-all queue run by the live server against the simulated switch over loopback: every
ready agent's telephone rings with the one call, the first to answer takes it and the others
stop ringing and stay ready; nobody answering hands the call back to its queue once and the
agents follow the RONA rule; a telephone rejecting the call is the agent's reject while the
others ring on. On a link that cannot alert several devices at once the agents
ring one after another within the ring timeout. Both ways into a queue are covered: a pilot
number routed by the server (RouteSelect) and a queue device the call is deflected from.
Every assertion about ringing reads the simulated switch's own state."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import replace

import pytest
import pytest_twisted
from twisted.internet import defer, reactor, task
from twisted.logger import LogLevel, formatEvent, globalLogPublisher

from cti.server import testing
from db import agents as db_agents
from db import calls as db_calls
from db import queues as db_queues
from db.tenants import get_tenant
from tests.server.test_server_acd_routing import (  # noqa: F401 - pilot_pbx: a shared fixture
    ENTRIES,
    PILOT,
    QUEUE_DEVICE,
    alerting,
    pilot_pbx,
    ready,
)

AGENTS = ("1001", "1002", "1003")


def start(tmp_path, pbx, *, parallel: bool, ring_timeout: int):
    """(running server, API client): the link routes the pilot; pilot and queue device lead
    to queue `sales`, ring-all over agents 1001-1003."""
    link = pbx.link()
    link = replace(link, route_devices=(PILOT,),
                   options={**link.options, "parallel_alerting": parallel})
    running = pytest_twisted.blockon(testing.start_server(tmp_path, links=[link]))
    client = testing.ApiClient(running.url)

    def prepare(conn):
        tenant = get_tenant(conn, "acme")
        db_queues.update_queue(conn, tenant, "sales", strategy="ring-all",
                               ring_timeout_seconds=ring_timeout)
        db_queues.create_number(conn, tenant, PILOT, queue="sales")

    pytest_twisted.blockon(running.services.db.run(prepare))
    pytest_twisted.blockon(running.services.acd.reload("acme"))
    pytest_twisted.blockon(running.links_ready())
    pytest_twisted.blockon(testing.wait_for(
        lambda: any(d == PILOT for d in pbx.switch.registrations.values())))
    return running, client


def serving(tmp_path, pbx, parallel):
    running, client = start(tmp_path, pbx, parallel=parallel, ring_timeout=2 if parallel else 3)
    yield running, client, pbx
    pytest_twisted.blockon(client.close())
    pytest_twisted.blockon(running.stop())


@pytest.fixture
def ring_all(tmp_path, pilot_pbx):  # noqa: F811 - the imported fixture
    """(running server, API client, pbx) on a link alerting several devices at once."""
    yield from serving(tmp_path, pilot_pbx, parallel=True)


@pytest.fixture
def in_turn(tmp_path, pilot_pbx):  # noqa: F811 - the imported fixture
    """(running server, API client, pbx) on a link alerting one device at a time."""
    yield from serving(tmp_path, pilot_pbx, parallel=False)


@defer.inlineCallbacks
def call_for_all(client, pbx, entry):
    """Every agent ready, then one caller at `entry`: fires with the call's ID."""
    yield ready(client, *AGENTS)
    return pbx.switch.inbound_call("+4930111222", entry)


@defer.inlineCallbacks
def all_ringing(running, client, pbx, entry):
    """A caller at `entry` ringing every agent's telephone: fires with (call ID, tenant ACD)."""
    call_id = yield call_for_all(client, pbx, entry)
    yield testing.wait_for(lambda: alerting(pbx, call_id) == set(AGENTS))
    return call_id, running.services.acd.tenants["acme"]


@defer.inlineCallbacks
def queue_log(running, call_id, complete=lambda rows: True, timeout=5.0):
    """(event, agent number) rows of the call in the queue log, once `complete` says they
    are all there (rows are written in the background) or `timeout` has passed."""

    def read(conn):
        tenant = get_tenant(conn, "acme")
        numbers = {a.id: a.number for a in db_agents.list_agents(conn, tenant)}
        return [(row.event, numbers.get(row.agent_id))
                for row in db_calls.queue_events(conn, tenant) if row.call_id == call_id]

    waited = 0.0
    while True:
        rows = yield running.services.db.run(read)
        if complete(rows) or waited >= timeout:
            return rows
        yield task.deferLater(reactor, 0.05, lambda: None)
        waited += 0.05


@ENTRIES
@pytest_twisted.inlineCallbacks
def test_every_ready_agent_rings_and_the_second_to_answer_takes_the_call(ring_all, entry):
    running, client, pbx = ring_all
    call_id, acd = yield all_ringing(running, client, pbx, entry)
    assert {acd.engine.agents[n].state for n in AGENTS} == {"ringing"}

    pbx.switch.answer_call(call_id, "1002")
    yield testing.wait_for(lambda: acd.engine.agents["1002"].state == "in_call")
    assert {d: c.state for d, c in pbx.switch.calls[call_id].connections.items()} == {
        "+4930111222": "connected", "1002": "connected"}
    for other in ("1001", "1003"):
        agent = acd.engine.agents[other]
        assert (agent.state, agent.status) == ("idle", "available"), other
        assert pbx.switch.snapshot_device(other) == []
    assert call_id not in acd.offered
    rows = yield queue_log(running, call_id, lambda rows: ("connect", "1002") in rows)
    assert [row for row in rows if row[0] == "connect"] == [("connect", "1002")]
    assert not [row for row in rows if row[0] == "ring-no-answer"]


@ENTRIES
@pytest_twisted.inlineCallbacks
def test_nobody_answering_hands_the_call_back_once_and_the_agents_go_not_ready(ring_all,
                                                                               entry):
    running, client, pbx = ring_all
    call_id, acd = yield all_ringing(running, client, pbx, entry)
    yield testing.wait_for(lambda: acd.engine.calls[call_id].state == "waiting", timeout=6)
    yield testing.wait_for(lambda: entry in pbx.switch.calls[call_id].connections)
    assert alerting(pbx, call_id) == set()
    assert pbx.switch.calls[call_id].connections[entry].state == "queued"
    for number in AGENTS:
        agent = acd.engine.agents[number]
        assert (agent.state, agent.status, agent.reason) == ("idle", "not_ready", "rona")
        assert pbx.switch.snapshot_device(number) == []
    rows = yield queue_log(running, call_id, lambda rows: len(rows) >= 4)
    assert sorted(n for e, n in rows if e == "ring-no-answer") == list(AGENTS)
    assert not [row for row in rows if row[0] == "connect"]

    yield ready(client, "1003")
    yield testing.wait_for(lambda: alerting(pbx, call_id) == {"1003"})
    pbx.switch.answer_call(call_id, "1003")
    yield testing.wait_for(lambda: acd.engine.agents["1003"].state == "in_call")


@ENTRIES
@pytest_twisted.inlineCallbacks
def test_the_caller_hanging_up_while_all_ring_frees_every_agent(ring_all, entry):
    running, client, pbx = ring_all
    call_id, acd = yield all_ringing(running, client, pbx, entry)
    pbx.switch.clear_connection(call_id, "+4930111222")
    yield testing.wait_for(lambda: call_id not in acd.engine.calls)
    assert call_id not in pbx.switch.calls and not acd.offered
    for number in AGENTS:
        agent = acd.engine.agents[number]
        assert (agent.state, agent.status) == ("idle", "available"), number
    rows = yield queue_log(running, call_id, lambda rows: ("abandon", None) in rows)
    assert [row for row in rows if row[0] in ("abandon", "ring-no-answer", "connect")] == [
        ("abandon", None)]


@pytest_twisted.inlineCallbacks
def test_an_agent_busy_elsewhere_stops_ringing_and_the_others_go_on(ring_all):
    running, client, pbx = ring_all
    call_id, acd = yield all_ringing(running, client, pbx, QUEUE_DEVICE)
    pbx.switch.make_call("1003", "+4930999888")
    yield testing.wait_for(lambda: alerting(pbx, call_id) == {"1001", "1002"})
    assert acd.engine.agents["1003"].state == "in_call"
    assert set(acd.offered[call_id].agents) == {"1001", "1002"}
    pbx.switch.answer_call(call_id, "1001")
    yield testing.wait_for(lambda: acd.engine.agents["1001"].state == "in_call")
    assert acd.engine.agents["1002"].state == "idle"


@ENTRIES
@pytest_twisted.inlineCallbacks
def test_a_telephone_rejecting_the_call_is_a_reject_and_the_others_ring_on(ring_all, entry):
    running, client, pbx = ring_all
    call_id, acd = yield all_ringing(running, client, pbx, entry)
    yield rejects(pbx, acd, call_id, "1003")
    assert (acd.engine.agents["1003"].state, acd.engine.agents["1003"].status) == (
        "idle", "not_ready")
    assert alerting(pbx, call_id) == {"1001", "1002"}
    assert {acd.engine.agents[n].state for n in ("1001", "1002")} == {"ringing"}
    assert set(acd.offered[call_id].agents) == {"1001", "1002"}

    pbx.switch.answer_call(call_id, "1002")
    yield testing.wait_for(lambda: acd.engine.agents["1002"].state == "in_call")
    assert (acd.engine.agents["1001"].state, acd.engine.agents["1001"].status) == (
        "idle", "available")
    rows = yield queue_log(running, call_id, lambda rows: ("connect", "1002") in rows)
    assert [row for row in rows if row[0] in ("ring-no-answer", "connect")] == [
        ("ring-no-answer", "1003"), ("connect", "1002")]


@pytest_twisted.inlineCallbacks
def test_the_last_telephone_rejecting_gives_the_caller_back_to_the_queue_at_once(ring_all):
    """The switch ends a call nobody is left to ring: the caller is the queue's again before
    the ring timeout, then gone; nobody tries to move the call back from a silent phone."""
    running, client, pbx = ring_all
    call_id, acd = yield all_ringing(running, client, pbx, QUEUE_DEVICE)
    with warnings() as logged:
        for number in AGENTS:
            yield rejects(pbx, acd, call_id, number)
        yield testing.wait_for(lambda: call_id not in acd.engine.calls, timeout=1)
    assert call_id not in pbx.switch.calls and not acd.offered
    assert {(a.state, a.status) for n, a in acd.engine.agents.items() if n in AGENTS} == {
        ("idle", "not_ready")}
    rows = yield queue_log(running, call_id, lambda rows: ("abandon", None) in rows)
    assert sorted(n for e, n in rows if e == "ring-no-answer") == list(AGENTS)
    assert ("abandon", None) in rows
    assert logged == []


def rejects(pbx, acd, call_id, number):
    """The telephone of agent `number` stops alerting with the call on its own (the user
    rejects it): fires once the ACD has the agent's reject, well within the ring timeout."""
    pbx.switch.clear_connection(call_id, number)
    return testing.wait_for(lambda: acd.engine.agents[number].reason == "rejected", timeout=1)


@contextmanager
def warnings():
    """The server's warnings meanwhile, as text."""
    seen = []

    def observe(event):
        if event.get("log_level") == LogLevel.warn:
            seen.append(formatEvent(event))

    globalLogPublisher.addObserver(observe)
    try:
        yield seen
    finally:
        globalLogPublisher.removeObserver(observe)


@ENTRIES
@pytest_twisted.inlineCallbacks
def test_a_link_without_parallel_alerting_rings_the_agents_in_turn(in_turn, entry):
    running, client, pbx = in_turn
    call_id = yield call_for_all(client, pbx, entry)
    yield testing.wait_for(lambda: len(alerting(pbx, call_id)) == 1)
    (first,) = alerting(pbx, call_id)
    yield testing.wait_for(lambda: alerting(pbx, call_id) - {first}, timeout=2)
    (second,) = alerting(pbx, call_id)
    acd = running.services.acd.tenants["acme"]
    assert {acd.engine.agents[n].state for n in AGENTS} == {"ringing"}

    pbx.switch.answer_call(call_id, second)
    yield testing.wait_for(lambda: acd.engine.agents[second].state == "in_call")
    for other in set(AGENTS) - {second}:
        agent = acd.engine.agents[other]
        assert (agent.state, agent.status) == ("idle", "available"), other
    rows = yield queue_log(running, call_id, lambda rows: ("connect", second) in rows)
    assert [row for row in rows if row[0] in ("connect", "ring-no-answer")] == [
        ("connect", second)]
    assert not acd.offered


@pytest_twisted.inlineCallbacks
def test_in_turn_nobody_answering_hands_the_call_back_to_the_pilot(in_turn):
    running, client, pbx = in_turn
    call_id = yield call_for_all(client, pbx, PILOT)
    rang = set()

    def ringing_now():
        rang.update(alerting(pbx, call_id))
        return PILOT in pbx.switch.calls[call_id].connections and len(rang) == 3

    yield testing.wait_for(ringing_now, timeout=6)
    acd = running.services.acd.tenants["acme"]
    yield testing.wait_for(lambda: acd.engine.calls[call_id].state == "waiting")
    assert {acd.engine.agents[n].reason for n in AGENTS} == {"rona"}
    assert not acd.offered
