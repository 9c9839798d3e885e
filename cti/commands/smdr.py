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

    from drivers.serial.smdr.receiver import SmdrReceiver
    from drivers.serial.transport import open_link, parse_link_url

    try:
        address = parse_link_url(args.url)
    except ValueError as exc:
        raise CLIError(str(exc), 2) from None
    outcome: dict[str, str] = {}
    seen = [0]

    def sink(record: CallRecord) -> None:
        print(_render(record, args.json), flush=True)
        seen[0] += 1
        if args.count and seen[0] >= args.count:
            stop()

    def warn(message: str) -> None:
        print(f"cti smdr: warning: {message}", file=sys.stderr, flush=True)

    def stop() -> None:
        if reactor.running:
            reactor.stop()

    class Receiver(SmdrReceiver):
        def connectionLost(self, reason: object = None) -> None:
            super().connectionLost(reason)
            if not outcome and not (args.count and seen[0] >= args.count):
                outcome["error"] = f"link {address.describe()} closed"
            stop()

    format = address.options.get("format", args.format)
    if format not in FORMAT_CHOICES:
        raise CLIError(f"unknown SMDR format {format!r}", 2)
    receiver = Receiver(sink, format, warn)

    def failed(reason: Any) -> None:
        outcome["error"] = f"cannot connect to {address.describe()}: {reason.getErrorMessage()}"
        stop()

    def started() -> None:
        open_link(address, receiver, reactor).addErrback(failed)

    reactor.callWhenRunning(started)
    def time_up() -> None:
        outcome["done"] = "time up"
        stop()

    if args.seconds:
        reactor.callLater(args.seconds, time_up)
    reactor.run()
    if "error" in outcome:
        raise CLIError(outcome["error"])
    return 0
