"""`cti smdr parse FILE` and `cti smdr listen URL`: PBX call records as JSON lines.

parse: a capture file (any of the formats in drivers.serial.smdr), one JSON object per record
(interfaces.md), warnings for unreadable lines on stderr with their line number.
listen: the same records live from a serial port or a terminal server, printed, or with
--database stored as call records (cti.smdr_ingest: UTC via --timezone, spooled while the
database is away, replayed in order, never stored twice).
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from cti.commands.args import ArgumentParser
from cti.errors import CLIError
from drivers.serial.smdr import AUTO, FORMATS, SmdrParseError, read_bytes
from drivers.serial.smdr.record import CallRecord

FORMAT_CHOICES = [AUTO, *FORMATS]


def main(argv: list[str]) -> int:
    parser = ArgumentParser(prog="cti smdr", description="parse or collect PBX call records")
    sub = parser.add_subparsers(dest="action", required=True, parser_class=ArgumentParser)
    parse = sub.add_parser("parse", help="parse a capture file into JSON lines")
    parse.add_argument("file", help="the capture file ('-' for stdin)")
    parse.add_argument("--format", default=AUTO, choices=FORMAT_CHOICES)
    parse.add_argument("--json", action="store_true", help="one JSON object per record")
    listen = sub.add_parser("listen", help="read records live from a serial link")
    listen.add_argument("url", help="serial:///dev/ttyS1?baud=9600 or serial+tcp://HOST:PORT")
    listen.add_argument("--format", default=AUTO, choices=FORMAT_CHOICES)
    listen.add_argument("--json", action="store_true", help="one JSON object per record")
    listen.add_argument("--count", type=int, default=0, help="stop after N records")
    listen.add_argument("--seconds", type=float, default=0.0, help="stop after S seconds")
    listen.add_argument("--database", default=os.environ.get("CTI_DATABASE_URL"),
                        help="store the records as call records (SQLAlchemy URL; default "
                             "$CTI_DATABASE_URL); without it they are printed")
    listen.add_argument("--tenant", help="the tenant the call records belong to (code)")
    listen.add_argument("--timezone", default="UTC",
                        help="the PBX's local time zone, e.g. Europe/Berlin (default UTC)")
    listen.add_argument("--spool", default="cti-smdr.spool",
                        help="where records wait while the database is away")
    listen.add_argument("--link", help="the link name stored with each record (default: URL)")
    listen.add_argument("--reconnect", type=float, default=None, metavar="SECONDS",
                        help="reopen the port SECONDS after it closes (default: stop)")
    listen.add_argument("--retry-seconds", type=float, default=5.0,
                        help="how often the spool is retried while the database is away")
    args = parser.parse_args(argv)
    if args.action == "parse":
        return _parse(args.file, args.format, args.json)
    return _listen(args)


def _parse(path: str, format: str, as_json: bool) -> int:
    try:
        if path == "-":
            data = sys.stdin.buffer.read()
        else:
            with open(path, "rb") as handle:
                data = handle.read()
    except OSError as exc:
        raise CLIError(f"cannot read {path}: {exc.strerror or exc}") from None
    out = sys.stdout
    try:
        for number, item in read_bytes(data, format):
            if isinstance(item, SmdrParseError):
                print(f"cti smdr: warning: {path}: line {number}: {item}", file=sys.stderr)
                continue
            out.write(_render(item, as_json) + "\n")
        out.flush()
    except BrokenPipeError:  # `| head`: the reader has what it wanted (Python docs recipe)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


def _render(record: CallRecord, as_json: bool) -> str:
    if as_json:
        return json.dumps(record.to_dict(), ensure_ascii=False)
    fields: list[Any] = [
        record.start, record.direction or "?", record.extension or "-", record.trunk or "-",
        record.number or "-", f"ring={record.ring_seconds}", f"dur={record.duration_seconds}",
    ]
    return " ".join(str(field) for field in fields)


def _listen(args: Any) -> int:
    from twisted.internet import defer, reactor

    from cti.smdr_ingest import check_database
    from drivers.serial.smdr.listener import SmdrListener

    store = _Store.open(args, reactor) if args.database else None
    seen = [0]
    outcome: dict[str, str] = {}

    def sink(record: CallRecord) -> None:
        if store is not None:
            store.ingest(record)
        if args.json or store is None:
            print(_render(record, args.json), flush=True)
        seen[0] += 1
        if args.count and seen[0] >= args.count:
            finish("done")

    def warn(message: str) -> None:
        print(f"cti smdr: warning: {message}", file=sys.stderr, flush=True)

    def finish(why: str) -> None:
        if "why" in outcome:
            return
        outcome["why"] = why
        d = listener.stop() if listener_started else defer.succeed(None)
        if store is not None:
            d.addBoth(lambda _: store.close())
        d.addBoth(lambda _: reactor.stop() if reactor.running else None)

    def start() -> None:
        nonlocal listener_started
        if store is None:
            listener_started = True
            listener.start()
            return

        def ready(tenant_id: int | None) -> None:
            nonlocal listener_started
            store.ingest.tenant_id = tenant_id
            store.replayer.start()
            listener_started = True
            listener.start()

        store.pool.run_plain(check_database, store.engine, args.tenant).addCallbacks(
            ready, lambda failure: finish(_database_error(failure.value, args.database)))

    listener_started = False
    try:
        listener = SmdrListener(
            args.url, sink, format=None if args.format == AUTO else args.format, warn=warn,
            reactor=reactor, reconnect_delay=args.reconnect,
        )
    except ValueError as exc:
        raise CLIError(str(exc), 2) from None
    if store is not None:
        store.ingest.warn = warn
        store.ingest.watch(listener)
    listener.closed.addCallback(finish)
    reactor.callWhenRunning(start)
    if args.seconds:
        reactor.callLater(args.seconds, finish, "done")
    reactor.run()
    why = outcome.get("why", "done")
    if store is not None:
        store.recorder.close()
        if why in ("done", "stopped") or store.ingest.outcomes:
            print(f"cti smdr: {store.summary()}", file=sys.stderr, flush=True)
    if why not in ("done", "stopped"):
        raise CLIError(why)
    return 0


def _database_error(error: BaseException, url: str) -> str:
    if isinstance(error, CLIError):
        return str(error)
    detail = str(getattr(error, "orig", None) or error).splitlines()[0]
    return f"database {_safe_url(url)}: {detail}"


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


class _Store:
    """The database side of `listen --database`: engine, one-thread pool (one thread keeps the
    records in order on MariaDB too), durable recorder, spool replayer and the ingest sink."""

    def __init__(self, engine: Any, pool: Any, recorder: Any, replayer: Any, ingest: Any) -> None:
        self.engine, self.pool, self.recorder = engine, pool, recorder
        self.replayer, self.ingest = replayer, ingest

    @classmethod
    def open(cls, args: Any, reactor: Any) -> _Store:
        from zoneinfo import ZoneInfo

        from cti.smdr_ingest import SmdrIngest
        from db.engine import make_engine
        from db.pool import DBThreadPool
        from db.spool import DurableCallRecorder, SpoolReplayer

        try:
            ZoneInfo(args.timezone)
        except Exception:  # ZoneInfoNotFoundError, or ValueError for a malformed key
            raise CLIError(f"unknown time zone {args.timezone!r} (an IANA name such as "
                           "Europe/Berlin)", 2) from None
        engine = make_engine(args.database)
        try:
            recorder = DurableCallRecorder(engine, args.spool, retry_interval=args.retry_seconds)
        except OSError as exc:
            raise CLIError(f"cannot open spool {args.spool}: {exc.strerror or exc}") from None
        pool = DBThreadPool(engine, reactor, max_threads=1, name="cti-smdr-db")
        replayer = SpoolReplayer(pool, recorder, interval=args.retry_seconds, clock=reactor)
        ingest = SmdrIngest(pool, recorder, link=args.link or args.url, timezone=args.timezone,
                            now=reactor.seconds)
        return cls(engine, pool, recorder, replayer, ingest)

    def close(self) -> Any:
        """Once every record is stored or spooled, one last try at the spool; what the
        database still cannot take stays in the spool file for the next run."""
        self.replayer.stop()
        d = self.ingest.drain()
        d.addCallback(lambda _: self.pool.run_plain(self.recorder.replay)
                      if self.recorder.pending else None)
        d.addErrback(lambda _: None)
        return d

    def summary(self) -> str:
        counts = self.ingest.outcomes
        parts = [f"{counts.get(name, 0)} {name}" for name in ("stored", "duplicate", "spooled")]
        for name in ("rejected", "failed"):
            if counts.get(name):
                parts.append(f"{counts[name]} {name}")
        text = "call records: " + ", ".join(parts)
        if self.recorder.pending:
            text += f"; {self.recorder.pending} waiting in {self.recorder.spool.path}"
        return text
