"""SMDR byte streams: framing per format, the Twisted receiver, chunking never matters."""

from __future__ import annotations

import os

from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.internet.testing import StringTransport

from drivers.serial.smdr.framing import LineFramer, StxEtxFramer, guess_framing
from drivers.serial.smdr.receiver import SmdrReceiver

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")


def fixture(name: str) -> bytes:
    with open(os.path.join(FIXTURES, name), "rb") as handle:
        return handle.read()


def feed_in_chunks(data: bytes, cuts: list[int], format: str = "auto"):
    records, warnings = [], []
    receiver = SmdrReceiver(records.append, format, warnings.append)
    receiver.makeConnection(StringTransport())
    last = 0
    for cut in sorted(set(cuts)):
        receiver.dataReceived(data[last:cut])
        last = cut
    receiver.dataReceived(data[last:])
    receiver.connectionLost(None)
    return records, warnings


class TestLineFramer:
    def test_crlf_split_across_chunks_is_one_line_end(self):
        framer = LineFramer()
        assert framer.feed(b"one\r") == [(1, "one")]
        assert framer.feed(b"\ntwo\r\n") == [(2, "two")]

    def test_cr_only_and_lf_only_lines(self):
        assert LineFramer().feed(b"a\rb\nc\r\n") == [(1, "a"), (2, "b"), (3, "c")]

    def test_runaway_line_is_cut_not_buffered_forever(self):
        framer = LineFramer()
        out = framer.feed(b"x" * 5000)
        assert len(out) == 1 and len(out[0][1]) == 5000


class TestStxEtxFramer:
    def test_noise_between_records_is_counted_and_dropped(self):
        framer = StxEtxFramer()
        assert framer.feed(b"zz\x02one\x03\r\n\x02tw") == [(1, "one")]
        assert framer.feed(b"o\x03") == [(2, "two")]
        assert framer.dropped == 4

    def test_record_cut_by_a_new_stx_is_dropped(self):
        framer = StxEtxFramer()
        assert framer.feed(b"\x02half\x02whole\x03") == [(1, "whole")]
        assert framer.dropped == 4


def test_framing_guess():
    assert guess_framing(fixture("nec-neax-smdr.bin")) == "stx-etx"
    assert guess_framing(fixture("siemens-hipath-serial.txt")) == "lines"


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=2200), max_size=40))
def test_hipath_stream_gives_the_same_records_however_it_is_chunked(cuts):
    records, warnings = feed_in_chunks(fixture("siemens-hipath-serial.txt"), cuts)
    assert warnings == []
    assert len(records) == 27 and records[-1].raw.startswith("30.03.2121:12:21")


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=600), max_size=20))
def test_nec_stream_gives_the_same_records_however_it_is_chunked(cuts):
    records, warnings = feed_in_chunks(fixture("nec-neax-smdr.bin"), cuts)
    assert warnings == []
    assert [r.extra["record_kind"] for r in records] == ["KK", "KL", "KM"]


def test_unparseable_line_warns_with_its_number_and_the_stream_goes_on():
    data = b"2008/06/28 09:28:41,broken\r\n" + fixture("avaya-ip-office.csv")
    records, warnings = feed_in_chunks(data, [], "avaya-ipo")
    assert len(records) == 4
    assert len(warnings) == 1 and warnings[0].startswith("line 1: ")


def test_a_failing_sink_is_reported_and_later_records_still_arrive():
    seen, warnings = [], []

    def sink(record):
        seen.append(record)
        if len(seen) == 1:
            raise RuntimeError("database is away")

    receiver = SmdrReceiver(sink, "auto", warnings.append)
    receiver.makeConnection(StringTransport())
    receiver.dataReceived(fixture("avaya-ip-office.csv"))
    assert len(seen) == 4
    assert warnings == ["line 1: record sink failed: RuntimeError: database is away"]


def test_last_line_without_line_end_is_delivered_on_close():
    records, _ = feed_in_chunks(fixture("avaya-ip-office.csv").rstrip(b"\n"), [])
    assert len(records) == 4


garbage_line = st.binary(max_size=90).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b""))


@settings(max_examples=100, deadline=None)
@given(st.lists(garbage_line, min_size=27, max_size=27))
def test_garbage_lines_between_records_never_lose_a_record(garbage):
    lines = fixture("siemens-hipath-serial.txt").split(b"\r\n")[:-1]
    mixed = b"".join(noise + b"\r\n" + line + b"\r\n" for noise, line in zip(garbage, lines, strict=True))
    records, warnings = [], []
    receiver = SmdrReceiver(records.append, "siemens-hipath", warnings.append)
    receiver.makeConnection(StringTransport())
    receiver.dataReceived(mixed)
    expected = [line.decode("latin-1").lstrip("\x10\x02\x03\x13\x11") for line in lines]
    got = iter(record.raw for record in records)
    assert all(any(raw == want for raw in got) for want in expected)
