"""A live call's context (data, notes, customer, numbers) stored by any of its IDs, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, func, select

from db import call_context as cc
from db import customers
from db import models as m
from db.call_context import CallContext, ContextNote

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
NOTE = ContextNote(1_795_424_400.25, "1001", "wants a quote for two engines")


@pytest.fixture
def ada(engine, acme):
    with engine.begin() as conn:
        return customers.create_customer(conn, acme, "Ada Lovelace", phones=["+49301234567"])


def _context(call_id="4711", **fields):
    values = dict(link="pbx1", call_id=call_id, data={"order": "A-17", "vip": True},
                  notes=(NOTE,))
    values.update(fields)
    return CallContext(**values)


def _count(conn, model):
    return conn.execute(select(func.count()).select_from(model)).scalar_one()


def test_a_saved_context_comes_back_with_data_notes_and_customer(engine, acme, ada):
    with engine.begin() as conn:
        cc.save_context(conn, acme, _context(customer_id=ada))
    with engine.begin() as conn:
        [found] = cc.load_contexts(conn, acme, "pbx1", ["4711"])
    assert (found.call_id, found.ids, found.customer_id) == ("4711", ("4711",), ada)
    assert found.data == {"order": "A-17", "vip": True}
    assert found.notes == (NOTE,)
    assert found.ended_at is None and found.updated_at is not None


def test_the_numbers_come_back_and_one_that_cannot_be_a_number_is_left_out(engine, acme):
    with engine.begin() as conn:
        cc.save_context(conn, acme, _context(calling="+49301234567", called="1900",
                                             ani="+49301234567", dnis="x" * 65))
        [found] = cc.load_contexts(conn, acme, "pbx1", ["4711"])
    assert (found.calling, found.called, found.ani, found.dnis) == (
        "+49301234567", "1900", "+49301234567", None)
    assert found.data == {"order": "A-17", "vip": True}


def test_saving_again_replaces_the_stored_context(engine, acme):
    second = ContextNote(NOTE.time + 30, "1001", "called back")
    with engine.begin() as conn:
        cc.save_context(conn, acme, _context())
        cc.save_context(conn, acme, _context(data={"order": "A-18"}, notes=(NOTE, second)))
        [found] = cc.load_contexts(conn, acme, "pbx1", ["4711"])
        assert _count(conn, m.CallContext) == 1
    assert found.data == {"order": "A-18"}
    assert found.notes == (NOTE, second)


def test_a_transferred_call_is_found_by_its_old_and_new_ids(engine, acme):
    with engine.begin() as conn:
        cc.save_context(conn, acme, _context("4711"))
        cc.save_context(conn, acme, _context("4712", data={"queue": "sales"}, notes=()))
        merged = _context("4712", call_ids=("4711",), data={"order": "A-17", "queue": "sales"})
        cc.save_context(conn, acme, merged)
        assert _count(conn, m.CallContext) == 1
    for call_id in ("4711", "4712"):
        with engine.begin() as conn:
            [found] = cc.load_contexts(conn, acme, "pbx1", [call_id])
        assert found.call_id == "4712"
        assert found.ids == ("4711", "4712")
        assert found.data == {"order": "A-17", "queue": "sales"}


def test_ids_a_rebuilt_call_has_forgotten_stay_with_its_context(engine, acme):
    """A restarted server knows only the current ID; the old ones keep finding the row."""
    with engine.begin() as conn:
        cc.save_context(conn, acme, _context("4712", call_ids=("4711",)))
        cc.save_context(conn, acme, _context("4712", data={"more": 1}))
        [found] = cc.load_contexts(conn, acme, "pbx1", ["4711"])
    assert found.ids == ("4711", "4712") and found.data == {"more": 1}


def test_contexts_are_kept_apart_by_link_and_tenant(engine, acme, globex):
    with engine.begin() as conn:
        cc.save_context(conn, acme, _context(data={"who": "acme pbx1"}))
        cc.save_context(conn, acme, _context(link="pbx2", data={"who": "acme pbx2"}))
        cc.save_context(conn, globex, _context(data={"who": "globex"}))
        assert [c.data["who"] for c in cc.load_contexts(conn, acme, "pbx1", ["4711"])] == [
            "acme pbx1"]
        assert [c.data["who"] for c in cc.load_contexts(conn, acme, "pbx2", ["4711"])] == [
            "acme pbx2"]
        assert [c.data["who"] for c in cc.load_contexts(conn, globex, "pbx1", ["4711"])] == [
            "globex"]


def test_another_tenants_customer_is_not_stored(engine, acme, globex):
    with engine.begin() as conn:
        theirs = customers.create_customer(conn, globex, "Globex customer")
        cc.save_context(conn, acme, _context(customer_id=theirs))
        [found] = cc.load_contexts(conn, acme, "pbx1", ["4711"])
    assert found.customer_id is None


def test_load_returns_several_calls_at_once_and_nothing_for_unknown_ids(engine, acme):
    with engine.begin() as conn:
        cc.save_context(conn, acme, _context("1"))
        cc.save_context(conn, acme, _context("2", data={"n": 2}))
        found = cc.load_contexts(conn, acme, "pbx1", ["1", "2", "3", "x" * 65])
        assert sorted(c.call_id for c in found) == ["1", "2"]
        assert cc.load_contexts(conn, acme, "pbx1", ["3"]) == []
        assert cc.load_contexts(conn, acme, "pbx1", []) == []


def test_an_ended_call_is_no_longer_restored_and_goes_at_its_disposition(engine, acme):
    with engine.begin() as conn:
        cc.save_context(conn, acme, _context("4712", call_ids=("4711",)))
        assert cc.end_context(conn, acme, "pbx1", ["4711", "4712"], T0) == 1
        assert cc.load_contexts(conn, acme, "pbx1", ["4712"]) == []
        # The switch reuses the ID for a new call: a context of its own, kept at the
        # old call's disposition.
        cc.save_context(conn, acme, _context("4712", data={"new": True}))
        assert _count(conn, m.CallContext) == 2
        assert cc.delete_ended_context(conn, acme, "pbx1", ["4712"]) == 1
        [left] = cc.load_contexts(conn, acme, "pbx1", ["4712"])
        assert left.data == {"new": True}
        assert _count(conn, m.CallContextId) == 1


def test_expiry_removes_ended_and_stale_contexts_only(engine, acme, globex):
    with engine.begin() as conn:
        cc.save_context(conn, acme, _context("ended"))
        cc.end_context(conn, acme, "pbx1", ["ended"], T0)
        cc.save_context(conn, acme, _context("live"))
        cc.save_context(conn, globex, _context("ended"))
        cc.end_context(conn, globex, "pbx1", ["ended"], T0)
        now = datetime.now(UTC)
        assert cc.expire_contexts(conn, acme, T0, now - timedelta(hours=1)) == 0
        assert cc.expire_contexts(conn, acme, T0 + timedelta(seconds=1),
                                  now - timedelta(hours=1)) == 1
        assert [c.call_id for c in cc.load_contexts(conn, acme, "pbx1", ["live"])] == ["live"]
        assert cc.expire_contexts(conn, acme, T0, now + timedelta(seconds=1)) == 1
        assert cc.load_contexts(conn, acme, "pbx1", ["live"]) == []
        assert _count(conn, m.CallContext) == 1, "globex's row is globex's business"


@pytest.mark.parametrize("context, message", [
    (_context(data={1: "x"}), "string keys"),
    (_context(data={"when": datetime(2026, 1, 1)}), "not JSON"),
    (_context(call_id="x" * 65), "bad call ID"),
    (_context(call_id=""), "bad call ID"),
])
def test_bad_input_is_refused_with_a_clear_error_and_nothing_stored(engine, acme, context,
                                                                    message):
    with engine.begin() as conn:
        with pytest.raises(ValueError, match=message):
            cc.save_context(conn, acme, context)
        assert _count(conn, m.CallContext) == 0


def test_unicode_notes_and_nested_data_survive_the_round_trip(engine, acme):
    note = ContextNote(NOTE.time, "Jürgen", "Kunde möchte 2× Rückruf 📞")
    data = {"order": {"lines": [1, 2.5, None], "ok": False}, "ü": "ß"}
    with engine.begin() as conn:
        cc.save_context(conn, acme, _context(data=data, notes=(note,)))
        [found] = cc.load_contexts(conn, acme, "pbx1", ["4711"])
    assert found.data == data and found.notes == (note,)


def test_expiry_takes_a_bounded_chunk_per_call_and_the_next_calls_take_the_rest(engine, acme):
    """A server's first write finds every row older than the retention: deleting them all in
    one transaction held the only SQLite writer (and the GIL) for most of a second."""
    with engine.begin() as conn:
        for n in range(7):
            cc.save_context(conn, acme, _context(f"old-{n}"))
            cc.end_context(conn, acme, "pbx1", [f"old-{n}"], T0)
        cc.save_context(conn, acme, _context("live"))
    deletes: list[int] = []

    def count(_conn, _cursor, statement, parameters, _context, _many):
        if statement.lstrip().upper().startswith("DELETE"):
            deletes.append(len(parameters))

    event.listen(engine, "before_cursor_execute", count)
    try:
        gone = []
        for _ in range(4):
            with engine.begin() as conn:
                gone.append(cc.expire_contexts(conn, acme, T0 + timedelta(seconds=1),
                                               T0 - timedelta(days=1), limit=3))
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert gone == [3, 3, 1, 0]
    assert deletes and max(deletes) <= 3, "no statement binds more IDs than the chunk"
    with engine.begin() as conn:
        assert [c.call_id for c in cc.load_contexts(conn, acme, "pbx1", ["live"])] == ["live"]
        assert _count(conn, m.CallContext) == _count(conn, m.CallContextId) == 1
