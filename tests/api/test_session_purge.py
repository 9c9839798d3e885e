"""Expired sessions leave the store as it is used, not only when their token comes back.

A desktop that is killed and a CRM that never logs out leave their sessions behind; over weeks
of uptime the store must hold the sessions of one token lifetime, not of every login.
"""

from __future__ import annotations

import json

import pytest
from twisted.internet.task import Clock

from cti.api.auth import SessionStore
from cti.api.errors import Unauthorized
from cti.api.stream import EventHub, EventStream

LIFETIME = 12 * 3600.0


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def store(clock):
    return SessionStore(LIFETIME, clock.seconds)


def _login(store, n, **details):
    return [store.create(f"agent{i}", "agent", "acme", **details) for i in range(n)]


def test_logins_never_used_again_are_dropped_once_expired(store, clock):
    _login(store, 1000)
    assert len(store) == 1000
    clock.advance(LIFETIME)
    fresh = store.create("sup", "supervisor", "acme")
    assert len(store) == 1
    assert store.resolve(fresh.token) is fresh


def test_a_request_with_any_token_drops_the_expired_ones(store, clock):
    _login(store, 500)
    clock.advance(LIFETIME + 1)
    with pytest.raises(Unauthorized, match="expired"):
        store.resolve("some-other-token")
    assert len(store) == 0


def test_a_live_session_is_never_dropped(store, clock):
    early = _login(store, 300)
    clock.advance(LIFETIME / 2)
    late = _login(store, 300)
    clock.advance(LIFETIME / 2 - 1)
    for session in early + late:
        assert store.resolve(session.token) is session
    clock.advance(1)
    assert store.resolve(late[0].token) is late[0]
    assert len(store) == 300
    for session in late:
        assert store.resolve(session.token) is session
    for session in early:
        with pytest.raises(Unauthorized, match="expired"):
            store.resolve(session.token)


def test_the_store_holds_one_lifetime_of_logins_under_steady_churn(store, clock):
    """A login a minute for three days, none logging out: never more than a lifetime's worth."""
    per_lifetime = int(LIFETIME // 60)
    sizes = []
    for _ in range(3 * 24 * 60):
        store.create("crm", "agent", "acme")
        sizes.append(len(store))
        clock.advance(60)
    assert max(sizes) == per_lifetime
    assert sizes[-1] == per_lifetime


def test_a_shortened_lifetime_keeps_the_longer_session_and_refuses_the_short_one(store, clock):
    long = store.create("sup", "supervisor", "acme")
    store.lifetime = 10
    short = store.create("1001", "agent", "acme")
    clock.advance(11)
    with pytest.raises(Unauthorized, match="expired"):
        store.resolve(short.token)
    assert store.resolve(long.token) is long
    clock.advance(LIFETIME)
    store.create("1002", "agent", "acme")
    assert len(store) == 1


def test_revoked_and_updated_sessions_keep_their_place(store, clock):
    first, second, third = _login(store, 3)
    store.revoke(second.token)
    moved = store.update(first, extension="1002")
    assert store.resolve(first.token) is moved
    clock.advance(LIFETIME)
    assert list(store.live()) == []
    assert len(store) == 0
    with pytest.raises(Unauthorized):
        store.resolve(third.token)


class _Transport:
    def __init__(self) -> None:
        self.sent: list[dict] = []
        self.closed_with: int | None = None

    def sendTextMessage(self, text: str) -> None:
        self.sent.append(json.loads(text))

    def ping(self, payload: bytes = b"") -> None:
        pass

    def loseConnection(self, code: int = 1000) -> None:
        self.closed_with = code


def test_the_stream_of_a_dropped_session_is_still_told_and_closed(clock):
    """The stream holds its session: dropping it from the store does not keep it open."""
    store = SessionStore(30, clock.seconds)
    hub = EventHub(clock, lambda s: {}, ping_interval=20)
    hub.start()
    session = store.create("1001", "agent", "acme", agent_id="1001", extension="1001")
    stream = EventStream(hub, session)
    transport = _Transport()
    stream.negotiationStarted(transport)
    stream.negotiationFinished()
    clock.advance(20)
    stream.pongReceived(b"cti")
    clock.advance(10)
    store.create("1002", "agent", "acme")
    assert len(store) == 1 and transport.closed_with is None
    clock.advance(10)
    assert transport.sent[-1] == {"event": "error", "error": "token expired; log in again",
                                  "code": "unauthorized"}
    assert transport.closed_with == 1008
    hub.stop()
