"""The link layer's rules (docs/serial-link-protocol.md), driven byte by byte in virtual time.

The peer's bytes are written out literally here, as a PBX integrator would read them from the
protocol document, so these tests check the document and not just the encoder.
"""

from __future__ import annotations

import random

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport

from drivers.base import LinkDown
from drivers.serial.frames import Frame, FrameDecoder, encode_frame
from drivers.serial.link import LinkProtocol

STX, ETX, EOT, ENQ, ACK, NAK = b"\x02", b"\x03", b"\x04", b"\x05", b"\x06", b"\x15"
RING = b"\x020ERNG;C=4711;D=1001;A=01701234567;B=1001\x031C"
MAKE_CALL = b"\x022QMAK;I=12;D=1001;B=01701234567\x035B"


class Harness:
    def __init__(self, **options):
        self.clock = Clock()
        self.delivered: list[str] = []
        self.states: list[bool] = []
        self.reports: list[str] = []
        self.link = LinkProtocol(
            self.delivered.append, self.clock, on_state=self.states.append,
            report=self.reports.append, **{"t1": 2.0, "retries": 4, "keepalive": 30.0, **options},
        )
        self.transport = StringTransport()
        self.link.makeConnection(self.transport)

    def written(self) -> bytes:
        data = self.transport.value()
        self.transport.clear()
        return data

    def hear(self, data: bytes) -> None:
        self.link.dataReceived(data)

    def bring_up(self) -> None:
        assert self.written() == ENQ
        self.hear(NAK)
        assert self.link.up and self.states == [True]


def test_link_opens_with_enq_and_is_up_at_the_first_answer():
    harness = Harness()
    harness.bring_up()


def test_link_stays_down_and_keeps_probing_while_the_peer_is_silent():
    harness = Harness()
    assert harness.written() == ENQ
    for _ in range(3):
        harness.clock.advance(2.0)
        assert harness.written() == ENQ
    assert harness.states == [] and not harness.link.up


def test_received_frame_is_acked_and_delivered_once_even_when_retransmitted():
    harness = Harness()
    harness.bring_up()
    harness.hear(RING)
    assert harness.written() == ACK + b"0"
    harness.hear(RING)
    assert harness.written() == ACK + b"0"
    assert harness.delivered == ["ERNG;C=4711;D=1001;A=01701234567;B=1001"]
    assert harness.link.stats.duplicates == 1


def test_eot_makes_the_receiver_forget_the_last_sequence_number():
    harness = Harness()
    harness.bring_up()
    harness.hear(RING)
    harness.hear(EOT)
    harness.hear(RING)
    assert len(harness.delivered) == 2


def test_garbled_frame_is_naked_and_enq_repeats_the_last_answer():
    harness = Harness()
    harness.bring_up()
    harness.hear(RING[:-2] + b"00")
    assert harness.written() == NAK
    harness.hear(ENQ)
    assert harness.written() == NAK
    harness.hear(RING)
    harness.hear(ENQ)
    assert harness.written() == ACK + b"0" + ACK + b"0"
    assert harness.link.stats.bad_frames == 1 and any("BCC" in r for r in harness.reports)


def test_sent_frame_completes_on_its_ack_and_the_next_one_follows():
    harness = Harness()
    harness.bring_up()
    first = harness.link.send("QMAK;I=12;D=1001;B=01701234567")
    second = harness.link.send("QMON;I=13;D=1002")
    wire = harness.written()
    assert wire == b"\x020QMAK;I=12;D=1001;B=01701234567\x0359"  # 0x5B ^ "2" ^ "0"
    harness.hear(ACK + b"7")  # a stale ACK does not complete the frame
    assert not first.called
    harness.hear(ACK + b"0")
    assert first.called and first.result is None
    assert harness.written().startswith(b"\x021QMON;I=13;D=1002\x03")
    harness.hear(ACK + b"1")
    assert second.called


def test_nak_makes_the_sender_retransmit_the_same_bytes():
    harness = Harness()
    harness.bring_up()
    done = harness.link.send("QMON;I=1;D=1001")
    frame = harness.written()
    harness.hear(NAK)
    assert harness.written() == frame
    harness.hear(ACK + b"0")
    assert done.called and harness.link.stats.retransmissions == 1


def test_silence_after_a_frame_sends_enq_and_the_repeated_ack_completes_it():
    harness = Harness()
    harness.bring_up()
    done = harness.link.send("QMON;I=1;D=1001")
    harness.written()
    harness.clock.advance(2.0)
    assert harness.written() == ENQ
    harness.hear(ACK + b"0")
    assert done.called


def test_retry_limit_gives_the_frame_up_reports_it_and_takes_the_link_down():
    harness = Harness()
    harness.bring_up()
    done = harness.link.send("QMON;I=1;D=1001")
    failures = []
    done.addErrback(failures.append)
    frame = harness.written()
    for _ in range(4):
        harness.hear(NAK)
        assert harness.written() == frame
    harness.hear(NAK)
    assert harness.written() == EOT
    assert failures and failures[0].check(LinkDown)
    assert harness.states == [True, False]
    assert harness.link.stats.dropped == ["QMON;I=1;D=1001"]
    assert any("gave up frame 0" in report for report in harness.reports)
    later = harness.link.send("QMON;I=2;D=1002")
    assert later.called and isinstance(later.result.value, LinkDown)
    later.addErrback(lambda _: None)
    harness.clock.advance(2.0)
    assert harness.written() == ENQ
    harness.hear(NAK)
    assert harness.link.up
    harness.link.send("QMON;I=3;D=1003")
    assert harness.written().startswith(b"\x021QMON;I=3")  # sequence numbers move on


def test_idle_link_is_probed_and_declared_down_after_unanswered_probes():
    harness = Harness()
    harness.bring_up()
    harness.clock.advance(30.0)
    assert harness.written() == ENQ
    for _ in range(4):
        harness.clock.advance(2.0)
        assert harness.written() == ENQ
    assert harness.link.up
    harness.clock.advance(2.0)
    assert harness.states == [True, False]
    harness.written()
    harness.hear(ACK + b"5")
    assert harness.states == [True, False, True]


def test_pending_frames_fail_with_link_down_when_the_connection_is_lost():
    harness = Harness()
    harness.bring_up()
    first, second = harness.link.send("a"), harness.link.send("b")
    harness.link.connectionLost(None)
    for done in (first, second):
        assert isinstance(done.result.value, LinkDown)
        done.addErrback(lambda _: None)
    assert harness.clock.getDelayedCalls() == []


def test_kept_frame_survives_a_pulled_cable_and_is_delivered_once():
    """PBX side: an event in flight when the cable is pulled is retransmitted, not lost."""
    harness = Harness(keep_unacknowledged=True)
    harness.bring_up()
    done = harness.link.send("ERNG;C=1;D=1001")
    first = harness.written()
    for _ in range(5):  # cable pulled: nothing comes back
        harness.clock.advance(2.0)
    assert harness.states == [True, False] and not done.called
    queued = harness.link.send("EANS;C=1;D=1001")
    harness.written()
    harness.hear(NAK)  # cable back: the host answers a probe
    assert harness.written() == first
    harness.hear(ACK + b"0")
    assert done.called
    assert harness.written().startswith(b"\x021EANS;C=1;D=1001\x03")
    harness.hear(ACK + b"1")
    assert queued.called and harness.link.stats.dropped == []


@pytest.mark.parametrize("text", ["caf\u00e9", "x" * 2000])
def test_text_the_link_cannot_carry_fails_at_once(text):
    harness = Harness()
    harness.bring_up()
    done = harness.link.send(text)
    assert isinstance(done.result.value, ValueError)
    done.addErrback(lambda _: None)


# Property: random noise between valid frames never loses a valid frame.

printable = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=40)


@settings(max_examples=300, deadline=None)
@given(st.lists(printable, min_size=1, max_size=10), st.data())
def test_noise_between_valid_frames_never_loses_a_frame(texts, data):
    frames = [encode_frame(index % 10, text) for index, text in enumerate(texts)]
    noises = [data.draw(st.binary(max_size=30)) for _ in frames]
    # Noise that is itself a valid frame (or resets the receiver) is not noise.
    for noise in noises:
        assume(not any(isinstance(unit, Frame) for unit in FrameDecoder().feed(noise)))
        assume(b"\x04" not in noise)
    harness = Harness()
    harness.bring_up()
    for noise, frame in zip(noises, frames, strict=True):
        harness.hear(noise)
        harness.hear(frame)
    assert harness.delivered == texts


# Fault injection at a fixed seed: two link ends over a channel that drops, corrupts,
# duplicates and pads what they write; every frame arrives, once, in order.


class FaultyChannel:
    def __init__(self, clock: Clock, rng: random.Random, rate: float) -> None:
        self.clock, self.rng, self.rate = clock, rng, rate
        self.faults = 0

    def connect(self, sender: StringTransport, receiver: LinkProtocol) -> None:
        original = sender.write

        def write(data: bytes) -> None:
            original(data)
            sender.clear()
            self.clock.callLater(0.01, receiver.dataReceived, self.damage(data))

        sender.write = write

    def damage(self, data: bytes) -> bytes:
        if self.rng.random() >= self.rate:
            return data
        self.faults += 1
        fault = self.rng.choice(["drop", "flip", "cut", "noise", "double"])
        at = self.rng.randrange(len(data))
        if fault == "drop":
            return b""
        if fault == "flip":
            return data[:at] + bytes([self.rng.randrange(0x20, 0x100)]) + data[at + 1:]
        if fault == "cut":
            return data[:at]
        if fault == "noise":
            return bytes(self.rng.randrange(0x08, 0x100) for _ in range(5)) + data
        return data + data


@pytest.mark.parametrize("seed", [7, 1234, 99991])
def test_faulty_line_at_a_fixed_seed_loses_no_frame(seed):
    clock = Clock()
    rng = random.Random(seed)
    received: list[str] = []
    pbx = LinkProtocol(lambda text: None, clock, t1=1.0, retries=8, keepalive=5.0,
                       keep_unacknowledged=True)
    host = LinkProtocol(received.append, clock, t1=1.0, retries=8, keepalive=5.0)
    pbx_wire, host_wire = StringTransport(), StringTransport()
    channel = FaultyChannel(clock, rng, rate=0.2)
    channel.connect(pbx_wire, host)
    channel.connect(host_wire, pbx)
    pbx.makeConnection(pbx_wire)
    host.makeConnection(host_wire)
    sent = [f"ERNG;C={n};D={1000 + n % 50};A=0301234{n:04d}" for n in range(200)]
    for text in sent:
        pbx.send(text)
    for _ in range(20000):
        clock.advance(0.05)
        if len(received) >= len(sent) and pbx.pending == 0:
            break
    collapsed = [text for index, text in enumerate(received) if index == 0 or received[index - 1] != text]
    assert collapsed == sent
    assert channel.faults > 20
    assert pbx.stats.dropped_frames == 0
    pbx.connectionLost(None)
    host.connectionLost(None)
    for call in clock.getDelayedCalls():
        call.cancel()


def test_a_frame_sent_the_moment_the_link_comes_up_goes_out_once():
    clock, transport, sent = Clock(), StringTransport(), []
    link = LinkProtocol(lambda text: None, clock, on_state=lambda up: sent.append(link.send("QMON;I=1;D=1")))
    link.makeConnection(transport)
    transport.clear()
    link.dataReceived(NAK)
    assert transport.value() == encode_frame(0, "QMON;I=1;D=1")


def test_a_frame_repeated_after_an_outage_is_not_delivered_twice():
    """The PBX kept a frame whose ACK was lost in the outage and repeats it when back."""
    harness = Harness()
    harness.bring_up()
    harness.hear(RING)
    harness.clock.pump([30.0] + [2.0] * 5)
    assert harness.states == [True, False]
    harness.hear(RING)
    assert harness.states == [True, False, True]
    assert len(harness.delivered) == 1 and harness.link.stats.duplicates == 1
