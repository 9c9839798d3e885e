"""The 8-byte ECMA-323 frame header, split from the byte stream however it arrives."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from twisted.internet.testing import StringTransport

from simulators.csta.framing import FrameReceiver, encode_frame


class Collector(FrameReceiver):
    def __init__(self) -> None:
        self.frames = []
        self.errors = []

    def frameReceived(self, invoke_id, body):
        self.frames.append((invoke_id, body))

    def frameError(self, reason):
        self.errors.append(reason)


def connected() -> Collector:
    receiver = Collector()
    receiver.makeConnection(StringTransport())
    return receiver


def test_header_is_zero_zero_length_including_header_and_invoke_id():
    frame = encode_frame("0042", b"<x/>")
    assert frame == b"\x00\x00\x00\x0c0042<x/>"


def test_frames_larger_than_64k_are_refused():
    with pytest.raises(ValueError):
        encode_frame("0001", b"x" * 65535)


@given(
    bodies=st.lists(st.binary(min_size=0, max_size=300), min_size=1, max_size=8),
    cut=st.integers(min_value=1, max_value=50),
)
def test_frames_survive_any_segmentation(bodies, cut):
    receiver = connected()
    stream = b"".join(encode_frame(f"{i + 1:04d}", body) for i, body in enumerate(bodies))
    for start in range(0, len(stream), cut):
        receiver.dataReceived(stream[start:start + cut])
    assert receiver.frames == [(f"{i + 1:04d}", body) for i, body in enumerate(bodies)]


@pytest.mark.parametrize("garbage", [b"\x01\x00\x00\x0c0001<x/>", b"\x00\x00\x00\x040001"])
def test_an_impossible_header_drops_the_connection(garbage):
    receiver = connected()
    receiver.dataReceived(garbage)
    assert receiver.frames == []
    assert receiver.errors
    assert receiver.transport.disconnecting
