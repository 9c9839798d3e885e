"""desktop.client against a real HTTP + WebSocket server on loopback (the boundary fixture)."""

from __future__ import annotations

import pytest
import pytest_twisted
from twisted.internet import reactor, task

from desktop.client import (
    CONNECTED,
    RECONNECTING,
    ApiClient,
    ApiError,
    ApiUnreachable,
    EventStream,
    events_url,
    normalize_base_url,
)


@pytest.fixture
def closing():
    clients = []
    yield clients.append
    for client in clients:
        client.close()


def test_server_urls_are_normalised():
    assert normalize_base_url("127.0.0.1:8080") == "http://127.0.0.1:8080"
    assert normalize_base_url("https://cti.example/") == "https://cti.example"
    assert normalize_base_url("http://h:1/api/v1") == "http://h:1"
    assert events_url("https://h:8443", "a b") == "wss://h:8443/api/v1/events?token=a+b"
    with pytest.raises(ValueError):
        normalize_base_url("ftp://host")


@pytest_twisted.ensureDeferred
async def test_login_keeps_the_token_and_sends_it(recorded_api, closing):
    api, url = recorded_api
    client = ApiClient(url)
    closing(client)
    session = await client.login("1001", "secret", "2001")
    assert session["role"] == "agent" and client.token == session["token"]
    me = await client.me()
    assert me["status"] == "not_ready" and me["extension"] == "2001"
    assert api.requests[0] == ("POST", "/sessions",
                               {"user": "1001", "password": "secret", "extension": "2001"})


@pytest_twisted.ensureDeferred
async def test_wrong_password_raises_the_servers_one_line_error(recorded_api, closing):
    _, url = recorded_api
    client = ApiClient(url)
    closing(client)
    with pytest.raises(ApiError) as caught:
        await client.login("1001", "nope")
    assert str(caught.value) == "wrong user or password"
    assert (caught.value.status, caught.value.code) == (401, "unauthorized")
    assert client.token is None


@pytest_twisted.ensureDeferred
async def test_conflict_and_bad_request_carry_status_and_code(recorded_api, closing):
    api, url = recorded_api
    client = ApiClient(url)
    closing(client)
    await client.login("1001", "secret", "2001")
    api.add_call({"call_id": "9", "parties": [{"device": "2001", "state": "connected"}]})
    with pytest.raises(ApiError) as caught:
        await client.answer("9")
    assert caught.value.code == "conflict" and "not alerting" in str(caught.value)
    with pytest.raises(ApiError) as caught:
        await client.set_state("dancing")
    assert caught.value.status == 400
    with pytest.raises(ApiError, match="unknown call action"):
        await client.call_action("9", "explode")


@pytest_twisted.ensureDeferred
async def test_call_actions_post_the_documented_bodies(recorded_api, closing):
    api, url = recorded_api
    client = ApiClient(url)
    closing(client)
    await client.login("1001", "secret", "2001")
    api.add_call({"call_id": "5", "calling": "+4930123456", "called": "2001",
                  "parties": [{"device": "+4930123456", "state": "connected"},
                              {"device": "2001", "state": "alerting"}]})
    assert await client.answer("5") == {}
    answer = await client.consult("5", "2002")
    await client.transfer("5", answer["call_id"])
    made = await client.make_call("2000")
    await client.dtmf(made["call_id"], "12#")
    posted = [(m, p, b) for m, p, b in api.requests if m == "POST" and p.startswith("/calls")]
    assert posted == [
        ("POST", "/calls/5/answer", {}),
        ("POST", "/calls/5/consult", {"to": "2002"}),
        ("POST", "/calls/5/transfer", {"consult_call_id": answer["call_id"]}),
        ("POST", "/calls", {"to": "2000"}),
        ("POST", f"/calls/{made['call_id']}/dtmf", {"digits": "12#"}),
    ]


@pytest_twisted.ensureDeferred
async def test_customer_record_round_trip(recorded_api, closing):
    _, url = recorded_api
    client = ApiClient(url)
    closing(client)
    await client.login("1001", "secret", "2001")
    found = await client.find_customers(phone="+4930123456")
    assert [c["name"] for c in found] == ["Clara Jansen"]
    record = {**found[0], "company": "Jansen & Co"}
    await client.update_customer(7, record)
    assert (await client.customer(7))["company"] == "Jansen & Co"
    assert [t["subject"] for t in await client.tickets(7)] == ["Late delivery", "Pallets"]
    with pytest.raises(ApiError, match="no customer 99"):
        await client.customer(99)


@pytest_twisted.ensureDeferred
async def test_unreachable_server_is_one_line(closing):
    from twisted.internet import reactor as r

    port = r.listenTCP(0, __import__("twisted.internet.protocol", fromlist=["Factory"]).Factory())
    number = port.getHost().port
    await port.stopListening()
    client = ApiClient(f"http://127.0.0.1:{number}", timeout=2)
    closing(client)
    with pytest.raises(ApiUnreachable) as caught:
        await client.login("1001", "secret")
    assert str(caught.value).startswith(f"cannot reach the CTI server at http://127.0.0.1:{number}")
    assert "\n" not in str(caught.value)


@pytest_twisted.ensureDeferred
async def test_event_stream_delivers_hello_then_events_and_answers_ping(recorded_api, closing, wait_until):
    api, url = recorded_api
    client = ApiClient(url)
    closing(client)
    await client.login("1001", "secret", "2001")
    events, statuses = [], []
    stream = EventStream(client, events.append, lambda s, d: statuses.append(s))
    stream.start()
    try:
        await wait_until(lambda: events)
        assert events[0]["event"] == "hello" and events[0]["agent"]["agent_id"] == "1001"
        api.push({"event": "delivered", "call_id": "5", "device": "2001"})
        stream.send({"action": "ping"})
        await wait_until(lambda: len(events) >= 3)
        assert [e["event"] for e in events[1:]] == ["delivered", "pong"]
        assert statuses[:2] == ["connecting", CONNECTED]
    finally:
        stream.stop()


@pytest_twisted.ensureDeferred
async def test_event_stream_reconnects_after_a_drop_and_gets_a_fresh_hello(recorded_api, closing, wait_until):
    api, url = recorded_api
    client = ApiClient(url)
    closing(client)
    await client.login("1001", "secret", "2001")
    events, statuses = [], []
    stream = EventStream(client, events.append, lambda s, d: statuses.append(s),
                         initial_delay=0.05)
    stream.start()
    try:
        await wait_until(lambda: len(api.streams) == 1)
        api.drop_streams()
        await wait_until(lambda: [e["event"] for e in events].count("hello") == 2)
        assert RECONNECTING in statuses and statuses[-1] == CONNECTED
        assert stream.attempts == 0
    finally:
        stream.stop()


@pytest_twisted.ensureDeferred
async def test_rejected_token_logs_in_again_with_the_stored_credentials(recorded_api, closing, wait_until):
    api, url = recorded_api
    client = ApiClient(url)
    closing(client)
    await client.login("1001", "secret", "2001")
    api.tokens.clear()  # the server restarted and forgot every session
    events = []
    stream = EventStream(client, events.append, initial_delay=0.05)
    stream.start()
    try:
        await wait_until(lambda: events)
        assert events[0]["event"] == "hello"
        assert client.token in api.tokens
    finally:
        stream.stop()


def test_backoff_doubles_up_to_the_cap():
    clock = task.Clock()
    client = ApiClient("http://127.0.0.1:9")
    stream = EventStream(client, lambda e: None, clock=clock, initial_delay=0.5, max_delay=4)
    delays = []
    for attempts in range(1, 7):
        stream.attempts = attempts
        delays.append(stream.next_delay())
    assert delays == [0.5, 1, 2, 4, 4, 4]
    client.close()


# -- the same client against the REAL server --------------------------------------------------

@pytest_twisted.ensureDeferred
async def test_real_server_login_errors_and_customer_round_trip(live_server, closing):
    from cti.server.testing import PASSWORD

    running, switch = live_server
    client = ApiClient(running.url)
    closing(client)
    with pytest.raises(ApiError) as caught:
        await client.login("1001", "not-it", "1001")
    assert caught.value.status == 401 and "\n" not in str(caught.value)
    session = await client.login("1001", PASSWORD, "1001")
    assert (session["role"], session["extension"]) == ("agent", "1001")
    assert (await client.me())["status"] == "not_ready"

    found = await client.find_customers(phone="030 1234567")
    assert [c["name"] for c in found] == ["Ada Lovelace"]
    ada = found[0]
    await client.update_customer(ada["id"], {**{k: v for k, v in ada.items() if k != "id"},
                                             "company": "Engines Ltd"})
    assert (await client.customer(ada["id"]))["company"] == "Engines Ltd"
    assert [t["subject"] for t in await client.tickets(ada["id"])] == ["Difference engine"]
    with pytest.raises(ApiError) as caught:
        await client.customer(999999)
    assert caught.value.status == 404

    call_id = switch.inbound_call("+49301234567", "1001")
    await wait_for_call(client, call_id)
    await client.answer(call_id)
    with pytest.raises(ApiError) as caught:
        await client.answer(call_id)
    # The switch itself refused: the server says which service and why.
    assert (caught.value.status, caught.value.code) == (502, "switch_error")
    assert str(caught.value).startswith("AnswerCall: ")
    await client.hangup(call_id)
    await client.logout()
    assert client.token is None


async def wait_for_call(client: ApiClient, call_id: str) -> None:
    deadline = reactor.seconds() + 5
    while not any(c["call_id"] == call_id for c in await client.calls()):
        assert reactor.seconds() < deadline, "call never showed up"
        await task.deferLater(reactor, 0.02, lambda: None)


@pytest_twisted.ensureDeferred
async def test_silent_stream_is_probed_then_dropped_and_reconnected(recorded_api, closing,
                                                                    wait_until):
    api, url = recorded_api
    client = ApiClient(url)
    closing(client)
    await client.login("1001", "secret", "2001")
    clock = task.Clock()
    events, statuses = [], []
    stream = EventStream(client, events.append, lambda s, d: statuses.append(s), clock=clock,
                         keepalive=20, initial_delay=1)
    stream.start()
    try:
        await wait_until(lambda: events)
        clock.advance(20)
        assert api.received == []  # one quiet interval is normal
        clock.advance(20)
        await wait_until(lambda: api.received == [{"action": "ping"}])
        await wait_until(lambda: events[-1]["event"] == "pong")
        api.answer_pings = False  # the server goes silent (half-open connection)
        clock.advance(20)
        clock.advance(20)
        await wait_until(lambda: len(api.received) == 2)
        clock.advance(20)
        await wait_until(lambda: statuses[-1] == RECONNECTING)
        clock.advance(1)
        await wait_until(lambda: [e["event"] for e in events].count("hello") == 2)
    finally:
        stream.stop()
