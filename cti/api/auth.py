"""Sessions: random bearer tokens with an expiry, and the role ladder every request climbs.

The store keeps sessions in memory (a restart logs everybody out, as a desktop reconnect then
logs in again). Time comes from an injected clock so expiry is testable with task.Clock.
"""

from __future__ import annotations

import secrets
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from cti.api.errors import Forbidden, Unauthorized
from cti.events import iso_time

AGENT, SUPERVISOR, ADMINISTRATOR = "agent", "supervisor", "administrator"
ROLES = (AGENT, SUPERVISOR, ADMINISTRATOR)
_RANK = {role: rank for rank, role in enumerate(ROLES)}


def role_allows(role: str, required: str) -> bool:
    """True when `role` is at least `required` on the ladder agent < supervisor < administrator."""
    return _RANK.get(role, -1) >= _RANK[required]


@dataclass(frozen=True, slots=True)
class Session:
    """Who is calling: identity, role, tenant and (for agents) the seat they sit at."""

    token: str
    user: str
    role: str
    tenant: str
    expires: float
    agent_id: str | None = None
    extension: str | None = None
    user_id: Any = None
    name: str | None = None
    acd: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def allows(self, required: str) -> bool:
        return role_allows(self.role, required)

    def require(self, required: str) -> None:
        if not self.allows(required):
            raise Forbidden(f"this needs the {required} role; you are {self.role}")

    @property
    def is_supervisor(self) -> bool:
        return self.allows(SUPERVISOR)

    def to_dict(self) -> dict[str, Any]:
        """The session object of docs/api.md."""
        return {
            "token": self.token,
            "role": self.role,
            "tenant": self.tenant,
            "user": self.user,
            "agent_id": self.agent_id,
            "extension": self.extension,
            "expires": iso_time(self.expires),
        }


class SessionStore:
    """Issues, resolves and revokes tokens, and forgets expired ones as it is used.

    Most sessions never log out (a desktop killed, a CRM that forgets DELETE
    /sessions/current), and the server runs for weeks, so waiting for an expired token to be
    shown again would keep every one of them. Sessions are kept in the order they were made,
    which is the order they expire in while the lifetime stays the same; every create and
    resolve first drops the expired ones at the front. Each session is dropped once, so the
    cost per request is O(1) amortised. A session made after the lifetime was shortened may
    wait behind an older, longer one until that expires (resolve still refuses it): it is
    kept a while longer, never dropped early.
    """

    def __init__(self, lifetime: float, clock: Callable[[], float]) -> None:
        self.lifetime = lifetime
        self._clock = clock
        self._sessions: OrderedDict[str, Session] = OrderedDict()

    def __len__(self) -> int:
        """Sessions held, expired ones not yet dropped included."""
        return len(self._sessions)

    def create(self, user: str, role: str, tenant: str, **details: Any) -> Session:
        now = self._clock()
        self._drop_expired(now)
        token = secrets.token_urlsafe(32)
        session = Session(
            token=token, user=user, role=role, tenant=tenant,
            expires=now + self.lifetime, **details,
        )
        self._sessions[token] = session
        return session

    def update(self, session: Session, **changes: Any) -> Session:
        updated = replace(session, **changes)
        if session.token in self._sessions:
            self._sessions[session.token] = updated
        return updated

    def resolve(self, token: str | None) -> Session:
        """The live session of `token`, or Unauthorized saying why not."""
        if not token:
            raise Unauthorized("missing token (send Authorization: Bearer TOKEN)")
        now = self._clock()
        self._drop_expired(now)
        session = self._sessions.get(token)
        if session is None:
            raise Unauthorized("unknown, expired or revoked token; log in again")
        if session.expires <= now:
            del self._sessions[token]
            raise Unauthorized("token expired; log in again")
        return session

    def revoke(self, token: str) -> Session | None:
        return self._sessions.pop(token, None)

    def live(self) -> Iterator[Session]:
        now = self._clock()
        self._drop_expired(now)
        return iter([s for s in self._sessions.values() if s.expires > now])

    def for_agent(self, tenant: str, agent_id: str) -> list[Session]:
        return [s for s in self.live() if s.tenant == tenant and s.agent_id == agent_id]

    def _drop_expired(self, now: float) -> None:
        sessions = self._sessions
        while sessions:
            token = next(iter(sessions))
            if sessions[token].expires > now:
                return
            del sessions[token]


def bearer_token(header: bytes | None) -> str | None:
    """The token of an ``Authorization: Bearer TOKEN`` header value, if that is what it is."""
    if not header:
        return None
    scheme, _, token = header.decode("latin-1").strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None
