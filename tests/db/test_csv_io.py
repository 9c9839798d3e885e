"""CSV import keeps the good rows, reports the bad ones by line, and round-trips with export."""

from __future__ import annotations

import io

import pytest

from db import customers
from db.csv_io import export_customers, import_customers

GOOD_AND_BAD = """\
external_ref,name,company,phone,mobile,vip,priority,city,country,segment
C-1,Bob Baker,Baker AG,030 1234567,0171 5551234,yes,2,Berlin,de,gold
C-2,,Nameless Ltd,030 7654321,,no,0,,,
C-3,Carla Cruz,,not a number,,no,0,,,
C-4,"Dora ""DJ"" Diaz","Diaz, Partner & Co",+44 20 7946 0000,,maybe,0,,,
C-5,Emil Ernst,,040 999999,,no,high,,,
C-1,Bob Again,,040 111111,,no,0,,,
C-6,"Fritz
Fischer",,089 1234567,,,,Munich,DE,silver

C-7,Gina Gold,,,,,,,Germany,
C-8,Hans Hoch,,0221 555555,,no,1,Cologne,DE,bronze,extra
"""


def test_good_rows_are_kept_and_bad_rows_reported_with_line_numbers(engine, acme):
    report = import_customers(engine, acme, io.StringIO(GOOD_AND_BAD))
    assert report.imported == 2
    assert report.errors == [
        (3, "name is empty"),
        (4, "not a phone number: 'not a number'"),
        (5, "vip must be yes/no, got 'maybe'"),
        (6, "priority must be a whole number, got 'high'"),
        (7, "external_ref 'C-1' already on line 2"),
        (11, "country must be a two-letter code, got 'Germany'"),
        (12, "more fields than the header has columns"),
    ]
    with engine.begin() as conn:
        bob = customers.screen_pop(conn, acme, "+491715551234").customer
        fritz = customers.screen_pop(conn, acme, "0891234567").customer
    assert (bob.name, bob.company, bob.vip, bob.priority) == ("Bob Baker", "Baker AG", True, 2)
    assert {p.kind: p.number for p in bob.phones} == {"phone": "+49301234567",
                                                      "mobile": "+491715551234"}
    assert bob.addresses[0].city == "Berlin" and bob.addresses[0].country == "DE"
    assert bob.custom == {"segment": "gold"}
    assert fritz.name == "Fritz\nFischer" and fritz.custom == {"segment": "silver"}


def test_an_external_ref_already_in_the_database_is_reported_not_duplicated(engine, acme):
    first = import_customers(engine, acme, io.StringIO("external_ref,name\nC-1,Bob\n"))
    again = import_customers(engine, acme, io.StringIO("external_ref,name\nC-2,Eve\nC-1,Bob\n"))
    assert first.imported == 1
    assert again.imported == 1
    assert again.errors == [(3, "external_ref 'C-1' is already a customer")]


def test_semicolon_files_with_a_bom_and_several_phones_in_one_column(engine, acme):
    data = ('\ufeffname;phones;custom\n'
            'Ann;"mobile:0171 1112222; work:+49 30 333444";"{""tier"": 1}"\n')
    report = import_customers(engine, acme, io.StringIO(data))
    assert (report.imported, report.errors) == (1, [])
    with engine.begin() as conn:
        ann = customers.screen_pop(conn, acme, "004930333444").customer
    assert [(p.kind, p.number) for p in ann.phones] == [("mobile", "+491711112222"),
                                                        ("work", "+4930333444")]
    assert ann.custom == {"tier": 1}


def test_a_file_without_a_name_column_is_refused_whole(engine, acme):
    with pytest.raises(ValueError, match="'name' column"):
        import_customers(engine, acme, io.StringIO("phone,city\n0301234567,Berlin\n"))


def test_export_then_import_gives_the_same_customers(engine, acme, globex):
    import_customers(engine, acme, io.StringIO(GOOD_AND_BAD))
    out = io.StringIO()
    with engine.begin() as conn:
        assert export_customers(conn, acme, out, chunk=1) == 2
    report = import_customers(engine, globex, io.StringIO(out.getvalue()))
    assert (report.imported, report.errors) == (2, [])
    with engine.begin() as conn:
        original = customers.search_customers(conn, acme, "")
        copied = customers.search_customers(conn, globex, "")
    strip = lambda c: (c.name, c.company, c.vip, c.priority, c.external_ref, c.custom,  # noqa: E731
                       [(p.kind, p.number) for p in c.phones], c.addresses)
    assert [strip(c) for c in copied] == [strip(c) for c in original]
