"""The calls of every link, as the services read them: one cti.model.Model per link, and the
calls' context (attached data, notes, customer) written through to the database.

A model per link keeps two switches' call IDs and extension numbers apart (two tenants on two
PBXs may both have an extension 1001). The services see one CallSource: find a call by any of
its IDs, list the live ones, attach data and notes, and learn which calls ended on an event.

The switch keeps a call's IDs, not what the agents typed (and its snapshot not even the call's
numbers): CallContexts writes each call's context to db/call_context as it changes, so a
restarted server gives it back to the calls its links' snapshots rebuild, with their calling
and called numbers, and the next agent's pop still has the first agent's notes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, Protocol

from twisted.internet.defer import Deferred
from twisted.logger import Logger
from twisted.python.failure import Failure

from cti.errors import ServiceError
from cti.events import Event
from cti.model import CALL_CREATED, CALL_ENDED, Model
from cti.model.calls import Call, CallRecord
from db import call_context as db_context
from db import tenants as db_tenants
from db.call_context import CallContext, ContextNote
from db.spool import is_unavailable

log = Logger(namespace="cti.server.calls")

RETRY_SECONDS = 2.0
"""How soon a context write the database refused is tried again."""
ENDED_RETENTION = 3600.0
"""How long the context of an ended call stays when no disposition is written for it."""
STALE_RETENTION = 86_400.0
"""A context not written for this long belongs to a call that ended while no server watched."""
EXPIRE_EVERY = 600.0
"""How often a tenant's old contexts are looked for. Each write deletes at most
db.call_context.EXPIRE_CHUNK of them; while one comes back full the next write takes more."""
FLUSH_SECONDS = 0.2
"""Changes gathered this long go out in one transaction: one per change (a customer found for
every popped call, an end for every call) kept the database thread, and so the GIL beside the
screen-pop lookups, busy at a high call rate."""


class CallSource(Protocol):
    def apply(self, event: Event) -> list[Any]: ...
    def live(self, call_id: str | None) -> Any | None: ...
    def sweep(self, now: float, max_idle: float) -> list[Any]: ...
    def ended(self, call_id: str) -> Any | None: ...
    def calls(self) -> Iterable[Any]: ...
    def attach_data(self, call_id: str, data: Mapping[str, Any]) -> Any: ...
    def add_note(self, call_id: str, time: float, author: str | None, text: str) -> Any: ...
    def find(self, link: str, call_id: str) -> Any | None: ...
    def restore_context(self, context: CallContext) -> Any | None: ...
    @property
    def created(self) -> list[Any]: ...
    @property
    def history_capacity(self) -> int: ...


class LinkCalls:
    """CallSource over one Model per link; events are routed by their `link` field."""

    def __init__(self, history_size: int = 10_000) -> None:
        self.models: dict[str, Model] = {}
        self._history_size = history_size
        self._ended: list[Call] = []
        self.created: list[Call] = []
        """The calls the last apply() created (a snapshot's are restored from the database)."""

    @property
    def history_capacity(self) -> int:
        """How many finished calls the models' histories hold, all links together: what is
        kept about an ended call beside its record is bounded by it too."""
        return sum(model.history.maxlen for model in self.models.values()) \
            or self._history_size

    def add_link(self, name: str, devices: Iterable[str]) -> Model:
        model = Model(history_size=self._history_size)
        model.mark_monitored(devices, link=name)
        model.add_call_listener(self._on_call)
        self.models[name] = model
        return model

    def _on_call(self, kind: str, call: Call) -> None:
        if kind == CALL_ENDED:
            self._ended.append(call)
        elif kind == CALL_CREATED:
            self.created.append(call)

    def apply(self, event: Event) -> list[CallRecord]:
        """Feed one event to its link's model; returns the records of the calls it ended."""
        model = self.models.get(event.link or "")
        if model is None:
            model = self.add_link(event.link or "", ())
        self._ended = []
        self.created = []
        model.apply(event)
        ended, self._ended = self._ended, []
        return [call.record() for call in ended]

    def sweep(self, now: float, max_idle: float) -> list[CallRecord]:
        """End the calls no event will end any more (cti.model's Model.sweep): those the last
        monitored device left more than the grace ago with no event since to settle them,
        and those no monitored device is on that had no event for `max_idle` seconds.
        Returns their records."""
        ended = [call for model in self.models.values() for call in model.sweep(now, max_idle)]
        self._ended = []
        return [call.record() for call in ended]

    def live(self, call_id: str | None) -> Call | None:
        if not call_id:
            return None
        for model in self.models.values():
            call = model.find_call(call_id)
            if call is not None:
                return call
        return None

    def find(self, link: str, call_id: str) -> Call | None:
        """The live call with this ID (or an old ID of it) on one link."""
        model = self.models.get(link)
        return model.find_call(call_id) if model is not None else None

    def ended(self, call_id: str) -> CallRecord | None:
        for model in self.models.values():
            record = model.history.find(call_id)
            if record is not None:
                return record
        return None

    def calls(self) -> Iterator[Call]:
        for model in self.models.values():
            yield from list(model.calls.values())

    def attach_data(self, call_id: str, data: Mapping[str, Any]) -> Call:
        return self._model_of(call_id).attach_data(call_id, data)

    def add_note(self, call_id: str, time: float, author: str | None, text: str) -> Any:
        return self._model_of(call_id).add_note(call_id, text, time, author)

    def restore_context(self, context: CallContext) -> Call | None:
        """Give a rebuilt call the numbers, data and notes stored for it; what the call
        gathered since it was rebuilt wins. Returns the call, or None when it is not live
        (any more)."""
        model = self.models.get(context.link)
        call = next((found for found in (model.find_call(call_id) for call_id in context.ids)
                     if found is not None), None) if model is not None else None
        if call is None:
            return None
        model.restore_numbers(call.call_id, context.calling, context.called, context.ani,
                              context.dnis)
        missing = {key: value for key, value in context.data.items() if key not in call.data}
        if missing:
            model.attach_data(call.call_id, missing)
        have = {(note.time, note.author, note.text) for note in call.notes}
        for note in context.notes:
            if (note.time, note.author, note.text) not in have and note.text.strip():
                model.add_note(call.call_id, note.text, note.time, note.author)
        return call

    def _model_of(self, call_id: str) -> Model:
        for model in self.models.values():
            if model.find_call(call_id) is not None:
                return model
        raise LookupError(f"no call {call_id!r}")


def context_of(call: Any, customer_id: int | None) -> CallContext | None:
    """The call's context as db/call_context stores it; None when there is nothing to keep."""
    if not _worth_keeping(call, customer_id):
        return None
    return CallContext(
        link=call.link or "", call_id=call.call_id, call_ids=tuple(call.aliases),
        customer_id=customer_id, data=dict(call.data),
        notes=tuple(ContextNote(n.time, n.author, n.text) for n in call.notes),
        calling=call.calling, called=call.called, ani=call.ani, dnis=call.dnis)


def _worth_keeping(call: Any, customer_id: int | None) -> bool:
    """Whether a call (or its record) has a context to store: what the agents gathered, or
    the numbers a snapshot after a restart would not give back."""
    return bool(call.data or call.notes or customer_id is not None or call.calling
                or call.called)


class CallContexts:
    """Write-through of live calls' contexts, and their restore after a restart.

    Changes are marked by key, gathered for `flush_seconds` and written from the call's state
    at the moment of writing, one transaction at a time in the order marked (a transfer's merge
    lands after the writes of the calls it joined). A database that is away fails no API call: the marks stay in memory
    and are written every `retry_seconds` until it is back. A call waiting for its stored
    context is not written until that has been read and merged into it, so a note typed
    during a restart cannot overwrite the ones before it. Context rows are not spooled to a
    file like call records: each write supersedes the last, so the newest state in memory is
    all that needs to reach the database (what a server that stops while the database is
    away still holds is lost with it).
    """

    def __init__(self, database: Any, reactor: Any, live: Callable[[str, str], Any],
                 customer_of: Callable[[Any], int | None],
                 restored: Callable[[str, list[CallContext]], None]) -> None:
        self.db = database
        self.reactor = reactor
        self._live = live
        self._customer_of = customer_of
        self._restored = restored
        self._marks: dict[tuple[str, str, str, str], Any] = {}
        self._wanted: dict[tuple[str, str], set[str]] = {}
        self._restoring: set[tuple[str, str]] = set()
        self._held: set[tuple[str, str, str]] = set()
        self._expired: dict[str, float] = {}
        self._expiring: set[str] = set()
        """Tenants whose last expiry chunk came back full: the next write takes another."""
        self._busy = False
        self._timer: Any = None
        self._stopped = False
        self.retry_seconds = RETRY_SECONDS
        self.flush_seconds = FLUSH_SECONDS
        self.failures = 0
        self.writes = 0

    @property
    def idle(self) -> bool:
        """Nothing waits to be written or restored."""
        return not (self._busy or self._marks or self._wanted or self._held or self._restoring)

    def save(self, tenant: str, call: Any) -> None:
        """The call's data, notes or customer changed (or its ID did)."""
        self._mark(tenant, "save", call.link or "", call.call_id, None)

    def end(self, tenant: str, record: Any) -> None:
        if _worth_keeping(record, self._customer_of(record)):
            ended = datetime.fromtimestamp(record.ended or self.reactor.seconds(), UTC)
            self._mark(tenant, "end", record.link or "", record.call_id,
                       (record.call_ids, ended))

    def disposed(self, tenant: str, record: Any) -> None:
        """The ended call's disposition is stored: its context may go."""
        self._mark(tenant, "delete", record.link or "", record.call_id, record.call_ids)

    def restore(self, tenant: str, link: str, call_ids: Iterable[str]) -> None:
        """Read back what is stored for these calls a link's snapshot just rebuilt."""
        wanted = self._wanted.setdefault((tenant, link), set())
        for call_id in call_ids:
            wanted.add(call_id)
            self._restoring.add((link, call_id))
        self._flush()

    def stop(self) -> None:
        """Write what is marked once more (the pool finishes it before it stops); no timers."""
        self._flush()
        self._stopped = True
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None

    def _mark(self, tenant: str, kind: str, link: str, call_id: str, arg: Any) -> None:
        key = (tenant, kind, link, call_id)
        self._marks.pop(key, None)
        self._marks[key] = arg
        if not (self._busy or self._stopped or self._timer is not None and self._timer.active()):
            self._timer = self.reactor.callLater(self.flush_seconds, self._flush)

    def _flush(self) -> None:
        if self._busy or self._stopped:
            return
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None
        marks, self._marks = self._marks, {}
        wanted, self._wanted = self._wanted, {}
        jobs: list[tuple[str, str, Any]] = []
        for (tenant, kind, link, call_id), arg in marks.items():
            if kind == "save":
                if (link, call_id) in self._restoring:
                    self._held.add((tenant, link, call_id))
                    continue
                call = self._live(link, call_id)
                context = context_of(call, self._customer_of(call)) if call is not None else None
                if context is not None:
                    jobs.append((tenant, kind, context))
            else:
                jobs.append((tenant, kind, (link, arg)))
        now = self.reactor.seconds()
        tenants = ({tenant for tenant, _, _ in jobs} | {tenant for tenant, _ in wanted}
                   | self._expiring)
        expire = {tenant for tenant in tenants
                  if now - self._expired.get(tenant, -EXPIRE_EVERY) >= EXPIRE_EVERY}
        if not (jobs or wanted or expire):
            return
        self._busy = True
        d: Deferred[Any] = self.db.run(_write, jobs, wanted, expire, now)
        d.addCallbacks(self._written, self._failed, callbackArgs=(wanted, expire, now),
                       errbackArgs=(marks, wanted))

    def _written(self, result: tuple[list[tuple[str, list[CallContext]]], list[str], set[str]],
                 wanted: dict[tuple[str, str], set[str]], expire: set[str], now: float) -> None:
        self._busy = False
        self.writes += 1
        loaded, refused, expired = result
        for message in refused:
            log.warn("call context not stored: {error}", error=message)
        for tenant in expired:
            self._expired[tenant] = now
        self._expiring = (self._expiring | expire) - expired
        if not self._stopped:
            for tenant, contexts in loaded:
                try:
                    self._restored(tenant, contexts)
                except Exception:
                    log.failure("restoring {count} call context(s) failed", count=len(contexts))
        self._restored_or_given_up(wanted)
        self._flush()

    def _failed(self, failure: Failure, marks: dict[tuple[str, str, str, str], Any],
                wanted: dict[tuple[str, str], set[str]]) -> None:
        self._busy = False
        self.failures += 1
        error = failure.value
        if not _away(error):
            # Not the database being away: the same batch would fail again forever.
            log.failure("call contexts of {count} change(s) not stored", failure,
                        count=len(marks))
            self._restored_or_given_up(wanted)
            self._flush()
            return
        log.warn("database away, {count} call context change(s) kept to write later: {error}",
                 count=len(marks), error=str(error).splitlines()[0])
        for key, ids in wanted.items():
            self._wanted.setdefault(key, set()).update(ids)
        self._marks = {**{k: v for k, v in marks.items() if k not in self._marks},
                       **self._marks}
        if not self._stopped and (self._marks or self._wanted):
            self._timer = self.reactor.callLater(self.retry_seconds, self._flush)

    def _restored_or_given_up(self, wanted: dict[tuple[str, str], set[str]]) -> None:
        """The calls whose stored context was read (or will not be): their held changes go."""
        done = {(link, call_id) for (_, link), ids in wanted.items() for call_id in ids}
        self._restoring -= done
        for tenant, link, call_id in [h for h in self._held if (h[1], h[2]) in done]:
            self._held.discard((tenant, link, call_id))
            self._marks.setdefault((tenant, "save", link, call_id), None)


def _away(error: BaseException) -> bool:
    """Whether the database could not be reached (worth retrying), rather than refusing the
    batch (a missing table, a bug): the server's Database turns the first into ServiceError."""
    if isinstance(error, ServiceError):
        cause = error.__cause__
        return cause is None or is_unavailable(cause)
    return is_unavailable(error)


def _write(conn: Any, jobs: list[tuple[str, str, Any]], wanted: dict[tuple[str, str], set[str]],
           expire: set[str], now: float
           ) -> tuple[list[tuple[str, list[CallContext]]], list[str], set[str]]:
    """One transaction on a database thread: restores read, changes written, old rows gone
    (a chunk of them; the tenants whose old rows are all gone are returned last)."""
    tenants: dict[str, Any] = {}

    def tenant_of(code: str) -> Any:
        if code not in tenants:
            tenants[code] = db_tenants.get_tenant(conn, code)
        return tenants[code]

    loaded = [(tenant, db_context.load_contexts(conn, tenant_of(tenant), link, ids))
              for (tenant, link), ids in wanted.items()]
    refused: list[str] = []
    for tenant, kind, arg in jobs:
        try:
            if kind == "save":
                db_context.save_context(conn, tenant_of(tenant), arg)
            elif kind == "end":
                link, (call_ids, ended) = arg
                db_context.end_context(conn, tenant_of(tenant), link, call_ids, ended)
            else:
                link, call_ids = arg
                db_context.delete_ended_context(conn, tenant_of(tenant), link, call_ids)
        except ValueError as exc:
            refused.append(str(exc))
    expired: set[str] = set()
    chunk = db_context.EXPIRE_CHUNK
    for tenant in expire:
        gone = db_context.expire_contexts(
            conn, tenant_of(tenant), ended_before=datetime.fromtimestamp(now - ENDED_RETENTION, UTC),
            stale_before=datetime.fromtimestamp(now - STALE_RETENTION, UTC), limit=chunk)
        if gone < chunk:
            expired.add(tenant)
    return [(tenant, contexts) for tenant, contexts in loaded if contexts], refused, expired
