"""`cti bench screenpop-db --json [--customers N] [--mysql-url URL]`: screen-pop lookup latency.

One tenant with N generated customers (default one million, with interactions and tickets) on
SQLite and on MySQL/MariaDB; then `--lookups` screen-pops of random callers, in the spellings a
switch delivers (national with trunk prefix, international with access code, E.164), one in ten
an unknown number. Reported per back end: p50_ms / p99_ms of db.customers.screen_pop on an open
connection, txn_p50_ms / txn_p99_ms of the same as the server's lookup pool runs it (a pooled
connection of db.engine.make_reader_engine checked out and in around each lookup: autocommit,
no pre-ping, COMMIT or ROLLBACK), round_trip_p50_ms / round_trip_p99_ms of a
bare SELECT 1 interleaved with the lookups (the machine's floor, measured in the same run), plus
customers, lookups, setup_seconds; on MySQL/MariaDB also buffer_pool_mb and data_mb, the
server's innodb_buffer_pool_size and the data set's tables and indexes (a pool smaller than the
data makes lookups read disk: `cti db check`).

Generated databases are cached between runs (SQLite file under --cache-dir, MySQL database
cti_bench_screenpop_N), keyed by N, migrated in place to a newer schema, and shared with `cti
bench screenpop` (the same tenant and customers), so only the first run of either pays for them.
"""

from __future__ import annotations

import os
import random
import statistics
import tempfile
import time
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from cti.commands.args import ArgumentParser
from cti.errors import CLIError
from cti.numbers import DialPlan
from db import migrate, tenants
from db.customers import count_customers, screen_pop
from db.engine import create_database, make_engine, make_reader_engine
from db.errors import NotFound
from db.generate import generate_customers, phone_number
from db.records import Tenant
from db.tuning import sizes_mb

TENANT = "bench"
COUNTRY = "49"
MYSQL_ENV = ("CTI_BENCH_MYSQL_URL", "CTI_TEST_MYSQL_URL")
CACHE_DIR = os.path.join(tempfile.gettempdir(), "cti-bench-screenpop-db")


def run(argv: list[str]) -> dict[str, Any]:
    parser = ArgumentParser(prog="cti bench screenpop-db")
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--lookups", type=int, default=5000)
    parser.add_argument("--mysql-url", default=None,
                        help="server URL (default $CTI_BENCH_MYSQL_URL or $CTI_TEST_MYSQL_URL)")
    parser.add_argument("--no-mysql", action="store_true")
    parser.add_argument("--cache-dir", default=CACHE_DIR)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    if args.customers < 1 or args.lookups < 1:
        raise CLIError("--customers and --lookups must be positive")
    result: dict[str, Any] = {"customers": args.customers, "lookups": args.lookups}
    os.makedirs(args.cache_dir, exist_ok=True)
    result["sqlite"] = _bench(sqlite_url(args.cache_dir, args.customers), args)
    mysql_server = args.mysql_url or next(filter(None, map(os.environ.get, MYSQL_ENV)), None)
    if args.no_mysql or not mysql_server:
        result["mysql"] = {"skipped": "no MySQL/MariaDB URL (--mysql-url or $CTI_BENCH_MYSQL_URL)"}
    else:
        result["mysql"] = _bench(_mysql_database(mysql_server, args.customers), args)
    return result


def _bench(url: str, args) -> dict[str, Any]:
    engine = make_engine(url)
    try:
        started = time.perf_counter()
        tenant, built = _prepare(engine, args.customers)
        setup = time.perf_counter() - started
        callers = _callers(tenant, args.customers, args.lookups, args.seed)
        found, bare, in_txn, floor = _measure(engine, make_reader_engine(url, 1), tenant,
                                              callers)
        server = server_sizes(engine)
    except SQLAlchemyError as error:
        raise CLIError(f"{make_url(url).render_as_string()}: {_reason(error)}") from None
    finally:
        engine.dispose()
    return {
        "customers": args.customers,
        "lookups": len(callers),
        "found": found,
        "p50_ms": _ms(_percentile(bare, 50)),
        "p99_ms": _ms(_percentile(bare, 99)),
        "mean_ms": _ms(statistics.fmean(bare)),
        "round_trip_p50_ms": _ms(_percentile(floor, 50)),
        "round_trip_p99_ms": _ms(_percentile(floor, 99)),
        "txn_p50_ms": _ms(_percentile(in_txn, 50)),
        "txn_p99_ms": _ms(_percentile(in_txn, 99)),
        "setup_seconds": round(setup, 2),
        "generated": built,
        **server,
    }


def server_sizes(engine: Engine) -> dict[str, int]:
    """The MySQL/MariaDB buffer pool and the data set's tables and indexes in MB, so a
    reader sees what a figure was measured on (nothing for SQLite)."""
    if engine.dialect.name == "sqlite":
        return {}
    with engine.connect() as conn:
        return sizes_mb(conn)


def _prepare(engine: Engine, customers: int) -> tuple[Tenant, bool]:
    tenant, generated = prepare(engine, customers)
    return tenant, generated > 0


def prepare(engine: Engine, customers: int) -> tuple[Tenant, int]:
    """The benchmark tenant with exactly `customers` generated customers, shared by this
    benchmark and `cti bench screenpop` (one data set per back end and N, never regenerated
    by the other). The schema is migrated to the newest revision in place; customers missing
    (a first run, an interrupted one) are generated; a database holding more is rebuilt.
    Returns (tenant, customers generated by this call)."""
    for _attempt in range(2):
        migrate.upgrade(engine)
        with engine.begin() as conn:
            try:
                tenant = tenants.get_tenant(conn, TENANT)
            except NotFound:
                tenant = tenants.create_tenant(conn, TENANT, "Benchmark tenant",
                                               dial_plan=DialPlan.for_country(COUNTRY))
            have = count_customers(conn, tenant)
        if have <= customers:
            break
        _wipe(engine)
    missing = customers - have
    if missing:
        generate_customers(engine, tenant, missing, seed=7 + have, start_index=have,
                           batch=50_000)
    return tenant, missing


def _wipe(engine: Engine) -> None:
    if engine.dialect.name == "sqlite":
        path = make_url(engine.url).database
        engine.dispose()
        for suffix in ("", "-wal", "-shm"):
            if path and os.path.exists(path + suffix):
                os.remove(path + suffix)
    elif migrate.current_revision(engine) is not None:
        migrate.downgrade(engine, "base")


def sqlite_url(cache_dir: str, customers: int) -> str:
    """The cached SQLite database of N customers under `cache_dir`."""
    return f"sqlite:///{os.path.join(cache_dir, f'screenpop-{customers}.db')}"


def _mysql_database(server_url: str, customers: int) -> str:
    name = f"cti_bench_screenpop_{customers}"
    url = make_url(server_url).set(database=name)
    try:
        create_database(url)
    except SQLAlchemyError as error:
        raise CLIError(f"MySQL {url.render_as_string()}: {_reason(error)}") from None
    return url.render_as_string(hide_password=False)


def _callers(tenant: Tenant, customers: int, lookups: int, seed: int) -> list[tuple[str, bool]]:
    """(caller ID as the switch gives it, whether a customer has it)."""
    rng = random.Random(seed)
    cc = tenant.dial_plan.country_code
    plan = tenant.dial_plan
    callers = []
    for _ in range(lookups):
        if rng.random() < 0.1:
            callers.append((f"+{cc}99{rng.randrange(10**8):08d}", False))
            continue
        e164 = phone_number(cc, rng.randrange(customers), 0)
        spelling = rng.choice((plan.national(e164), plan.international_prefix + e164[1:], e164))
        callers.append((spelling, True))
    return callers


def _measure(engine: Engine, reader: Engine, tenant: Tenant, callers):
    """(found, screen-pop seconds, in-transaction seconds, SELECT 1 seconds). The SELECT 1
    round trips, interleaved with the lookups, are the floor this machine's load puts under any
    query: compare the percentiles against it."""
    clock = time.perf_counter
    ping = text("SELECT 1")
    with engine.connect() as conn:
        for caller, _ in callers[:200]:  # warm the caches and the statement cache
            screen_pop(conn, tenant, caller)
        bare, floor = [], []
        found = 0
        for caller, exists in callers:
            started = clock()
            conn.execute(ping).scalar()
            floor.append(clock() - started)
            started = clock()
            pop = screen_pop(conn, tenant, caller)
            bare.append(clock() - started)
            if (pop.customer is not None) != exists:
                raise CLIError(f"screen-pop of {caller} found {pop.customer!r}, expected "
                               f"{'a customer' if exists else 'none'}")
            found += exists
    in_txn = []
    try:
        for caller, _ in callers[: max(1, len(callers) // 2)]:
            started = clock()
            with reader.connect() as conn:
                screen_pop(conn, tenant, caller)
            in_txn.append(clock() - started)
    finally:
        reader.dispose()
    return found, bare, in_txn, floor


def _percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))]


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


def _reason(error: SQLAlchemyError) -> str:
    return str(getattr(error, "orig", None) or error).splitlines()[0]
