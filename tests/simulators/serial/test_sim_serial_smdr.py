"""SMDR lines the simulator prints for finished calls, read back by drivers.serial.smdr."""

from __future__ import annotations

import io

import pytest
from twisted.internet.task import Clock

from drivers.serial.smdr import RecordReader, read_bytes
from simulators.pbx import Handsets, Switch
from simulators.serial.smdr import FORMATS, SmdrPrinter

START = 1_700_000_000.0  # 2023-11-14T22:13:20 UTC


@pytest.fixture
def clock() -> Clock:
    made = Clock()
    made.advance(START)
    return made


@pytest.fixture
def switch(clock: Clock) -> Switch:
    pbx = Switch(clock, external_answer_seconds=None)
    pbx.add_extensions(str(n) for n in range(1001, 1010))
    pbx.add_trunks(["801", "802"])
    yield pbx
    pbx.close()


def records(out: io.StringIO, format: str):
    reader = RecordReader(format)
    return [reader.read(line) for line in out.getvalue().split("\r\n") if line]


@pytest.mark.parametrize("format", sorted(FORMATS))
def test_answered_inbound_call(switch, clock, format):
    out = io.StringIO()
    SmdrPrinter(switch, out, format)
    phones = Handsets(switch)
    phones.call("+4930123456", "1001")
    clock.advance(4)
    phones.answer("1001")
    clock.advance(65)
    phones.hangup("1001")
    (record,) = records(out, format)
    assert (record.extension, record.number, record.direction, record.ring_seconds) == (
        "1001", "+4930123456", "in", 4)
    assert record.start == "2023-11-14T22:13:20"
    assert record.trunk in ("801", "T801", "801")
    if format == "siemens-hipath":
        assert record.duration_seconds == 65
    else:
        assert record.extra["connected_seconds"] == 65


def test_unanswered_inbound_call_has_ring_time_and_no_talk(switch, clock):
    out = io.StringIO()
    SmdrPrinter(switch, out)
    Handsets(switch).call("+4930999", "1002")
    clock.advance(12)
    Handsets(switch).hangup("+4930999")
    (record,) = records(out, "siemens-hipath")
    assert (record.extension, record.ring_seconds, record.duration_seconds) == ("1002", 12, 0)


def test_outbound_call(switch, clock):
    out = io.StringIO()
    SmdrPrinter(switch, out)
    call = switch.make_call("1003", "01701234567")
    clock.advance(3)
    switch.answer_call(call, next(d for d in switch.calls[call].connections if d != "1003"))
    clock.advance(30)
    Handsets(switch).hangup("1003")
    (record,) = records(out, "siemens-hipath")
    assert (record.extension, record.number, record.direction, record.duration_seconds) == (
        "1003", "01701234567", "out", 30)


def test_internal_calls_are_not_logged(switch, clock):
    out = io.StringIO()
    printer = SmdrPrinter(switch, out)
    Handsets(switch).call("1001", "1002")
    Handsets(switch).answer("1002")
    Handsets(switch).hangup("1001")
    assert out.getvalue() == "" and printer.printed == 0


def test_a_transferred_call_prints_one_line_per_segment(switch, clock):
    out = io.StringIO()
    SmdrPrinter(switch, out)
    phones = Handsets(switch)
    phones.call("+4930123456", "1001")
    clock.advance(2)
    phones.answer("1001")
    clock.advance(10)
    phones.consult("1001", "1002")
    clock.advance(1)
    phones.answer("1002")
    clock.advance(5)
    phones.transfer("1001")
    clock.advance(40)
    phones.hangup("1002")
    first, second = records(out, "siemens-hipath")
    assert (first.extension, first.number, first.duration_seconds) == ("1001", "+4930123456", 16)
    assert (second.extension, second.number, second.duration_seconds) == ("1002", "+4930123456", 40)


def test_the_whole_printout_parses_with_auto_detection(switch, clock):
    out = io.StringIO()
    SmdrPrinter(switch, out)
    phones = Handsets(switch)
    for n in range(5):
        phones.call(f"+49301234{n}", "1001")
        clock.advance(1)
        phones.answer("1001")
        clock.advance(7)
        phones.hangup("1001")
    parsed = list(read_bytes(out.getvalue().encode("ascii")))
    assert [r.number for _, r in parsed] == [f"+49301234{n}" for n in range(5)]
    assert all(len(line) == 76 for line in out.getvalue().split("\r\n") if line)


def test_unknown_format_is_refused(switch):
    with pytest.raises(ValueError, match="siemens-hipath"):
        SmdrPrinter(switch, io.StringIO(), "bogus")
