"""`cti smdr parse FILE` and `cti smdr listen URL`: PBX call records as JSON lines.

parse: a capture file (any of the formats in drivers.serial.smdr), one JSON object per record
(interfaces.md), warnings for unreadable lines on stderr with their line number.
listen: the same records live from a serial port or a terminal server. Storing them needs the
database layer; until it is wired in, `--json` prints them (the receiver takes any sink).
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
    from twisted.internet import reactor

    from drivers.serial.smdr.listener import SmdrListener

    seen = [0]
    outcome: dict[str, str] = {}

    def sink(record: CallRecord) -> None:
        print(_render(record, args.json), flush=True)
        seen[0] += 1
        if args.count and seen[0] >= args.count:
            finish("done")

    def warn(message: str) -> None:
        print(f"cti smdr: warning: {message}", file=sys.stderr, flush=True)

    def finish(why: str) -> None:
        outcome.setdefault("why", why)
        listener.stop().addBoth(lambda _: reactor.stop() if reactor.running else None)

    def closed(why: str) -> None:
        outcome.setdefault("why", why)
        if reactor.running:
            reactor.stop()

    try:
        listener = SmdrListener(
            args.url, sink, format=None if args.format == AUTO else args.format, warn=warn,
            reactor=reactor, reconnect_delay=None,
        )
    except ValueError as exc:
        raise CLIError(str(exc), 2) from None
    listener.closed.addCallback(closed)
    reactor.callWhenRunning(listener.start)
    if args.seconds:
        reactor.callLater(args.seconds, finish, "done")
    reactor.run()
    why = outcome.get("why", "done")
    if why not in ("done", "stopped"):
        raise CLIError(why)
    return 0
