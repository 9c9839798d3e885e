"""How an SMDR line becomes a call-record row: its key and its UTC start."""

from __future__ import annotations

from datetime import datetime

from hypothesis import given
from hypothesis import strategies as st

from cti.smdr_ingest import RecordKeys, to_call_record
from drivers.serial.smdr import read_bytes
from drivers.serial.smdr.record import CallRecord as SmdrRecord

RECEIVED = datetime(2026, 7, 1, 12, 0, 0)


def _keys(lines: list[str], link: str = "pbx1") -> list[str]:
    keys = RecordKeys(link)
    return [keys.key(line) for line in lines]


@given(st.lists(st.sampled_from(["a", "b", "c 12:00"]), max_size=30))
def test_reading_the_same_stream_again_gives_the_same_keys_and_every_line_its_own(lines):
    first = _keys(lines)
    assert first == _keys(lines)
    assert len(set(first)) == len(lines)
    assert all(len(key) <= 64 for key in first)


def test_a_reopened_port_replaying_its_buffer_maps_onto_the_keys_it_had():
    keys = RecordKeys("pbx1")
    before = [keys.key(line) for line in ("x", "x", "y")]
    keys.new_stream()
    assert [keys.key(line) for line in ("x", "x", "y", "z")][:3] == before


def test_the_same_line_on_two_links_is_two_records():
    assert _keys(["x"], "pbx1") != _keys(["x"], "pbx2")


def _record(start: str | None) -> SmdrRecord:
    return SmdrRecord(format="avaya-ipo", start=start, trunk="9", extension="4324",
                      ring_seconds=3, duration_seconds=60, number="8004206", direction="in",
                      raw="line")


def test_the_start_is_stored_in_utc_using_the_links_zone():
    def start(zone: str, when: str) -> datetime:
        return to_call_record(_record(when), link="l", timezone=zone, tenant_id=None, key="k",
                              received=RECEIVED).started_at

    assert start("Europe/Berlin", "2008-06-28T09:28:41") == datetime(2008, 6, 28, 7, 28, 41)
    assert start("Europe/Berlin", "2008-01-28T09:28:41") == datetime(2008, 1, 28, 8, 28, 41)
    assert start("America/New_York", "2008-06-28T09:28:41") == datetime(2008, 6, 28, 13, 28, 41)
    assert start("UTC", "2008-06-28T09:28:41") == datetime(2008, 6, 28, 9, 28, 41)


def test_a_record_without_a_start_is_dated_when_it_arrived():
    row = to_call_record(_record(None), link="l", timezone="Europe/Berlin", tenant_id=7,
                         key="k", received=RECEIVED)
    assert row.started_at == RECEIVED and row.tenant_id == 7


def test_every_field_of_a_real_record_reaches_the_row():
    line = (b"2008/06/28 09:30:57,00:00:13,7,01707392200,I,299999,299999,,0,1000014160,1,"
            b"E4750,John Smith,T9002,LINE 1.2,11,0\r\n")
    [(_, record)] = list(read_bytes(line))
    row = to_call_record(record, link="pbx1", timezone="Europe/Berlin", tenant_id=3,
                         key="k1", received=RECEIVED)
    assert (row.source, row.link, row.tenant_id, row.record_key) == (
        "smdr:avaya-ipo", "pbx1", 3, "k1")
    assert (row.trunk, row.extension, row.number, row.direction) == (
        record.trunk, record.extension, record.number, "in")
    assert (row.ring_seconds, row.duration_seconds) == (record.ring_seconds,
                                                          record.duration_seconds)
    assert row.raw == line.decode().rstrip()
    assert row.started_at == datetime(2008, 6, 28, 7, 30, 57)
