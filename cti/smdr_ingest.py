"""SMDR call records into the call-record table, through db's durable recorder.

An SmdrListener (or SmdrReceiver) hands each parsed record to an SmdrIngest on the reactor
thread. The ingest turns it into a db CallRecord (start converted to UTC with the link's time
zone) and stores it on the database thread pool through DurableCallRecorder, one record at a
time so records reach the table (or the spool, while the database is away) in the order the
PBX printed them.

Keys: a record's key is a hash of the link, the raw line and how many times that same line was
seen before on the current stream. Reading the same capture again, or a terminal server that
replays its buffer after a reconnect, yields the same keys, so nothing is stored twice; two
identical lines in one stream (some PBXs print a record again) stay two records.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict, deque
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine
from twisted.internet import defer
from twisted.python.failure import Failure

from cti.errors import CLIError
from db import migrate, tenants
from db.errors import NotFound
from db.records import CallRecord
from db.spool import DurableCallRecorder, is_unavailable, record_to_json
from drivers.serial.smdr.record import CallRecord as SmdrRecord

SOURCE_PREFIX = "smdr:"
REJECTED = "rejected"

_REMEMBERED_LINES = 10_000
"""Identical lines are counted among this many most recent distinct lines: a PBX repeats a
record within seconds, and the count must not grow with the life of the stream."""


class RecordKeys:
    """Stable record keys for one link: the n-th occurrence of a line on a stream."""

    def __init__(self, link: str) -> None:
        self.link = link
        self._seen: OrderedDict[str, int] = OrderedDict()

    def new_stream(self) -> None:
        """The port was (re)opened: what it sends may be a replay of what was read before."""
        self._seen.clear()

    def key(self, raw: str) -> str:
        occurrence = self._seen.pop(raw, 0) + 1
        self._seen[raw] = occurrence
        if len(self._seen) > _REMEMBERED_LINES:
            self._seen.popitem(last=False)
        text = f"{self.link}\n{raw}\n{occurrence}"
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


def to_call_record(
    record: SmdrRecord, *, link: str, timezone: str, tenant_id: int | None, key: str,
    received: datetime,
) -> CallRecord:
    """The db row of one SMDR record; `received` (naive UTC) stands in for a missing start."""
    started = record.start_utc(timezone) or received
    return CallRecord(
        source=f"{SOURCE_PREFIX}{record.format}",
        started_at=started,
        tenant_id=tenant_id,
        link=link,
        trunk=record.trunk,
        extension=record.extension,
        number=record.number,
        direction=record.direction,
        ring_seconds=record.ring_seconds,
        duration_seconds=record.duration_seconds,
        raw=record.raw,
        record_key=key,
    )


def store(recorder: DurableCallRecorder, record: CallRecord) -> str:
    """recorder.record on a database thread; a record the database refuses as data is set
    aside in the recorder's rejected file (kept for an operator) instead of stopping the
    stream."""
    try:
        return recorder.record(record)
    except Exception as error:
        if is_unavailable(error):
            raise
        recorder.rejected.append({**record_to_json(record),
                                  "error": str(error).splitlines()[0]})
        return REJECTED


def check_database(engine: Engine, tenant_code: str | None) -> int | None:
    """The tenant's id (None without a code) once the database is reachable and migrated;
    CLIError saying what to do otherwise. Runs on a database thread."""
    problem = migrate.schema_problem(engine)
    if problem is not None:
        raise CLIError(f"the database {problem}")
    if tenant_code is None:
        return None
    with engine.connect() as conn:
        try:
            return tenants.get_tenant(conn, tenant_code).id
        except NotFound:
            known = ", ".join(t.code for t in tenants.list_tenants(conn)) or "none"
            raise CLIError(f"no tenant {tenant_code!r} (known: {known})") from None


class SmdrIngest:
    """The record sink of an SMDR link that stores into the database (see module doc).

    `pool` is a db.pool.DBThreadPool (run_plain); `tenant_id` may be set later (the server
    learns it once the database answers). `outcomes` counts stored / duplicate / spooled /
    rejected records.
    """

    def __init__(
        self,
        pool: Any,
        recorder: DurableCallRecorder,
        *,
        link: str,
        timezone: str,
        tenant_id: int | None = None,
        warn: Callable[[str], None] | None = None,
        now: Callable[[], float] | None = None,
    ) -> None:
        self.pool = pool
        self.recorder = recorder
        self.link = link
        self.timezone = timezone
        self.tenant_id = tenant_id
        self.keys = RecordKeys(link)
        self.warn = warn or (lambda message: None)
        self._now = now
        self.outcomes: dict[str, int] = {}
        self._queue: deque[CallRecord] = deque()
        self._busy = False
        self._idle: list[defer.Deferred[None]] = []
        self._listener: Any = None
        self._stream: Any = None

    def watch(self, listener: Any) -> None:
        """Start the line counts afresh whenever `listener` (an SmdrListener feeding this
        sink) reopens its port, so a replayed buffer maps onto the keys it had before."""
        self._listener = listener

    def __call__(self, record: SmdrRecord) -> None:
        if self._listener is not None and self._listener.receiver is not self._stream:
            self._stream = self._listener.receiver
            self.keys.new_stream()
        received = datetime.fromtimestamp(self._now(), UTC) if self._now else datetime.now(UTC)
        row = to_call_record(
            record, link=self.link, timezone=self.timezone, tenant_id=self.tenant_id,
            key=self.keys.key(record.raw), received=received.replace(tzinfo=None),
        )
        self._queue.append(row)
        if not self._busy:
            self._next()

    @property
    def queued(self) -> int:
        return len(self._queue) + self._busy

    def drain(self) -> defer.Deferred[None]:
        """Fires once every record handed in so far is stored, spooled or rejected."""
        if not self.queued:
            return defer.succeed(None)
        d: defer.Deferred[None] = defer.Deferred()
        self._idle.append(d)
        return d

    def _next(self) -> None:
        if not self._queue:
            self._busy = False
            idle, self._idle = self._idle, []
            for d in idle:
                d.callback(None)
            return
        self._busy = True
        row = self._queue.popleft()
        d = self.pool.run_plain(store, self.recorder, row)
        d.addCallbacks(self._done, self._failed, errbackArgs=(row,))

    def _done(self, outcome: str) -> None:
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1
        if outcome == REJECTED:
            self.warn(f"call record refused by the database, kept in {self.recorder.rejected.path}")
        self._next()

    def _failed(self, failure: Failure, row: CallRecord) -> None:
        # Only a failure of the spool file itself lands here (disk full): say so, keep going.
        self.outcomes["failed"] = self.outcomes.get("failed", 0) + 1
        self.warn(f"call record not stored nor spooled: {failure.getErrorMessage()}: {row.raw}")
        self._next()
