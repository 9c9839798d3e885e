"""Synthetic customers with history, in bulk: the demo tenants' CRM and the 1M-row benchmark.

The ORM path (create_customer) costs several statements per customer; a million customers need
driver-level executemany in large batches with ids assigned here, so phones, interactions and
tickets can point at their customer without reading ids back. Values are deterministic for a
given seed, and every generated number is unique and canonical (E.164), so a benchmark can
compute which numbers exist without asking the database.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import json
import random
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, Engine, func, select

from db import models as m
from db.engine import is_mysql
from db.records import Tenant

FIRST = ("Anna", "Ben", "Clara", "David", "Emma", "Felix", "Greta", "Hugo", "Ida", "Jonas",
         "Karin", "Lukas", "Mia", "Noah", "Olga", "Paul", "Quentin", "Rosa", "Sven", "Tina",
         "Uwe", "Vera", "Willi", "Xenia", "Yusuf", "Zoe", "Li", "Wei", "Mei", "Hiro")
LAST = ("Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker",
        "Hoffmann", "Schulz", "Smith", "Johnson", "Brown", "Taylor", "Wilson", "Evans", "Wang",
        "Zhang", "Chen", "Tanaka", "García", "Rossi", "Dubois", "Nowak", "Jensen", "Novak")
COMPANIES = ("Nordlicht GmbH", "Sonnenschein AG", "Blue Harbor Ltd", "Redwood Inc",
             "Alpen Logistik", "Kettle & Co", "Hansa Bau", "Pioneer Foods", "Delta Optik")
CITIES = ("Berlin", "Hamburg", "München", "Köln", "Frankfurt", "Leipzig", "London", "New York",
          "Miami", "Boston")
DISPOSITIONS = ("resolved", "callback", "sale", "no-sale", "escalated", "information")
NOTES = ("Asked about delivery date.", "Wants a callback tomorrow morning.",
         "Complained about the last invoice.", "Ordered replacement parts.",
         "Changed address.", "Interested in the premium plan.", "Reported a defect.")
SUBJECTS = {"complaint": "Late delivery", "order": "Order of spare parts",
            "after-sales": "Repair under warranty", "inquiry": "Question about contract"}

# Area codes per country code for generated numbers: (mobile, landline), and subscriber width.
_AREAS = {"1": (("786", "212"), 7), "44": (("7700", "20"), 7), "49": (("151", "30"), 8)}


def phone_number(country_code: str, index: int, kind: int = 0) -> str:
    """The canonical number the generator gives customer `index` (kind 0 mobile, 1 landline)."""
    areas, width = _AREAS.get(country_code, (("9", "8"), 8))
    return f"+{country_code}{areas[kind]}{index:0{width}d}"


ProgressFn = Callable[[int], None]


def generate_customers(
    engine: Engine,
    tenant: Tenant,
    count: int,
    *,
    seed: int = 1,
    history: bool = True,
    batch: int = 20_000,
    start_index: int = 0,
    progress: ProgressFn | None = None,
    now: datetime | None = None,
) -> int:
    """Insert `count` customers (numbers from index `start_index` on) with phones and, with
    `history`, interactions and tickets. Returns how many customers were inserted.

    Ids are taken from max(id) + 1 at the start, so nothing else may insert customers into this
    database while it runs (it is a loader for benchmarks and demos, not for live systems)."""
    rng = random.Random(seed)
    now = (now or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None)
    with engine.begin() as conn:
        next_ids = {t: _next_id(conn, t) for t in (m.Customer, m.CustomerPhone,
                                                   m.Interaction, m.Ticket)}
    done = 0
    # Millions of short-lived tuples would trigger the cyclic GC over and over for nothing.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        with bulk_connection(engine) as load:
            while done < count:
                size = min(batch, count - done)
                for table, columns, values in _batch(
                    tenant, rng, now, start_index + done, size, next_ids, history
                ):
                    load.insert(table, columns, values)
                load.commit()
                done += size
                if progress is not None:
                    progress(done)
    finally:
        if gc_was_enabled:
            gc.enable()
    return done


class BulkLoader:
    """A driver connection set up for loading: executemany, no per-row SQLAlchemy work, no
    foreign-key checks (the generator's ids are consistent by construction)."""

    def __init__(self, engine: Engine, dbapi_connection: Any) -> None:
        self._connection = dbapi_connection
        self._mark = "?" if engine.dialect.paramstyle == "qmark" else "%s"
        self._quote = engine.dialect.identifier_preparer.quote

    def insert(self, table: str, columns: Sequence[str], rows: list[tuple]) -> None:
        if not rows:
            return
        quote = self._quote
        sql = (f"INSERT INTO {quote(table)} ({', '.join(quote(c) for c in columns)}) "
               f"VALUES ({', '.join([self._mark] * len(columns))})")
        cursor = self._connection.cursor()
        try:
            cursor.executemany(sql, rows)
        finally:
            cursor.close()

    def commit(self) -> None:
        self._connection.commit()


@contextlib.contextmanager
def bulk_connection(engine: Engine) -> Iterator[BulkLoader]:
    """A BulkLoader on a pooled connection, whose session settings are restored afterwards."""
    if is_mysql(engine):
        setup = ["SET SESSION unique_checks = 0, foreign_key_checks = 0"]
        restore = ["SET SESSION unique_checks = 1, foreign_key_checks = 1"]
    else:
        setup = ["PRAGMA foreign_keys = OFF", "PRAGMA synchronous = OFF",
                 "PRAGMA cache_size = -200000"]
        # Fresh statistics, so the planner knows tenant_id alone selects little.
        restore = ["PRAGMA foreign_keys = ON", "PRAGMA synchronous = NORMAL",
                   "PRAGMA cache_size = -16384", "PRAGMA analysis_limit = 1000", "ANALYZE"]
    raw = engine.raw_connection()
    dbapi = raw.driver_connection
    try:
        dbapi.commit()
        _run(dbapi, setup)
        try:
            yield BulkLoader(engine, dbapi)
            dbapi.commit()
        except BaseException:
            dbapi.rollback()
            raise
        finally:
            _run(dbapi, restore)
    finally:
        raw.close()


def _run(dbapi: Any, statements: list[str]) -> None:
    cursor = dbapi.cursor()
    try:
        for statement in statements:
            cursor.execute(statement)
    finally:
        cursor.close()


def _next_id(conn: Connection, model: type[m.Base]) -> int:
    return (conn.execute(select(func.max(model.id))).scalar() or 0) + 1


def _batch(
    tenant: Tenant,
    rng: random.Random,
    now: datetime,
    first_index: int,
    size: int,
    next_ids: dict[Any, int],
    history: bool,
) -> Iterator[tuple[str, tuple[str, ...], list[tuple]]]:
    # Times are integer seconds and choices index by rng.random(): this loop makes ~4 rows a
    # customer, and the generic helpers (strftime, Random.choice) would cost more than the inserts.
    rand = rng.random
    now_s = int(now.replace(tzinfo=UTC).timestamp())
    customers, phones, interactions, tickets = [], [], [], []
    cc = tenant.dial_plan.country_code
    subjects = tuple(SUBJECTS.items())
    cid, pid, iid, tid = (next_ids[k] for k in (m.Customer, m.CustomerPhone, m.Interaction,
                                                m.Ticket))
    for index in range(first_index, first_index + size):
        first, last = FIRST[int(rand() * len(FIRST))], LAST[int(rand() * len(LAST))]
        company = COMPANIES[int(rand() * len(COMPANIES))] if rand() < 0.3 else None
        vip = rand() < 0.02
        created = now_s - int(rand() * 3650 * 86400) - 86400
        created_text = _stamp(created)
        customers.append((
            cid, tenant.id, f"G{index:08d}", f"{first} {last}", company,
            f"{first}.{last}.{index}@example.com".lower(), vip, 10 if vip else 0, None,
            _SEGMENTS[int(rand() * 3)], created_text, created_text,
        ))
        for kind in range(1 if rand() < 0.6 else 2):
            phones.append((pid, tenant.id, cid, _KINDS[kind], phone_number(cc, index, kind), None))
            pid += 1
        if history:
            contact = created
            for _ in range(_CONTACTS[int(rand() * len(_CONTACTS))]):
                contact += 60 + int(rand() * 90 * 86400)
                if contact > now_s:
                    break
                interactions.append((
                    iid, tenant.id, cid, None, "call", "out" if rand() < 0.3 else "in",
                    _stamp(contact), _stamp(contact + 30 + int(rand() * 900)),
                    DISPOSITIONS[int(rand() * len(DISPOSITIONS))], NOTES[int(rand() * len(NOTES))],
                ))
                iid += 1
            if rand() < 0.1:
                kind, subject = subjects[int(rand() * len(subjects))]
                status = _STATUSES[int(rand() * len(_STATUSES))]
                opened = _stamp(min(contact, now_s))
                closed = _stamp(min(contact, now_s) + 2 * 86400) if status == "closed" else None
                tickets.append((tid, tenant.id, cid, kind, status, int(rand() * 3), subject,
                                opened, opened, closed))
                tid += 1
        cid += 1
    next_ids.update({m.Customer: cid, m.CustomerPhone: pid, m.Interaction: iid, m.Ticket: tid})
    yield ("customers", ("id", "tenant_id", "external_ref", "name", "company", "email", "vip",
                         "priority", "notes", "custom", "created_at", "updated_at"), customers)
    yield ("customer_phones", ("id", "tenant_id", "customer_id", "kind", "number", "raw"), phones)
    yield ("interactions", ("id", "tenant_id", "customer_id", "agent_id", "channel", "direction",
                            "started_at", "ended_at", "disposition", "notes"), interactions)
    yield ("tickets", ("id", "tenant_id", "customer_id", "type", "status", "priority", "subject",
                       "created_at", "updated_at", "closed_at"), tickets)


_SEGMENTS = tuple(json.dumps({"segment": s}) for s in ("bronze", "silver", "gold"))
_KINDS = ("mobile", "work")
_CONTACTS = (0, 0, 1, 1, 2, 3)
_STATUSES = ("open", "pending", "closed", "closed")
_EPOCH_DAY = datetime(1970, 1, 1).toordinal()


@functools.lru_cache(maxsize=8192)
def _day(days: int) -> str:
    return date.fromordinal(_EPOCH_DAY + days).isoformat()


def _stamp(seconds: int) -> str:
    """Unix seconds as naive UTC text with microseconds: what SQLAlchemy stores on SQLite, and
    a literal MySQL's DATETIME(6) accepts."""
    days, rest = divmod(seconds, 86400)
    return f"{_day(days)} {rest // 3600:02d}:{rest % 3600 // 60:02d}:{rest % 60:02d}.000000"
