"""A client that only reads the wire can keep the same call picture as the switch's truth.

The client here is deliberately naive: per monitored device it keeps (call ID -> local
connection state) from localConnectionInfo, moves devices to the new call named in the
connection lists of TransferedEvent / ConferencedEvent, and forgets calls on CallClearedEvent.
After every step of a busy script its picture must equal the switch's snapshot.
"""

from __future__ import annotations

from lxml import etree

from simulators.scenarios import ScenarioRunner, parse_scenario

NS = "http://www.ecma-international.org/standards/ecma-323/csta/ed4"
MOVES = {"TransferedEvent": "transferredConnections", "ConferencedEvent": "conferenceConnections"}


def q(name):
    return f"{{{NS}}}{name}"


class WireModel:
    def __init__(self) -> None:
        self.calls: dict[str, dict[str, str]] = {}
        self.device_of: dict[str, str] = {}

    def apply(self, root) -> None:
        name = etree.QName(root).localname
        device = self.device_of[root.findtext(q("monitorCrossRefID"))]
        if name == "CallClearedEvent":
            self.calls.pop(root.findtext(f"{q('clearedCall')}/{q('callID')}"), None)
            return
        state = root.findtext(q("localConnectionInfo"))
        if state is None:
            return
        if name in MOVES:
            for old in ("primaryOldCall", "secondaryOldCall"):
                self._set(root.findtext(f"{q(old)}/{q('callID')}"), device, "null")
            for item in root.iter(q("connectionListItem")):
                if item.findtext(f"{q('endpoint')}/{q('deviceIdentifier')}") == device:
                    self._set(item.findtext(f"{q('newConnection')}/{q('callID')}"), device, state)
            return
        call_id = next(element.findtext(q("callID")) for element in root
                       if element.find(q("callID")) is not None)
        self._set(call_id, device, state)

    def _set(self, call_id, device, state) -> None:
        if call_id is None:
            return
        parties = self.calls.setdefault(call_id, {})
        if state == "null":
            parties.pop(device, None)
        else:
            parties[device] = state
        if not parties:
            del self.calls[call_id]


SCRIPT = """
call +4930111 -> 1001
answer 1001
consult 1001 1002
answer 1002
transfer 1001
call 1003 -> 1004
answer 1004
consult 1003 1005
alternate 1003
alternate 1003
answer 1005
conference 1003
hangup 1003
barge 1009 1004
call +4930222 -> 5000
+20 answer 1007
call 1006 -> 6000
sst 6000 1001
deflect 1001 1008
call 1001 -> 030123456
+5 consult 1001 1002
reconnect 1001
hangup 1004
hangup 1002
hangup 1007
hangup 1008
hangup 1005
hangup 1001
"""


def test_the_wire_picture_matches_the_switch_after_every_step(switch, factory, make_peer):
    switch.add_pilot("5000", ["1006", "1007"], "hunt", ring_seconds=10)
    switch.external_answer_seconds = 2
    peer = make_peer(factory)
    peer.start_session()
    model = WireModel()
    internal = [n for n, d in switch.devices.items() if d.kind != "trunk"]
    for number in internal:
        model.device_of[peer.monitor(number)] = number
    runner = ScenarioRunner(switch, parse_scenario(SCRIPT), strict=True)
    results = []
    runner.start().addBoth(results.append)
    for _ in range(80):
        switch.clock.advance(0.5)
        for invoke, root in peer.frames():
            if invoke == "9999":
                model.apply(root)
        truth = {
            call_id: {p["device"]: p["state"] for p in call["parties"] if p["device"] in internal}
            for call_id, call in switch.snapshot()["calls"].items()
        }
        assert model.calls == {c: p for c, p in truth.items() if p}
    assert results == [None]
    assert switch.calls == {}
