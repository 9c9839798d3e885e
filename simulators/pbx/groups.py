"""Hunt-group pilots and routing: who gets a call that was dialled to a pilot number.

Mixed into Switch (switch.py), whose call internals (_offer, _redirect, _join, _detach, _emit)
these methods use. A call to a pilot waits there queued; if an application registered for
routing it is asked (RouteRequest) and may choose a destination, otherwise (or on its timeout)
the pilot's own distribution rings members: ring-all, hunt (circular) or linear.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from simulators.pbx import events as ev
from simulators.pbx.errors import NotForThisDevice, SwitchError
from simulators.pbx.model import (
    AGENT_READY,
    ALERTING,
    LINEAR,
    NULL,
    QUEUED,
    RING_ALL,
    Call,
    Connection,
    Extension,
    Pilot,
)


class RouteDialogue:
    """A pending RouteRequest: which registration was asked about which call at which pilot."""

    __slots__ = ("registration", "xref", "call", "pilot", "timer")

    def __init__(self, registration: str, xref: str, call: Call, pilot: str) -> None:
        self.registration = registration
        self.xref = xref
        self.call = call
        self.pilot = pilot
        self.timer: Any = None


class GroupsMixin:
    """Pilots' distribution and the routing dialogue with applications."""

    devices: dict[str, Any]
    calls: dict[str, Call]
    registrations: dict[str, str | None]
    routes: dict[str, RouteDialogue]
    route_timeout: float
    clock: Any
    _pilots: list[Pilot]

    # ------------------------------------------------------------------ routing

    def route_register(self, device: str | None) -> str:
        """Ask for RouteRequests about calls at pilot `device` (None: every pilot)."""
        if device is not None and not isinstance(self.device(device), Pilot):
            raise NotForThisDevice(f"{device} is not a routing device (pilot)")
        reg_id = str(next(self._route_ids))
        self.registrations[reg_id] = device
        return reg_id

    def route_register_cancel(self, reg_id: str) -> None:
        if self.registrations.pop(reg_id, "missing") == "missing":
            raise SwitchError(f"no route registration {reg_id}", value="invalidRouteRegisterReqID")
        for route in [r for r in self.routes.values() if r.registration == reg_id]:
            self._route_fallback(route, error="routeRegisterCancelled", notify=False)

    def route_select(self, reg_id: str, xref: str, destination: str,
                     also: Iterable[str] = ()) -> None:
        """Send the call waiting at the pilot to `destination`; with `also`, to several
        extensions alerting at once (the first to answer wins)."""
        route = self._route(reg_id, xref)
        also = tuple(also)
        self._check_destinations(route.call, destination, also)
        self._forget_route(route)
        conn = route.call.connections.get(route.pilot)
        if conn is not None:
            self._redirect(conn, destination, cause="redirected", also=also)
        self._emit_route_end(route, error=None)

    def route_end(self, reg_id: str, xref: str) -> None:
        """The application gives up on a route request: the pilot's own distribution takes over."""
        self._route_fallback(self._route(reg_id, xref), error=None, notify=False)

    def _route(self, reg_id: str, xref: str) -> RouteDialogue:
        route = self.routes.get(xref)
        if route is None or route.registration != reg_id:
            raise SwitchError(f"no route dialogue {reg_id}/{xref}",
                              value="invalidRoutingCrossRefID")
        return route

    def _registration_for(self, pilot: str) -> str | None:
        for reg_id, device in self.registrations.items():
            if device == pilot:
                return reg_id
        for reg_id, device in self.registrations.items():
            if device is None:
                return reg_id
        return None

    def _route_fallback(self, route: RouteDialogue, error: str | None, notify: bool) -> None:
        self._forget_route(route)
        conn = route.call.connections.get(route.pilot)
        if conn is not None:
            self._distribute(route.call, self.devices[route.pilot], conn)  # type: ignore[arg-type]
        if notify:
            self._emit_route_end(route, error)

    def _forget_route(self, route: RouteDialogue) -> None:
        self.routes.pop(route.xref, None)
        if route.call.route is route:
            route.call.route = None
        if route.timer is not None and route.timer.active():
            route.timer.cancel()
        route.timer = None

    def _emit_route_end(self, route: RouteDialogue, error: str | None) -> None:
        self._emit(
            ev.ROUTE_END, route.call, route.pilot,
            details={"registration": route.registration, "xref": route.xref, "error": error},
        )

    # ------------------------------------------------------------------ internals: pilots

    def _available(self, number: str) -> bool:
        ext = self.devices.get(number)
        if not isinstance(ext, Extension) or ext.dnd or ext.busy or ext.out_of_service:
            return False
        return ext.agent is None or ext.agent.state == AGENT_READY

    def _distribute(self, call: Call, pilot: Pilot, conn: Connection) -> None:
        """The pilot's own distribution: ring one member (hunt, linear) or all (ring-all)."""
        available = [m for m in pilot.members if self._available(m)]
        members = [m for m in available if m not in call.hunt_tried]
        if not members:
            call.hunt_tried.clear()
            members = available
        if not members:
            if call not in pilot.waiting:
                pilot.waiting.append(call)
            return
        if call in pilot.waiting:
            pilot.waiting.remove(call)
        if pilot.distribution == RING_ALL:
            chosen = members
        elif pilot.distribution == LINEAR:
            chosen = members[:1]
        else:
            count = len(pilot.members)
            order = [pilot.members[(pilot.next_index + i) % count] for i in range(count)]
            chosen = [next(m for m in order if m in members)]
            pilot.next_index = (pilot.members.index(chosen[0]) + 1) % count
        self._detach(conn)
        call.last_redirection = pilot.number
        call.hunt_pilot = pilot.number
        self._emit(ev.DIVERTED, call, pilot.number, cause="distributed",
                   extra=((pilot.number, NULL),),
                   details={"new_destination": chosen[0]})
        for member in chosen:
            call.hunt_tried.add(member)
            self._offer_extension(call, self.devices[member], "distributed", 0)  # type: ignore[arg-type]

    def _hunt_no_answer(self, conn: Connection) -> None:
        conn.timer = None
        call = conn.call
        if conn.state != ALERTING or call.hunt_pilot is None:
            return
        pilot = self.devices[call.hunt_pilot]
        self._detach(conn)
        self._emit(ev.DIVERTED, call, conn.device, cause="callNotAnswered",
                   extra=((conn.device, NULL),), details={"new_destination": pilot.number})
        self._member_free(self.devices[conn.device])  # type: ignore[arg-type]
        if call.connections.get(pilot.number) is None and self.calls.get(call.call_id) is call:
            requeued = self._join(call, pilot.number, QUEUED)
            self._emit(ev.QUEUED, call, pilot.number, cause="callNotAnswered",
                       details={"queue_count": len(pilot.waiting) + 1})
            self._distribute(call, pilot, requeued)  # type: ignore[arg-type]

    def _request_route(self, call: Call, pilot: Pilot, reg_id: str) -> None:
        xref = str(next(self._route_xrefs))
        route = RouteDialogue(reg_id, xref, call, pilot.number)
        self.routes[xref] = route
        call.route = route
        route.timer = self.clock.callLater(self.route_timeout, self._route_timed_out, route)
        self._emit(
            ev.ROUTE_REQUEST, call, pilot.number,
            details={"registration": reg_id, "xref": xref, "pilot": pilot.number,
                     "calling": call.calling},
        )

    def _route_timed_out(self, route: RouteDialogue) -> None:
        route.timer = None
        if self.routes.get(route.xref) is route:
            self._route_fallback(route, error="routeTimer", notify=True)

    def _member_free(self, ext: Extension) -> None:
        """A member became available: the oldest call waiting at one of its pilots rings it."""
        if not self._pilots or not self._available(ext.number):
            return
        for pilot in self._pilots:
            if pilot.waiting and ext.number in pilot.members:
                while pilot.waiting:
                    call = pilot.waiting[0]
                    conn = call.connections.get(pilot.number)
                    if self.calls.get(call.call_id) is not call or conn is None:
                        pilot.waiting.popleft()
                        continue
                    if call.route is not None:
                        break
                    self._distribute(call, pilot, conn)
                    return
