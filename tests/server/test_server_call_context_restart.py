"""A call's attached data, notes and customer outlive a server restart.

The server is stopped and a new one started on the same port, SQLite file and CSTA switch
simulator; it learns the calls still up from the switch's snapshot (same call IDs) and gives
them back what the agents had gathered, so the desktops' calls list and the pop they rebuild
from it show the notes again, and a transfer after the restart still carries them to the next
agent. The database going away meanwhile loses nothing either.
"""

from __future__ import annotations

import os
from dataclasses import replace

import pytest
import pytest_twisted
from sqlalchemy.engine import make_url

from cti.server import testing
from cti.server.testing import EventStreamClient, wait_for
from tests.db.test_spool import SqliteLock, TcpProxy
from tests.server.test_server_mariadb import mariadb_url  # noqa: F401 - shared fixture

CALLER = "+49301234567"


class Site:
    """The switch, whichever server runs in front of it, and an API client for it."""

    def __init__(self, pbx: testing.SimulatedPbx, running: testing.RunningServer) -> None:
        self.pbx, self.running = pbx, running
        self.client = testing.ApiClient(running.url)

    @pytest_twisted.inlineCallbacks
    def restart(self):
        """Restart once every context change is written (a restart under a database that is
        away is not what these tests are about); fires once the new server restored them."""
        yield wait_for(lambda: self.running.services.contexts.idle)
        self.running = yield testing.restart_server(self.running)
        yield self.running.links_ready()
        yield wait_for(lambda: self._rebuilt() and self.running.services.contexts.idle,
                       timeout=10)

    def _rebuilt(self) -> bool:
        return all(self.running.services.calls.live(call_id) is not None
                   for call_id in self.pbx.switch.calls)

    @pytest_twisted.inlineCallbacks
    def answered(self, token, stream, call_id, device):
        status, _ = yield self.client.post(f"/api/v1/calls/{call_id}/answer", {}, token)
        assert status == 200
        yield stream.next_event("established", device=device)


@pytest.fixture
def site(tmp_path):
    pbx, running = pytest_twisted.blockon(testing.start_restartable(tmp_path))
    site = Site(pbx, running)
    yield site
    pytest_twisted.blockon(site.client.close())
    pytest_twisted.blockon(site.running.stop())
    pytest_twisted.blockon(pbx.close())


@pytest_twisted.inlineCallbacks
def test_data_notes_and_customer_come_back_on_the_live_call_after_a_restart(site):
    agent = yield site.client.login("1001", extension="1001")
    stream = yield EventStreamClient.connect(site.running.url, agent["token"])
    try:
        call_id = site.pbx.switch.inbound_call(CALLER, "1001")
        pop = yield stream.next_event("screen_pop", call_id=call_id)
        yield site.answered(agent["token"], stream, call_id, "1001")
        status, _ = yield site.client.request("PATCH", f"/api/v1/calls/{call_id}/data",
                                              agent["token"], {"order": "A-17", "qty": 2})
        assert status == 200
        for text in ("wants express delivery", "call back before 5"):
            status, _ = yield site.client.post(f"/api/v1/calls/{call_id}/notes",
                                               {"text": text}, agent["token"])
            assert status == 201
        status, before = yield site.client.get(f"/api/v1/calls/{call_id}", agent["token"])
    finally:
        yield stream.close()

    yield site.restart()

    agent = yield site.client.login("1001", extension="1001")
    status, calls = yield site.client.get("/api/v1/calls", agent["token"])
    assert status == 200 and [c["call_id"] for c in calls] == [call_id]
    [call] = calls
    assert call["data"] == {"order": "A-17", "qty": 2}
    assert call["notes"] == before["notes"]
    assert [n["author"] for n in call["notes"]] == ["1001", "1001"]
    assert call["customer_id"] == pop["customer"]["id"]
    # What a desktop rebuilds its pop from when its stream comes back: the calls in `hello`.
    stream = yield EventStreamClient.connect(site.running.url, agent["token"])
    try:
        hello = yield stream.next_event("hello")
        [again] = hello["calls"]
        assert (again["data"], again["notes"], again["customer_id"]) == (
            call["data"], call["notes"], call["customer_id"])
        # Written through again after the restart, it survives the next one too.
        status, _ = yield site.client.post(f"/api/v1/calls/{call_id}/notes",
                                           {"text": "after the restart"}, agent["token"])
        assert status == 201
    finally:
        yield stream.close()

    yield site.restart()

    agent = yield site.client.login("1001", extension="1001")
    status, [call] = yield site.client.get("/api/v1/calls", agent["token"])
    assert [n["text"] for n in call["notes"]] == [
        "wants express delivery", "call back before 5", "after the restart"]


@pytest_twisted.inlineCallbacks
def test_a_call_rebuilt_after_a_restart_has_its_numbers_back(site):
    """The switch's snapshot lists the call's devices only; the numbers the agent saw come
    back from the stored context, for a caller no customer matched too."""
    agent = yield site.client.login("1001", extension="1001")
    stream = yield EventStreamClient.connect(site.running.url, agent["token"])
    try:
        call_id = site.pbx.switch.inbound_call("+4930999000", "1001")
        pop = yield stream.next_event("screen_pop", call_id=call_id)
        assert pop["customer"] is None
        yield site.answered(agent["token"], stream, call_id, "1001")
        status, before = yield site.client.get(f"/api/v1/calls/{call_id}", agent["token"])
    finally:
        yield stream.close()
    assert (before["calling"], before["called"], before["ani"]) == (
        "+4930999000", "1001", "+4930999000")

    yield site.restart()

    agent = yield site.client.login("1001", extension="1001")
    status, [call] = yield site.client.get("/api/v1/calls", agent["token"])
    assert {key: call[key] for key in ("calling", "called", "ani", "dnis")} == {
        key: before[key] for key in ("calling", "called", "ani", "dnis")}
    assert (call["data"], call["notes"], call["customer_id"]) == ({}, [], None)


@pytest_twisted.inlineCallbacks
def _consulting(site, then_transfer):
    """1001 answers the caller, attaches data, types a note and consults 1002, who answers;
    with `then_transfer` 1001 completes the transfer. Fires (call ID, consultation call ID,
    the pop 1002 got for the transferred call or None)."""
    first = yield site.client.login("1001", extension="1001")
    second = yield site.client.login("1002", extension="1002")
    one = yield EventStreamClient.connect(site.running.url, first["token"])
    two = yield EventStreamClient.connect(site.running.url, second["token"])
    moved = None
    try:
        call_id = site.pbx.switch.inbound_call(CALLER, "1001")
        yield one.next_event("screen_pop", call_id=call_id)
        yield site.answered(first["token"], one, call_id, "1001")
        yield site.client.request("PATCH", f"/api/v1/calls/{call_id}/data", first["token"],
                                  {"order": "A-17"})
        yield site.client.post(f"/api/v1/calls/{call_id}/notes",
                               {"text": "wants express delivery"}, first["token"])
        _, body = yield site.client.post(f"/api/v1/calls/{call_id}/consult", {"to": "1002"},
                                         first["token"])
        consult_id = body["call_id"]
        yield two.next_event("screen_pop", call_id=consult_id)
        yield site.answered(second["token"], two, consult_id, "1002")
        if then_transfer:
            moved = yield _transfer(site, first, two, call_id, consult_id)
    finally:
        yield one.close()
        yield two.close()
    return call_id, consult_id, moved


@pytest_twisted.inlineCallbacks
def _transfer(site, first, two, call_id, consult_id):
    """1001 transfers; fires with the pop 1002's stream `two` gets for the caller's call."""
    status, body = yield site.client.post(f"/api/v1/calls/{call_id}/transfer",
                                          {"consult_call_id": consult_id}, first["token"])
    assert status == 200, body
    pop = yield two.next_event("screen_pop", agent="1002", call_id=body["call_id"])
    assert pop["customer"]["name"] == "Ada Lovelace"
    assert pop["data"]["order"] == "A-17"
    assert [(n["author"], n["text"]) for n in pop["notes"]] == [
        ("1001", "wants express delivery")]
    return pop


@pytest_twisted.inlineCallbacks
def test_the_next_agent_has_the_first_agents_note_after_a_transfer_and_a_restart(site):
    _, _, moved = yield _consulting(site, then_transfer=True)

    yield site.restart()

    second = yield site.client.login("1002", extension="1002")
    stream = yield EventStreamClient.connect(site.running.url, second["token"])
    try:
        hello = yield stream.next_event("hello")
        [call] = hello["calls"]
        assert call["call_id"] == moved["call_id"]
        assert [(n["author"], n["text"]) for n in call["notes"]] == [
            ("1001", "wants express delivery")]
        assert call["data"] == {"order": "A-17"}
        assert call["customer_id"] == moved["customer"]["id"]
        assert call["ani"] == CALLER, "the caller's number, not the consulted agent's"
    finally:
        yield stream.close()


@pytest_twisted.inlineCallbacks
def test_a_transfer_completed_after_a_restart_pops_the_note_at_the_next_agent(site):
    call_id, consult_id, _ = yield _consulting(site, then_transfer=False)

    yield site.restart()

    first = yield site.client.login("1001", extension="1001")
    second = yield site.client.login("1002", extension="1002")
    two = yield EventStreamClient.connect(site.running.url, second["token"])
    try:
        yield two.next_event("hello")
        yield _transfer(site, first, two, call_id, consult_id)
    finally:
        yield two.close()


@pytest.fixture
def mariadb_site(mariadb_url):  # noqa: F811 - the shared fixture
    """The site on MariaDB, reached through a TCP proxy the test can cut."""
    url = make_url(mariadb_url)
    proxy = TcpProxy((url.host or "127.0.0.1", url.port or 3306))
    pbx = testing.SimulatedPbx()
    link = replace(pbx.link(), options={"keepalive": 0})
    config = testing.server_config(
        url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False),
        [link], database_upgrade=True)
    running = pytest_twisted.blockon(testing.start_server(config=config))
    pytest_twisted.blockon(running.server.database.run(testing.demo_tenant))
    pytest_twisted.blockon(running.links_ready())
    site = Site(pbx, running)
    yield site, proxy
    pytest_twisted.blockon(site.client.close())
    pytest_twisted.blockon(site.running.stop())
    pytest_twisted.blockon(pbx.close())
    proxy.close()


@pytest_twisted.inlineCallbacks
def test_a_note_added_while_the_database_is_away_is_stored_once_it_is_back(site, tmp_path):
    yield _note_while_the_database_is_away(site, SqliteLock(os.path.join(str(tmp_path),
                                                                         "cti.db")))


@pytest_twisted.inlineCallbacks
def test_a_note_added_while_mariadb_is_unreachable_is_stored_once_it_is_back(mariadb_site):
    yield _note_while_the_database_is_away(*mariadb_site)


@pytest_twisted.inlineCallbacks
def _note_while_the_database_is_away(site, outage):
    """`outage.cut()` takes the database away, `outage.restore()` brings it back."""
    contexts = site.running.services.contexts
    contexts.retry_seconds = 0.2
    agent = yield site.client.login("1001", extension="1001")
    stream = yield EventStreamClient.connect(site.running.url, agent["token"])
    try:
        call_id = site.pbx.switch.inbound_call(CALLER, "1001")
        yield stream.next_event("screen_pop", call_id=call_id)
        yield site.answered(agent["token"], stream, call_id, "1001")
        yield wait_for(lambda: contexts.idle)
        failures = contexts.failures

        outage.cut()
        status, call = yield site.client.post(f"/api/v1/calls/{call_id}/notes",
                                              {"text": "typed while the database was away"},
                                              agent["token"])
        assert status == 201, "the API call neither waits for nor fails with the database"
        assert [n["text"] for n in call["notes"]] == ["typed while the database was away"]
        yield wait_for(lambda: contexts.failures > failures, timeout=15)
        assert not contexts.idle
        outage.restore()
        yield wait_for(lambda: contexts.idle, timeout=15)
    finally:
        outage.restore()
        yield stream.close()

    yield site.restart()

    agent = yield site.client.login("1001", extension="1001")
    status, [call] = yield site.client.get("/api/v1/calls", agent["token"])
    assert [n["text"] for n in call["notes"]] == ["typed while the database was away"]
