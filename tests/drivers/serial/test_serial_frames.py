"""Framing of the serial CTI link, byte by byte against docs/serial-link-protocol.md."""

from __future__ import annotations

from functools import reduce

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.serial.frames import (
    Ack,
    BadFrame,
    Enq,
    Eot,
    Frame,
    FrameDecoder,
    Nak,
    Noise,
    encode_ack,
    encode_frame,
)

# Worked examples of the protocol document, BCC computed by hand from the spec.
DOC_EXAMPLES = [
    (0, "ERNG;C=4711;D=1001;A=01701234567;B=1001",
     b"\x020ERNG;C=4711;D=1001;A=01701234567;B=1001\x031C"),
    (2, "QMAK;I=12;D=1001;B=01701234567", b"\x022QMAK;I=12;D=1001;B=01701234567\x035B"),
    (3, "PMAK;I=12;C=4712", b"\x023PMAK;I=12;C=4712\x032E"),
    (0, "", b"\x020\x0333"),
]


def spec_bcc(body: bytes) -> bytes:
    """The spec's BCC, written independently: XOR of seq..ETX as two upper-case hex digits."""
    return b"%02X" % reduce(lambda a, b: a ^ b, body, 0)


@pytest.mark.parametrize(("seq", "text", "wire"), DOC_EXAMPLES)
def test_encoder_produces_the_documented_bytes(seq, text, wire):
    assert encode_frame(seq, text) == wire
    assert wire[-2:] == spec_bcc(wire[1:-2])


@pytest.mark.parametrize(("seq", "text", "wire"), DOC_EXAMPLES)
def test_decoder_reads_the_documented_bytes(seq, text, wire):
    assert FrameDecoder().feed(wire) == [Frame(seq, text)]


def test_line_control_units():
    units = FrameDecoder().feed(b"\x067\x15\x05\x04")
    assert units == [Ack(7), Nak(), Enq(), Eot()]
    assert encode_ack(7) == b"\x067"


def test_ack_without_sequence_digit_is_unmatched_and_the_next_byte_still_counts():
    assert FrameDecoder().feed(b"\x06\x05") == [Ack(None), Enq()]


def test_bad_checksum_is_a_bad_frame():
    units = FrameDecoder().feed(b"\x023PMAK;I=12;C=4712\x0399")
    assert units == [BadFrame("BCC mismatch", b"\x023PMAK;I=12;C=4712\x0399")]


def test_frame_cut_by_a_new_stx_resynchronises_on_it():
    good = encode_frame(5, "EHLD;C=1;D=1001")
    units = FrameDecoder().feed(b"\x024EANS;C=1;D=10" + good)
    assert isinstance(units[0], BadFrame) and units[1:] == [Frame(5, "EHLD;C=1;D=1001")]


def test_control_byte_in_text_breaks_the_frame_and_is_itself_obeyed():
    units = FrameDecoder().feed(b"\x021EAN\x05S")
    assert isinstance(units[0], BadFrame) and units[1] == Enq()
    assert units[2] == Noise(b"S")


def test_noise_outside_frames_is_reported():
    assert FrameDecoder().feed(b"\xff\x00ab") == [Noise(b"\xff\x00ab")]


@pytest.mark.parametrize("text", ["caf\u00e9", "a\tb", "x" * 1025])
def test_text_the_link_cannot_carry_is_refused(text):
    with pytest.raises(ValueError):
        encode_frame(0, text)


def test_too_long_frame_on_the_wire_is_discarded():
    units = FrameDecoder().feed(b"\x020" + b"x" * 1100 + b"\x0300" + encode_frame(1, "ok"))
    assert isinstance(units[0], BadFrame) and units[-1] == Frame(1, "ok")


texts = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=60)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 9), texts), max_size=8), st.data())
def test_any_chunking_gives_the_same_frames(frames, data):
    wire = b"".join(encode_frame(seq, text) for seq, text in frames)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(wire)), max_size=10)))
    decoder, got, last = FrameDecoder(), [], 0
    for cut in [*cuts, len(wire)]:
        got += decoder.feed(wire[last:cut])
        last = cut
    assert got == [Frame(seq, text) for seq, text in frames]
