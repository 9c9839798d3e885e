"""Structured logs: twisted.logger events rendered as text lines or JSON lines.

Every module logs through twisted.logger with named fields; this module only decides where the
lines go and in which shape, so operations can feed JSON lines to their collector.
"""

from __future__ import annotations

import json
import sys
from typing import IO, Any

from twisted.logger import (
    FilteringLogObserver,
    ILogObserver,
    LogLevel,
    LogLevelFilterPredicate,
    formatEvent,
    globalLogBeginner,
)
from zope.interface import implementer

from cti.events import iso_time


@implementer(ILogObserver)
class LineObserver:
    """One line per event: ``TIME LEVEL NAMESPACE message`` or a JSON object."""

    def __init__(self, stream: IO[str], json_lines: bool) -> None:
        self.stream = stream
        self.json_lines = json_lines

    def __call__(self, event: dict[str, Any]) -> None:
        level = event.get("log_level", LogLevel.info)
        record = {
            "time": iso_time(event.get("log_time") or 0.0),
            "level": level.name,
            "namespace": event.get("log_namespace", "-"),
            "message": formatEvent(event),
        }
        failure = event.get("log_failure")
        if failure is not None:
            record["traceback"] = failure.getTraceback()
        if self.json_lines:
            for key, value in event.items():
                if not key.startswith("log_") and key not in record and _plain(value):
                    record[key] = value
            line = json.dumps(record, default=str)
        else:
            line = f"{record['time']} {record['level']:<5} {record['namespace']}: {record['message']}"
            if failure is not None:
                line += "\n" + record["traceback"].rstrip()
        self.stream.write(line + "\n")
        self.stream.flush()


def _plain(value: Any) -> bool:
    return isinstance(value, (str, int, float, bool, type(None)))


def observer(level: str, json_lines: bool, stream: IO[str]) -> ILogObserver:
    predicate = LogLevelFilterPredicate(defaultLogLevel=LogLevel.levelWithName(level))
    return FilteringLogObserver(LineObserver(stream, json_lines), [predicate])


def begin(level: str, json_lines: bool, path: str | None) -> IO[str]:
    """Route the process's log events to stderr (or `path`); used by `cti server` only."""
    stream: IO[str] = open(path, "a", encoding="utf-8") if path else sys.stderr
    globalLogBeginner.beginLoggingTo(
        [observer(level, json_lines, stream)], redirectStandardIO=False
    )
    return stream
