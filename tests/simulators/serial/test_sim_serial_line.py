"""The simulated line: bytes paced at baud/10 per second each way, faults at a fixed seed,
fault specifications parsed with clear errors."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from twisted.internet.protocol import Protocol
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport

from drivers.serial.frames import BadFrame, Frame, FrameDecoder, encode_frame
from simulators.serial.line import NO_FAULTS, NOISE_BYTES, Faults, SimulatedLine, parse_faults


class Recorder(Protocol):
    def __init__(self) -> None:
        self.received = b""
        self.lost = False

    def dataReceived(self, data: bytes) -> None:
        self.received += data

    def connectionLost(self, reason=None) -> None:
        self.lost = True


def make_line(baud=9600, faults=NO_FAULTS, seed=0, can_disconnect=True):
    clock, link, wire = Clock(), Recorder(), StringTransport()
    line = SimulatedLine(link, clock, baud=baud, faults=faults, seed=seed,
                         can_disconnect=can_disconnect)
    line.makeConnection(wire)
    return clock, link, wire, line


def test_bytes_leave_when_their_last_bit_would_have():
    clock, _, wire, line = make_line(baud=9600)  # 960 bytes per second
    line.write(b"x" * 96)  # 0.1 s of line time
    clock.advance(0.099)
    assert wire.value() == b""
    clock.advance(0.002)
    assert wire.value() == b"x" * 96


def test_writes_queue_behind_each_other():
    clock, _, wire, line = make_line(baud=9600)
    line.write(b"a" * 96)
    line.write(b"b" * 96)
    clock.advance(0.1005)
    assert wire.value() == b"a" * 96
    clock.advance(0.1)
    assert wire.value() == b"a" * 96 + b"b" * 96


def test_incoming_bytes_are_paced_too():
    clock, link, _, line = make_line(baud=9600)
    line.dataReceived(b"y" * 48)
    assert link.received == b""
    clock.advance(0.051)
    assert link.received == b"y" * 48


def test_unpaced_line_passes_bytes_at_once():
    _, link, wire, line = make_line(baud=None)
    line.write(b"abc")
    line.dataReceived(b"def")
    assert (wire.value(), link.received) == (b"abc", b"def")


def test_the_same_seed_injects_the_same_faults():
    data = encode_frame(3, "ERNG;C=4711;D=1001;A=01701234567;B=1001") * 50
    outputs = []
    for _ in range(2):
        _, _, wire, line = make_line(baud=None, faults=Faults(noise=0.02, drop=0.02), seed=11)
        line.write(data)
        outputs.append(wire.value())
    assert outputs[0] == outputs[1] != data
    _, _, wire, line = make_line(baud=None, faults=Faults(noise=0.02, drop=0.02), seed=12)
    line.write(data)
    assert wire.value() != outputs[0]


def test_noise_is_never_a_link_control_byte():
    assert not set(NOISE_BYTES) & {0x02, 0x03, 0x04, 0x05, 0x06, 0x15}


def test_a_corrupted_checksum_makes_the_frame_bad():
    _, _, wire, line = make_line(baud=None, faults=Faults(checksum=1.0))
    line.write(encode_frame(0, "PMON;I=1"))
    (unit,) = FrameDecoder().feed(wire.value())
    assert isinstance(unit, BadFrame)
    assert line.stats.bad_checksums == 1


_TEXT = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=60)


@given(_TEXT, st.data())
def test_one_dropped_or_inserted_byte_never_makes_a_different_frame(text, data):
    """One line hit per frame is always caught (BCC + framing): the frame arrives intact or
    not at all. (Two hits can cancel in the XOR block check, e.g. two equal bytes dropped:
    a limit of the protocol's BCC, not of the line.)"""
    frame = encode_frame(5, text)
    at = data.draw(st.integers(min_value=0, max_value=len(frame) - 1))
    noise = data.draw(st.sampled_from(NOISE_BYTES))
    for damaged in (frame[:at] + frame[at + 1:], frame[:at] + bytes([noise]) + frame[at:]):
        frames = [u for u in FrameDecoder().feed(damaged) if isinstance(u, Frame)]
        assert frames in ([], [Frame(5, text)])


@given(st.integers(min_value=0, max_value=2**32))
def test_the_line_counts_every_byte_it_adds_or_drops(seed):
    sent = encode_frame(1, "ERNG;C=4711;D=1001;A=01701234567;B=1001")
    _, _, wire, line = make_line(baud=None, faults=Faults(noise=0.1, drop=0.1), seed=seed)
    line.write(sent)
    arrived = wire.value()
    assert len(arrived) == len(sent) - line.stats.dropped_bytes + line.stats.noise_bytes
    assert not set(arrived) - set(sent) - set(NOISE_BYTES)


def test_silence_swallows_both_directions_for_its_duration():
    clock, link, wire, line = make_line(baud=None)
    line.silence(1.0)
    line.write(b"lost")
    line.dataReceived(b"lost too")
    clock.advance(1.0)
    line.write(b"ok")
    assert (wire.value(), link.received) == (b"ok", b"")
    assert line.stats.silenced_bytes == 12


def test_a_clean_close_waits_for_the_bytes_still_on_the_line():
    clock, _, wire, line = make_line(baud=9600)
    line.write(b"\x04")  # the goodbye EOT
    line.loseConnection()
    assert not wire.disconnecting
    clock.advance(0.002)
    assert wire.value() == b"\x04" and wire.disconnecting


def test_disconnect_closes_a_tcp_line():
    _, _, wire, line = make_line(baud=None)
    line.disconnect()
    assert wire.disconnecting


def test_disconnect_on_a_pty_is_silence_then_eot():
    clock, _, wire, line = make_line(baud=None, faults=Faults(silence_for=0.5),
                                     can_disconnect=False)
    line.disconnect()
    line.write(b"gone")
    clock.advance(0.6)
    assert wire.value() == b"\x04" and not wire.disconnecting


def test_timed_spells_are_cancelled_when_the_connection_goes():
    clock, link, _, line = make_line(baud=9600, faults=Faults(silence=5, disconnect=10))
    assert clock.getDelayedCalls()
    line.write(b"pending")
    line.connectionLost(None)
    assert clock.getDelayedCalls() == [] and link.lost


def test_parse_faults():
    assert parse_faults("noise=0.01,drop=0.001,checksum=0.02,silence=30,silence_for=2,"
                        "disconnect=120") == Faults(0.01, 0.001, 0.02, 30, 2, 120)
    assert parse_faults("") == Faults()


@pytest.mark.parametrize(("text", "message"), [
    ("noise", "KEY=VALUE"),
    ("hum=0.1", "KEY=VALUE"),
    ("noise=lots", "number"),
    ("drop=2", "probability"),
    ("silence=-1", "zero or more"),
])
def test_parse_faults_rejects_bad_specs(text, message):
    with pytest.raises(ValueError, match=message):
        parse_faults(text)
