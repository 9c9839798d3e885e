"""Each SMDR format reads the real sample records into the interfaces.md shape."""

from __future__ import annotations

import os

import pytest

from drivers.serial.smdr import FORMATS, RecordReader, SmdrParseError, detect, read_bytes

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")
PINNED = {
    "format", "start", "trunk", "extension", "ring_seconds", "duration_seconds", "number",
    "direction", "raw",
}


def fixture(name: str) -> bytes:
    with open(os.path.join(FIXTURES, name), "rb") as handle:
        return handle.read()


def records(name: str, format: str = "auto") -> list:
    out = list(read_bytes(fixture(name), format))
    errors = [item for _, item in out if isinstance(item, SmdrParseError)]
    assert errors == []
    return [item for _, item in out]


def test_fixtures_are_byte_identical_copies_of_the_shared_samples(samples_dir):
    for name in os.listdir(FIXTURES):
        with open(os.path.join(samples_dir, "smdr", name), "rb") as shared:
            assert fixture(name) == shared.read(), name


class TestSiemensHiPath:
    def test_every_sample_line_is_a_record(self):
        assert len(records("siemens-hipath-serial.txt")) == 27

    def test_outgoing_call_columns(self):
        first = records("siemens-hipath-serial.txt")[0].to_dict()
        assert first == {
            "format": "siemens-hipath",
            "start": "2019-04-10T23:19:06",
            "trunk": "2",
            "extension": "104",
            "ring_seconds": None,
            "duration_seconds": 5,
            "number": "00441619251900",
            "direction": "out",
            "raw": "10.04.1923:19:06  2   104     00:00:0500441619251900"
            + " " * 23 + "2",
            "call_type": 2,
        }

    def test_answered_incoming_call_with_ring_time_and_ddi(self):
        record = records("siemens-hipath-serial.txt")[21]
        assert record.start == "2019-02-22T23:11:43"
        assert (record.extension, record.ring_seconds, record.duration_seconds) == ("048", 41, 603)
        assert record.direction == "in"
        assert record.extra["call_type"] == 1
        assert record.extra["ddi"] == "54416"

    def test_ringing_information_record_has_no_duration(self):
        record = records("siemens-hipath-serial.txt")[7]
        assert record.extra["call_type"] == 0
        assert record.duration_seconds is None and record.direction == "in"

    def test_control_bytes_before_a_line_are_stripped_from_raw(self):
        last = records("siemens-hipath-serial.txt")[-1]
        assert last.raw.startswith("30.03.2121:12:21")
        assert last.number == "0860610095"

    def test_call_type_with_disa_offset_keeps_direction(self):
        line = "11.04.1900:34:13  2   104     00:00:060876153281                          52"
        record = FORMATS["siemens-hipath"].parse(line)
        assert record.direction == "out" and record.extra["call_type"] == 52

    def test_bad_duration_column_is_a_parse_error(self):
        line = "11.04.1900:34:13  2   104     00:0x:060876153281                           2"
        with pytest.raises(SmdrParseError, match="duration"):
            FORMATS["siemens-hipath"].parse(line)


class TestAvayaIPOffice:
    def test_duration_is_connected_plus_ring_plus_hold_plus_park(self):
        second = records("avaya-ip-office.csv")[1]
        assert (second.ring_seconds, second.duration_seconds) == (7, 13 + 7 + 11 + 0)
        assert second.extra["continuation"] is True

    def test_incoming_call_names_extension_trunk_and_caller(self):
        first = records("avaya-ip-office.csv")[0]
        assert first.start == "2008-06-28T09:28:41"
        assert (first.extension, first.trunk, first.number, first.direction) == (
            "4324", "9161", "8004206", "in"
        )
        assert first.extra["call_id"] == "1000014155"

    def test_voicemail_leg_has_no_extension(self):
        leg = records("avaya-ip-office.csv")[2]
        assert leg.extension is None and leg.extra["party1"]["device"] == "V9502"

    def test_internal_call_number_is_the_other_extension(self):
        internal = records("avaya-ip-office.csv")[3]
        assert (internal.direction, internal.extension, internal.number) == ("internal", "4688", "4207")

    def test_header_line_is_skipped(self):
        reader = RecordReader("avaya-ipo")
        assert reader.read("Call Start,Connected Time,Ring Time,Caller,Direction,Called Number") is None

    def test_short_line_is_a_parse_error(self):
        with pytest.raises(SmdrParseError, match="fields"):
            FORMATS["avaya-ipo"].parse("2008/06/28 09:28:41,00:00:00,9,8004206,I")


class TestNecNeax:
    def test_three_records_of_three_kinds(self):
        kinds = [(r.extra["record_kind"], r.direction) for r in records("nec-neax-smdr.bin")]
        assert kinds == [("KK", "out"), ("KL", "in"), ("KM", "internal")]

    def test_outgoing_record(self):
        kk = records("nec-neax-smdr.bin")[0]
        assert kk.start == "2018-07-07T12:00:00" and kk.extra["end"] == "2018-07-07T13:01:01"
        assert kk.duration_seconds == 3661
        assert (kk.extension, kk.number, kk.trunk) == ("20001", "17325551212", "010/052")
        assert kk.ring_seconds is None

    def test_incoming_record_takes_the_ani(self):
        kl = records("nec-neax-smdr.bin")[1]
        assert (kl.extension, kl.number, kl.duration_seconds) == ("20000", "17325551212", 7)

    def test_station_to_station_record(self):
        km = records("nec-neax-smdr.bin")[2]
        assert (km.extension, km.number, km.trunk) == ("20000", "20001", None)

    def test_unsupported_kind_is_reported(self):
        with pytest.raises(SmdrParseError, match="KA"):
            FORMATS["nec-neax"].parse("0!KA0010011234560101120000010112010000")

    def test_fields_that_do_not_chain_are_reported(self):
        with pytest.raises(SmdrParseError, match="chain"):
            FORMATS["nec-neax"].parse("0!KK0112001010052210XX10000120001 ")


# No Panasonic sample was published; these lines follow the KX-TDA/KX-NS Feature Guide
# "Pattern A" examples (80 columns, time = end of call, m'ss ring, hh:mm'ss duration).
PANASONIC = """\
 Date     Time   Ext   CO        Dial Number          Ring Duration  Acc code  CD
--------------------------------------------------------------------------------
01/02/08 10:03AM  1200 01 <I>0301234567                0'05 00:01'05 9876543210
01/02/08 10:07AM  1201 01 01701234567                       00:12'05            TR
01/02/08 01:07PM  1202 02 <D>SALES<I>ABC COMPANY0301234  1'15 00:00'20
01/02/08 01:08PM  1203    EXT1235                           00:00'45
01/02/08 01:09PM  1204    LOG IN
12/31/08 11:59PM  1205 03 <I>                          5'15 00:00'00
"""


class TestPanasonic:
    def parsed(self) -> list:
        return records_from(PANASONIC.replace("\n", "\r\n").encode())

    def test_headers_and_feature_lines_are_skipped(self):
        assert len(self.parsed()) == 5

    def test_incoming_call_start_is_end_time_less_duration(self):
        first = self.parsed()[0]
        assert first.extra["end"] == "2008-01-02T10:03:00"
        assert first.start == "2008-01-02T10:01:55"
        assert (first.ring_seconds, first.duration_seconds) == (5, 65)
        assert (first.direction, first.number, first.extension, first.trunk) == (
            "in", "0301234567", "1200", "01"
        )
        assert first.extra["account"] == "9876543210"

    def test_outgoing_call_with_condition_code(self):
        second = self.parsed()[1]
        assert (second.direction, second.number, second.duration_seconds) == ("out", "01701234567", 725)
        assert second.extra["condition"] == "TR" and "account" not in second.extra

    def test_ddi_name_and_number_are_separated(self):
        third = self.parsed()[2]
        assert third.start.startswith("2008-01-02T13:06")
        assert third.extra == {"ddi": "SALES", "caller_name": "ABC COMPANY", "end": "2008-01-02T13:07:00"}
        assert third.number == "0301234"

    def test_intercom_call_is_internal(self):
        fourth = self.parsed()[3]
        assert (fourth.direction, fourth.number, fourth.trunk) == ("internal", "1235", None)

    def test_unanswered_incoming_call_without_caller_id(self):
        last = self.parsed()[4]
        assert last.number is None and last.ring_seconds == 315 and last.start == "2008-12-31T23:59:00"


def records_from(data: bytes) -> list:
    out = list(read_bytes(data))
    assert [item for _, item in out if isinstance(item, SmdrParseError)] == []
    return [item for _, item in out]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("siemens-hipath-serial.txt", "siemens-hipath"),
        ("avaya-ip-office.csv", "avaya-ipo"),
        ("nec-neax-smdr.bin", "nec-neax"),
    ],
)
def test_auto_detection_picks_the_format_of_each_sample(name, expected):
    found = records(name)
    assert {record.format for record in found} == {expected}
    assert all(PINNED <= set(record.to_dict()) for record in found)


def test_detection_of_a_panasonic_line():
    assert detect("01/02/08 10:03AM  1200 01 <I>0301234567   0'05 00:01'05").NAME == "panasonic"
    assert detect("hello") is None


def test_unknown_format_name_is_refused():
    with pytest.raises(ValueError, match="unknown SMDR format"):
        RecordReader("meridian")


def test_bad_line_in_the_middle_is_reported_with_its_number_and_the_rest_is_read():
    data = fixture("siemens-hipath-serial.txt").split(b"\r\n")
    data.insert(3, b"10.04.19 garbage that is not a call record")
    data.insert(5, b"")
    data.insert(6, b"\x0c")
    out = list(read_bytes(b"\r\n".join(data)))
    errors = [(number, str(item)) for number, item in out if isinstance(item, SmdrParseError)]
    assert [number for number, _ in errors] == [4]
    assert len([item for _, item in out if not isinstance(item, SmdrParseError)]) == 27


def test_start_converts_to_utc_with_the_links_timezone():
    record = records("siemens-hipath-serial.txt")[0]
    assert record.start_utc("Europe/Berlin").isoformat() == "2019-04-10T21:19:06"
    assert record.start_utc("UTC").isoformat() == "2019-04-10T23:19:06"


def test_control_bytes_inside_a_line_are_stripped_not_fatal():
    line = ("2008/06/28 09:28:41,00:00:00,9,8004206,I,4324,4324,,0,1000014155,0,E4324,"
            "Joe Bl\x13\x11oggs,T9161,LINE 5.1,0,\x000")
    (number, record), = read_bytes(line.encode("latin-1") + b"\r\n")
    assert record.raw == line.replace("\x13\x11", "").replace("\x00", "")
    assert record.extra["party1"]["name"] == "Joe Bloggs" and record.duration_seconds == 9
