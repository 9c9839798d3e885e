"""The 8-byte header framing: frames survive any TCP segmentation; lies never crash or stall."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from twisted.internet.testing import StringTransport

from drivers.csta.framing import CstaFraming, frame, header


class Recorder(CstaFraming):
    def __init__(self) -> None:
        self.frames: list[tuple[str, bytes]] = []
        self.skipped: list[int] = []

    def frameReceived(self, invoke_id: str, body: bytes) -> None:
        self.frames.append((invoke_id, body))

    def frameTooLong(self, head: bytes, length: int) -> None:
        super().frameTooLong(head, length)
        self.skipped.append(length)


def connected(max_length: int | None = None) -> tuple[Recorder, StringTransport]:
    protocol = Recorder()
    if max_length is not None:
        protocol.MAX_LENGTH = max_length
    transport = StringTransport()
    protocol.makeConnection(transport)
    return protocol, transport


def test_header_counts_the_whole_frame_in_bytes_not_characters():
    body = "<a>Müller</a>".encode()
    assert frame("9999", body) == b"\x00\x00" + (8 + len(body)).to_bytes(2, "big") + b"9999" + body
    assert len(body) == len("<a>Müller</a>") + 1


def test_header_refuses_what_the_wire_cannot_carry():
    with pytest.raises(ValueError):
        header("12345", 10)
    with pytest.raises(ValueError):
        header("0001", 0xFFFF)


def test_one_frame_per_call_when_segments_match_frames():
    protocol, _ = connected()
    protocol.dataReceived(frame("0001", b"<a/>"))
    protocol.dataReceived(frame("9999", b"<b/>"))
    assert protocol.frames == [("0001", b"<a/>"), ("9999", b"<b/>")]


def test_frames_split_byte_by_byte_are_reassembled():
    protocol, _ = connected()
    data = frame("0042", b"<MonitorStartResponse/>") + frame("9999", b"<x/>")
    for index in range(len(data)):
        protocol.dataReceived(data[index:index + 1])
    assert protocol.frames == [("0042", b"<MonitorStartResponse/>"), ("9999", b"<x/>")]


@given(
    bodies=st.lists(st.binary(min_size=0, max_size=300), min_size=1, max_size=8),
    cuts=st.lists(st.integers(min_value=0, max_value=3000), max_size=10),
)
def test_any_segmentation_yields_the_same_frames(bodies, cuts):
    protocol, _ = connected()
    data = b"".join(frame(f"{index + 1:04d}", body) for index, body in enumerate(bodies))
    points = sorted({0, len(data), *[cut % (len(data) + 1) for cut in cuts]})
    for start, end in zip(points, points[1:], strict=False):
        protocol.dataReceived(data[start:end])
    assert protocol.frames == [(f"{index + 1:04d}", body) for index, body in enumerate(bodies)]


def test_an_oversized_frame_is_skipped_and_framing_resumes_after_it():
    protocol, transport = connected(max_length=100)
    big = frame("9999", b"<x>" + b"a" * 200 + b"</x>")
    protocol.dataReceived(big[:50])
    protocol.dataReceived(big[50:] + frame("0001", b"<ok/>"))
    assert protocol.skipped == [len(big)]
    assert protocol.frames == [("0001", b"<ok/>")]
    assert not transport.disconnecting


@pytest.mark.parametrize(
    "garbage",
    [
        b"GET / HTTP/1.1\r\n\r\n",                      # not a CSTA peer at all
        b"\x00\x00\x00\x04" + b"9999",                   # length shorter than the header
        b"\x00\x00\x00\x20" + b"99x9" + b"<a/>" * 6,    # invoke ID not digits
        b"\x01\x00\x00\x10" + b"9999<a/>1234",           # marker bytes not zero
    ],
)
def test_garbage_resets_the_link_and_logs_instead_of_crashing(garbage, caplog):
    protocol, transport = connected()
    protocol.dataReceived(frame("0001", b"<first/>") + garbage)
    assert protocol.frames == [("0001", b"<first/>")]
    assert transport.disconnecting
    protocol.dataReceived(frame("0002", b"<after/>"))
    assert protocol.frames == [("0001", b"<first/>")], "nothing is trusted after framing is lost"


def test_a_length_that_lies_short_cuts_the_document_and_loses_framing():
    protocol, transport = connected()
    body = b"<DeliveredEvent>...</DeliveredEvent>"
    lying = b"\x00\x00" + (8 + 10).to_bytes(2, "big") + b"9999" + body
    protocol.dataReceived(lying + frame("0001", b"<next/>"))
    assert protocol.frames == [("9999", body[:10])]
    assert transport.disconnecting


def test_a_length_that_lies_long_waits_for_more_bytes_without_delivering_half_a_frame():
    protocol, transport = connected()
    lying = b"\x00\x00" + (8 + 500).to_bytes(2, "big") + b"9999" + b"<a/>"
    protocol.dataReceived(lying)
    assert protocol.frames == []
    assert not transport.disconnecting


def test_nothing_is_written_once_the_link_is_closing():
    protocol, transport = connected()
    transport.loseConnection()
    protocol.sendFrame("0001", b"<late/>")
    assert transport.value() == b""
