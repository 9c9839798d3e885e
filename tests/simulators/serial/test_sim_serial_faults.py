"""Line faults injected by the simulator at a fixed seed: the real SerialDriver resynchronises,
retransmits what the PBX NAKed, and loses no valid event, in order and without duplicates."""

from __future__ import annotations

import pytest_twisted

from cti import events as ev
from simulators.pbx import Handsets
from simulators.serial.line import Faults
from simulators.serial.messages import REPORTED
from tests.simulators.serial.sim_serial_support import sleep, start_rig, stop_rig, until, within

MONITORED = ["1001", "1002", "1003"]


class Expected:
    """What the host must see: every reportable switch event touching a monitored device."""

    def __init__(self, switch) -> None:
        self.keys: list[tuple[str, str | None, str | None]] = []
        switch.subscribe(self)

    def __call__(self, event) -> None:
        if event.kind in REPORTED and any(d in MONITORED for d, _ in event.parties):
            device = None if event.kind == ev.CALL_CLEARED else event.device
            self.keys.append((event.kind, event.call_id, device))


def seen(rig) -> list[tuple[str, str | None, str | None]]:
    return [(e.event, e.call_id, e.device) for e in rig.events
            if e.event not in (ev.LINK_UP, ev.LINK_DOWN)]


@pytest_twisted.ensureDeferred
async def test_noise_drops_and_bad_checksums_lose_no_event():
    faults = Faults(noise=0.01, drop=0.003, checksum=0.05)
    rig = await start_rig("pty", MONITORED, faults=faults, seed=7, t1=0.2)
    try:
        expected = Expected(rig.switch)
        phones = Handsets(rig.switch)
        for n in range(12):
            device = MONITORED[n % 3]
            call = phones.call(f"+49301234{n:02d}", device)
            await until(lambda c=call: any(e.call_id == c for e in rig.named(ev.DELIVERED)),
                        timeout=15, what=f"delivered of call {call}")
            await within(rig.driver.answer_call(call, device), 15)
            await within(rig.driver.clear_connection(call, device), 15)
        await until(lambda: len(seen(rig)) >= len(expected.keys), timeout=20,
                    what="every event at the driver")
        await sleep(0.3)  # nothing more (no duplicates) trickles in
        assert seen(rig) == expected.keys
        assert len(expected.keys) == 12 * 4
        line, pbx, host = rig.front.line.stats, rig.front.link.stats, rig.driver.link_stats
        assert line.noise_bytes and line.dropped_bytes and line.bad_checksums
        assert host.naks_sent and pbx.retransmissions  # the host NAKed, the PBX sent again
        assert pbx.naks_sent and host.retransmissions  # and the other way round
        assert host.dropped_frames == 0 and pbx.dropped_frames == 0
    finally:
        await stop_rig(rig)


@pytest_twisted.ensureDeferred
async def test_a_silent_line_delays_events_but_loses_none():
    rig = await start_rig("pty", MONITORED, t1=0.1)
    try:
        expected = Expected(rig.switch)
        rig.front.line.silence(1.0)
        phones = Handsets(rig.switch)
        call = phones.call("+4930123456", "1001")
        phones.answer("1001")
        await sleep(0.7)
        assert not rig.front.link.up  # past T1 x N2: down, the frame held
        assert seen(rig) == []
        await until(lambda: len(seen(rig)) == 2, timeout=5, what="the held events")
        assert seen(rig) == expected.keys == [(ev.DELIVERED, call, "1001"),
                                              (ev.ESTABLISHED, call, "1001")]
        assert rig.front.line.stats.silenced_bytes > 0
    finally:
        await stop_rig(rig)


@pytest_twisted.ensureDeferred
async def test_a_dropped_terminal_server_connection_keeps_monitors_and_events():
    rig = await start_rig("tcp", MONITORED, t1=0.2)
    try:
        expected = Expected(rig.switch)
        rig.front.line.disconnect()
        await until(lambda: rig.named(ev.LINK_DOWN), what="link_down at the driver")
        phones = Handsets(rig.switch)
        call = phones.call("+4930123456", "1002")  # while no host is connected
        await until(lambda: len(seen(rig)) == 1, timeout=5, what="the backlog after reconnect")
        phones.answer("1002")
        await until(lambda: len(seen(rig)) == 2, timeout=5)
        assert seen(rig) == expected.keys == [(ev.DELIVERED, call, "1002"),
                                              (ev.ESTABLISHED, call, "1002")]
        assert rig.front.line.stats.disconnects == 0  # a fresh line after reconnecting
        assert rig.named(ev.LINK_UP)
    finally:
        await stop_rig(rig)


@pytest_twisted.ensureDeferred
async def test_a_pty_disconnect_is_a_silent_spell_then_eot():
    rig = await start_rig("pty", MONITORED, t1=0.1, faults=Faults(silence_for=0.3))
    try:
        expected = Expected(rig.switch)
        rig.front.line.disconnect()
        call = Handsets(rig.switch).call("+4930123456", "1003")
        await until(lambda: len(seen(rig)) == 1, timeout=5)
        assert seen(rig) == expected.keys == [(ev.DELIVERED, call, "1003")]
        assert rig.front.line.stats.disconnects == 1
    finally:
        await stop_rig(rig)
