"""`cti db ...`: migrate the database, load demo or benchmark data, import/export customers.

    cti db upgrade [--database URL]
    cti db seed --demo [--customers N] [--database URL]
    cti db generate --tenant CODE --customers N [--country CC] [--database URL]
    cti db import-customers FILE --tenant CODE [--database URL]
    cti db export-customers --tenant CODE [--output FILE] [--database URL]
    cti db check [--servers N] [--threads N] [--json] [--apply] [--database URL]

The URL defaults to $CTI_DATABASE_URL, else sqlite:///cti.db. Every command but upgrade expects
a migrated database and says so if it is not. `check` reads the database server's settings
against what a CTI server needs (db.tuning) and exits 1 when one is below recommendation;
`--apply` makes the online changes (SET GLOBAL) and prints the my.cnf lines that keep them.
"""

from __future__ import annotations

import contextlib
import json
import sys
import time
from collections.abc import Iterator
from typing import IO

from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from cti.commands.args import ArgumentParser
from cti.errors import CLIError
from cti.numbers import DialPlan
from db import migrate, tenants
from db.customers import count_customers
from db.engine import create_database, database_url, is_mysql, make_engine
from db.errors import NotFound


def main(argv: list[str]) -> int:
    parser = ArgumentParser(prog="cti db", description="database administration")
    sub = parser.add_subparsers(dest="action", required=True, parser_class=ArgumentParser)
    upgrade = sub.add_parser("upgrade", help="migrate the database to the newest schema")
    seed = sub.add_parser("seed", help="load demo data")
    seed.add_argument("--demo", action="store_true", required=True,
                      help="three demo tenants with agents, queues, numbers and customers")
    seed.add_argument("--customers", type=_count, default=3000,
                      help="generated customers per tenant (default 3000)")
    generate = sub.add_parser("generate", help="bulk-generate customers (benchmarks)")
    generate.add_argument("--tenant", required=True, help="tenant code (created if missing)")
    generate.add_argument("--customers", type=_count, required=True)
    generate.add_argument("--country", default="49", help="country code for a new tenant")
    generate.add_argument("--no-history", action="store_true",
                          help="customers and phones only, no interactions or tickets")
    imp = sub.add_parser("import-customers", help="load customers from a CSV file")
    imp.add_argument("file", help="CSV file with a header row ('-' for stdin)")
    imp.add_argument("--tenant", required=True)
    exp = sub.add_parser("export-customers", help="write a tenant's customers as CSV")
    exp.add_argument("--tenant", required=True)
    exp.add_argument("--output", default="-", help="file to write (default stdout)")
    check = sub.add_parser("check", help="the database server's settings against what a CTI "
                                         "server needs")
    check.add_argument("--servers", type=_positive, default=1,
                       help="CTI servers sharing the database (default 1)")
    check.add_argument("--threads", type=_positive, default=None,
                       help="each server's [database] threads (default: the engine's pool size)")
    check.add_argument("--json", action="store_true", help="the findings as one JSON object")
    check.add_argument("--apply", action="store_true",
                       help="make the online changes (SET GLOBAL), print the my.cnf lines")
    for command in (upgrade, seed, generate, imp, exp, check):
        command.add_argument("--database", default=None,
                             help="SQLAlchemy URL (default $CTI_DATABASE_URL or sqlite:///cti.db)")
    args = parser.parse_args(argv)
    url = database_url(args.database)
    with _engine(url) as engine:
        if args.action == "upgrade":
            return _upgrade(engine, url)
        if args.action == "check":
            return _check(engine, url, args)
        _require_schema(engine, url)
        if args.action == "seed":
            return _seed(engine, args.customers)
        if args.action == "generate":
            return _generate(engine, args)
        if args.action == "import-customers":
            return _import(engine, args.file, args.tenant)
        return _export(engine, args.tenant, args.output)


@contextlib.contextmanager
def _engine(url: str) -> Iterator[Engine]:
    engine = make_engine(url)
    try:
        yield engine
    except SQLAlchemyError as error:
        detail = str(getattr(error, "orig", None) or error).splitlines()[0]
        raise CLIError(f"database {_safe(url)}: {detail}") from None
    finally:
        engine.dispose()


def _upgrade(engine: Engine, url: str) -> int:
    if is_mysql(engine):
        create_database(url)
    before = migrate.current_revision(engine)
    after = migrate.upgrade(engine)
    if before == after:
        print(f"{_safe(url)}: already at revision {after}")
    else:
        print(f"{_safe(url)}: migrated from {before or 'empty'} to {after}")
    return 0


def _check(engine: Engine, url: str, args) -> int:
    from cti.server.database import LOOKUP_THREADS
    from db import tuning

    # The writer threads db.pool.DBThreadPool starts by default ([database] threads), plus
    # the screen-pop lookups' own.
    writers = args.threads or (min(engine.pool.size(), 8) if is_mysql(engine) else 1)
    per_server = writers + LOOKUP_THREADS
    findings = tuning.check(engine, servers=args.servers, per_server=per_server)
    changes: list[tuning.Change] = []
    if args.apply:
        try:
            changes = tuning.apply(engine, findings)
        except TimeoutError as error:
            raise CLIError(f"database {_safe(url)}: {error}") from None
        if changes:
            findings = tuning.check(engine, servers=args.servers, per_server=per_server)
    below = [f for f in findings if not f.ok]
    if args.json:
        print(json.dumps({
            "database": _safe(url), "backend": engine.dialect.name, "ok": not below,
            "findings": [f.as_dict() for f in findings],
            **({"changes": [vars(c) for c in changes]} if args.apply else {}),
        }, indent=2))
        return 1 if below else 0
    print(f"{_safe(url)}:")
    for finding in findings:
        print(finding.line())
    if args.apply:
        for change in changes:
            print(f"changed {change.setting}: {change.before} -> {change.after}")
        persist = [c.persist for c in changes if c.persist]
        if persist:
            print("to keep it across restarts, add to my.cnf:")
            print("[mysqld]")
            for line in persist:
                print(line)
        elif not changes:
            print("nothing to change online")
    return 1 if below else 0


def _require_schema(engine: Engine, url: str) -> None:
    problem = migrate.schema_problem(engine)
    if problem is not None:
        raise CLIError(f"database {_safe(url)} {problem}")


def _seed(engine: Engine, customers: int) -> int:
    from db.seed import AlreadySeeded, seed_demo

    started = time.monotonic()
    try:
        logins = seed_demo(engine, customers_per_tenant=customers)
    except AlreadySeeded as error:
        raise CLIError(str(error)) from None
    print(f"demo data loaded in {time.monotonic() - started:.1f} s: 3 tenants, "
          f"{customers} generated customers each")
    print(f"{'tenant':<8} {'login':<16} {'password':<16} {'role':<14} extension")
    for login in logins:
        print(f"{login.tenant:<8} {login.login:<16} {login.password:<16} {login.role:<14} "
              f"{login.extension or '-'}")
    print("agents log in with their agent ID and password; a login that exists in several "
          "tenants is written LOGIN@TENANT")
    return 0


def _generate(engine: Engine, args) -> int:
    from db.generate import generate_customers

    with engine.begin() as conn:
        try:
            tenant = tenants.get_tenant(conn, args.tenant)
        except NotFound:
            tenant = tenants.create_tenant(conn, args.tenant, args.tenant,
                                           dial_plan=DialPlan.for_country(args.country))
        start_index = count_customers(conn, tenant)
    started = time.monotonic()

    def progress(done: int) -> None:
        print(f"\r{done}/{args.customers} customers", end="", file=sys.stderr, flush=True)

    generate_customers(engine, tenant, args.customers, history=not args.no_history,
                       start_index=start_index, progress=progress)
    print(file=sys.stderr)
    print(f"{args.customers} customers generated for {tenant.code} in "
          f"{time.monotonic() - started:.1f} s")
    return 0


def _import(engine: Engine, path: str, tenant_code: str) -> int:
    from db.csv_io import import_customers

    tenant = _tenant(engine, tenant_code)
    with _open(path, "r") as source:
        try:
            report = import_customers(engine, tenant, source)
        except ValueError as error:
            raise CLIError(f"{path}: {error}") from None
        except UnicodeDecodeError:
            raise CLIError(f"{path}: not UTF-8 text") from None
    for line, message in report.errors:
        print(f"{path}:{line}: skipped: {message}", file=sys.stderr)
    print(f"imported {report.imported} customers into {tenant.code}, skipped {report.skipped}")
    return 0 if not report.errors else 1


def _export(engine: Engine, tenant_code: str, path: str) -> int:
    from db.csv_io import export_customers

    tenant = _tenant(engine, tenant_code)
    with _open(path, "w") as out, engine.connect() as conn:
        count = export_customers(conn, tenant, out)
    if path != "-":
        print(f"exported {count} customers of {tenant.code} to {path}")
    return 0


def _tenant(engine: Engine, code: str):
    with engine.connect() as conn:
        try:
            return tenants.get_tenant(conn, code)
        except NotFound:
            known = ", ".join(t.code for t in tenants.list_tenants(conn)) or "none"
            raise CLIError(f"no tenant {code!r} (known: {known})") from None


@contextlib.contextmanager
def _open(path: str, mode: str) -> Iterator[IO[str]]:
    if path == "-":
        yield sys.stdin if mode == "r" else sys.stdout
        return
    try:
        handle = open(path, mode, encoding="utf-8-sig" if mode == "r" else "utf-8", newline="")
    except OSError as error:
        raise CLIError(f"{path}: {error.strerror}") from None
    with handle:
        yield handle


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise ValueError(text)
    return value


def _count(text: str) -> int:
    value = int(text.replace("_", ""))
    if value < 0:
        raise ValueError(text)
    return value


def _safe(url: str) -> str:
    """The URL without its password, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url
