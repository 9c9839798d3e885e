"""Whatever people do at their phones, the switch's bookkeeping stays consistent."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from twisted.internet.task import Clock

from simulators.pbx import Handsets, Switch, SwitchError
from simulators.pbx.model import Extension, Trunk

EXTENSIONS = ["1001", "1002", "1003", "1004"]
OUTSIDE = ["+4930111", "+4930222"]
DEVICES = EXTENSIONS + OUTSIDE + ["5000", "6000", "700", "7001"]

ACTIONS = st.one_of(
    st.tuples(st.just("call"), st.sampled_from(EXTENSIONS + OUTSIDE), st.sampled_from(DEVICES)),
    st.tuples(st.sampled_from(["answer", "hangup", "hold", "retrieve", "transfer", "conference",
                               "alternate", "reconnect"]), st.sampled_from(DEVICES)),
    st.tuples(st.sampled_from(["consult", "deflect", "single_step_transfer", "join"]),
              st.sampled_from(EXTENSIONS + ["6000"]), st.sampled_from(DEVICES)),
    st.tuples(st.just("ring_all"), st.sampled_from(EXTENSIONS + ["6000"]),
              st.lists(st.sampled_from(EXTENSIONS), min_size=2, max_size=4, unique=True)),
    st.tuples(st.just("play"), st.sampled_from(EXTENSIONS + ["6000"]),
              st.sampled_from(["music:default", "queue-position:1", "queue-position:2"])),
    st.tuples(st.just("stop"), st.sampled_from(EXTENSIONS + ["6000"]),
              st.sampled_from([None, "music:default", "queue-position:1"])),
    st.tuples(st.just("tick"), st.floats(min_value=0, max_value=20)),
    st.tuples(st.just("agent"), st.sampled_from(EXTENSIONS),
              st.sampled_from(["loggedOn", "ready", "notReady", "loggedOff"])),
)


def check(switch: Switch) -> None:
    for call_id, call in switch.calls.items():
        assert call.call_id == call_id
        assert call.connections, f"call {call_id} has no connections"
        for device, conn in call.connections.items():
            assert conn.device == device and conn.call is call
            owner = switch.devices.get(device)
            if owner is not None and not isinstance(owner, Trunk):
                assert conn in owner.connections
    for device in switch.devices.values():
        for conn in device.connections:
            assert switch.calls.get(conn.call.call_id) is conn.call, (device.number, conn)
            assert conn.call.connections.get(device.number) is conn
        if isinstance(device, Trunk):
            assert device.in_use == any(device.number in c.trunks for c in switch.calls.values())
        if isinstance(device, Extension) and device.agent is not None:
            assert device.agent.state in ("ready", "notReady", "busy", "workingAfterCall")
    for conn in (*switch._players, *switch._recordings):
        assert conn.call.connections.get(conn.device) is conn, f"{conn} plays or records"
    for message in switch.voice_messages():
        assert 0 <= message.seconds <= switch.devices["700"].max_seconds


def voice_unit(switch: Switch, service: str, device: str, message: str | None) -> None:
    """Play or stop a message over the device's first connection."""
    conn = next(iter(switch.devices[device].connections), None)
    if conn is not None:
        getattr(switch, service)(conn.call.call_id, device, message)


def ring_all(switch: Switch, source: str, destinations: list[str]) -> None:
    """Deflect the call alerting or queued at `source` to several devices at once."""
    conn = next((c for c in switch.devices[source].connections
                 if c.state in ("alerting", "queued")), None)
    if conn is not None:
        switch.deflect_call(conn.call.call_id, source, destinations[0], also=destinations[1:])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(ACTIONS, max_size=40), st.sampled_from(["hunt", "linear", "ring-all"]))
def test_random_use_keeps_the_switch_consistent(actions, distribution):
    clock = Clock()
    switch = Switch(clock, wrap_up_seconds=3)
    switch.add_extensions(EXTENSIONS)
    switch.add_trunks(["8001", "8002", "8003"])
    switch.add_pilot("5000", ["1002", "1003", "1004"], distribution, ring_seconds=5)
    switch.add_queue("6000")
    switch.add_voicemail("700", max_seconds=30)
    switch.add_announcement("7001", seconds=4)
    phones = Handsets(switch)
    events = []
    switch.subscribe(events.append)
    for action in actions:
        name, *args = action
        try:
            if name == "tick":
                clock.advance(args[0])
            elif name == "agent":
                switch.set_agent_state(args[0], args[1], agent_id="A" + args[0])
            elif name == "ring_all":
                ring_all(switch, *args)
            elif name in ("play", "stop"):
                voice_unit(switch, f"{name}_message", *args)
            else:
                getattr(phones, name)(*args)
        except SwitchError:
            pass
        check(switch)
    for event in events:
        assert event.kind
        if event.call_id is not None:
            assert event.call_id.isdigit()
    switch.close()
    assert clock.getDelayedCalls() == []
