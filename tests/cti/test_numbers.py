"""Device identifiers and caller numbers, as interfaces.md pins them."""

import pytest

from cti.numbers import DialPlan, normalize_device, parse_device_list


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1001", "1001"),
        ("+17867100001", "+17867100001"),
        ("N<+17867100001>Line00001;displayNumber=00001", "+17867100001"),
        ("N<302118840100>;noa=nk", "302118840100"),
        ("N<7868772298>Line71001;displayNumber=7868772298;uid=FF0001", "7868772298"),
        ("5001:CM1:10.0.0.5:0", "5001"),
        ("5001:cm1::0", "5001"),
        ("13235551234:CM1::0", "13235551234"),
        ("tel:+4930123456", "+4930123456"),
        ("sip:1001@pbx.example.com", "1001"),
        ("1001;displayNumber=Reception", "1001"),
        ("(786) 555-1234", "7865551234"),
        ("Line00001", None),
        ("notKnown", None),
        ("", None),
        (None, None),
    ],
)
def test_device_identifiers_become_dialable_numbers(raw, expected):
    assert normalize_device(raw) == expected


def test_device_lists_expand_ranges_and_keep_width():
    assert parse_device_list("1001,1002,2000-2002") == ["1001", "1002", "2000", "2001", "2002"]
    assert parse_device_list("0100-0101, 1001,1001") == ["0100", "0101", "1001"]


@pytest.mark.parametrize("spec", ["", "abc", "2000-1999", "1-", "1-x"])
def test_bad_device_lists_are_refused(spec):
    with pytest.raises(ValueError):
        parse_device_list(spec)


def test_national_and_international_spellings_meet_in_germany():
    plan = DialPlan.for_country("49")
    assert plan.canonical("030123456") == "+4930123456"
    assert plan.canonical("004930123456") == "+4930123456"
    assert plan.canonical("+4930123456") == "+4930123456"
    assert plan.canonical("N<004930123456>;noa=nk") == "+4930123456"
    assert plan.canonical("1001") == "1001"
    assert plan.national("+4930123456") == "030123456"
    assert plan.national("+33142000000") == "0033142000000"


def test_north_american_ten_digit_numbers_are_national():
    plan = DialPlan.for_country("1")
    assert plan.canonical("7865551234") == "+17865551234"
    assert plan.canonical("17865551234") == "+17865551234"
    assert plan.canonical("01144207946000") == "+44207946000"


def test_outside_line_prefix_is_stripped_from_dialled_numbers():
    plan = DialPlan.for_country("86", outside_prefix="9")
    assert plan.canonical("901087654321") == "+861087654321"
    assert plan.canonical("9001") == "9001"
