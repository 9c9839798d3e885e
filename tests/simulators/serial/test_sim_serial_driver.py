"""The real SerialDriver against the serial simulator, over a real pty pair and over
loopback TCP (serial+tcp://): monitors, events of switch activity, commands executed on the
switch, refusals surfacing as DriverError."""

from __future__ import annotations

import pytest
import pytest_twisted

from cti import events as ev
from drivers.base import DriverError
from simulators.pbx import Handsets
from tests.simulators.serial.sim_serial_support import start_rig, stop_rig, until, within


@pytest_twisted.async_yield_fixture(params=["pty", "tcp"])
async def rig(request):
    made = await start_rig(request.param, ["1001", "1002"])
    yield made
    await stop_rig(made)


@pytest_twisted.ensureDeferred
async def test_inbound_call_reaches_the_driver_as_normalised_events(rig):
    phones = Handsets(rig.switch)
    call = phones.call("+4930123456", "1001")
    await until(lambda: rig.named(ev.DELIVERED), what="delivered")
    phones.answer("1001")
    phones.hangup("+4930123456")
    await until(lambda: rig.named(ev.CALL_CLEARED), what="call_cleared")
    delivered = rig.named(ev.DELIVERED)[0]
    assert (delivered.call_id, delivered.device, delivered.calling, delivered.called) == (
        call, "1001", "+4930123456", "1001")
    assert delivered.monitor == "1001" and delivered.link == "pbx1"
    names = [e.event for e in rig.events if e.call_id == call]
    assert names == [ev.DELIVERED, ev.ESTABLISHED, ev.CONNECTION_CLEARED,
                     ev.CONNECTION_CLEARED, ev.CALL_CLEARED]
    assert [e.device for e in rig.named(ev.CONNECTION_CLEARED)] == ["+4930123456", "1001"]


@pytest_twisted.ensureDeferred
async def test_driver_commands_run_on_the_switch(rig):
    call = await within(rig.driver.make_call("1001", "1002"), 5)
    assert rig.switch.snapshot_call(call) == [("1001", "connected"), ("1002", "alerting")]
    await within(rig.driver.answer_call(call, "1002"), 5)
    await within(rig.driver.hold_call(call, "1001"), 5)
    assert ("1001", "hold") in rig.switch.snapshot_call(call)
    await within(rig.driver.retrieve_call(call, "1001"), 5)
    snapshot = await within(rig.driver.snapshot_device("1001"), 5)
    assert [(p.call_id, p.state) for p in snapshot.parties] == [(call, "connected")]
    await within(rig.driver.clear_call(call), 5)
    assert rig.switch.calls == {}
    await until(lambda: rig.named(ev.CALL_CLEARED), what="call_cleared")
    assert [e.event for e in rig.events if e.call_id == call and e.device == "1001"][:3] == [
        ev.ORIGINATED, ev.HELD, ev.RETRIEVED]


@pytest_twisted.ensureDeferred
async def test_consultation_and_transfer_through_the_driver(rig):
    phones = Handsets(rig.switch)
    first = phones.call("+4930123456", "1001")
    await until(lambda: rig.named(ev.DELIVERED))
    await within(rig.driver.answer_call(first, "1001"), 5)
    second = await within(rig.driver.consultation_call(first, "1001", "1002"), 5)
    await within(rig.driver.answer_call(second, "1002"), 5)
    new = await within(rig.driver.transfer_call(first, second, "1001"), 5)
    await until(lambda: rig.named(ev.TRANSFERRED))
    transferred = rig.named(ev.TRANSFERRED)[0]
    assert transferred.call_id == new and set(transferred.old_call_ids) == {first, second}
    assert transferred.data["transferred_to"] == "1002"
    assert sorted(rig.switch.snapshot_call(new)) == [("+4930123456", "connected"),
                                                     ("1002", "connected")]


@pytest_twisted.ensureDeferred
async def test_refusals_reach_the_driver_with_their_cause(rig):
    with pytest.raises(DriverError) as caught:
        await within(rig.driver.answer_call("999", "1001"), 5)
    assert caught.value.code == "INVALID_CALL" and "999" in str(caught.value)
    with pytest.raises(DriverError) as caught:
        await within(rig.driver.monitor_start("4711"), 5)
    assert caught.value.code == "INVALID_DEVICE"


@pytest_twisted.ensureDeferred
async def test_agent_state_through_the_driver(rig):
    await within(rig.driver.set_agent_state("1002", "logged_on", agent_id="A7"), 5)
    await within(rig.driver.set_agent_state("1002", "ready"), 5)
    await until(lambda: rig.named(ev.AGENT_READY))
    assert rig.named(ev.AGENT_LOGGED_ON)[0].agent_id == "A7"
    assert rig.switch.agent_state("1002").state == "ready"
