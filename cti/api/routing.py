"""The route-table machinery: a route names its path, method, handler, role and schemas.

One table (cti/api/routes.py) feeds both the dispatcher and the OpenAPI document, so what is
served and what is documented cannot drift apart.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from cti.api.auth import Session
from cti.api.errors import MethodNotAllowed, NotFound

_PARAM = re.compile(r"\{([a-z_]+)\}")


@dataclass(slots=True)
class ApiRequest:
    """What a handler gets: the caller's session, path parameters, query and parsed body."""

    session: Session | None
    params: dict[str, str]
    query: dict[str, str]
    body: Any
    client: str = ""


Handler = Callable[[Any, ApiRequest], Any]
"""handler(services, request) -> result or Deferred of a result (JSON-ready)."""


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    """Path under /api/v1 with {name} parameters, e.g. ``/calls/{call_id}/hold``."""
    handler: Handler
    role: str | None
    """Least role allowed; None for the few public routes (login, the OpenAPI document)."""
    summary: str
    request: dict[str, Any] | None = None
    response: dict[str, Any] | None = None
    status: int = 200
    query: tuple[tuple[str, str], ...] = ()
    """(name, description) of the query parameters the route reads."""
    tag: str = "misc"
    pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        parts = _PARAM.split(self.path)
        regex = "".join(
            re.escape(part) if index % 2 == 0 else f"(?P<{part}>[^/]+)"
            for index, part in enumerate(parts)
        )
        object.__setattr__(self, "pattern", re.compile(regex + r"\Z"))

    @property
    def params(self) -> list[str]:
        return _PARAM.findall(self.path)

    @property
    def operation_id(self) -> str:
        words = [w for w in re.split(r"[/{}_-]+", self.path) if w]
        return self.method.lower() + "".join(word.capitalize() for word in words)


class RouteTable:
    """Matches (method, path) to a route; first match in table order wins."""

    def __init__(self, routes: Sequence[Route]) -> None:
        self.routes = list(routes)
        seen = set()
        for route in self.routes:
            key = (route.method, route.path)
            if key in seen:
                raise ValueError(f"duplicate route {route.method} {route.path}")
            seen.add(key)

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]]:
        """The route and its path parameters; NotFound or MethodNotAllowed otherwise."""
        allowed = []
        for route in self.routes:
            found = route.pattern.match(path)
            if found is None:
                continue
            if route.method == method:
                return route, found.groupdict()
            allowed.append(route.method)
        if allowed:
            raise MethodNotAllowed(f"{method} is not allowed on {path} (allowed: {', '.join(sorted(set(allowed)))})")
        raise NotFound(f"no such resource: {path}")
