"""`cti bench screenpop [--database URL] [--customers N] [--rate R] [--seconds S] --json`.

The whole screen-pop path under a sustained load: the CSTA switch simulator rings agents'
extensions with customers' numbers at R calls a second (default 50) for S seconds (default 25)
-> CSTA over loopback TCP -> driver -> call model -> customer lookup on the database thread pool
-> `screen_pop` frame on the agent's WebSocket. Each call is cleared `--hold` seconds after its
pop arrived, so the call records of finished calls are written while later calls pop.

Latency of a call: from the moment the simulator hands the Delivered frame to its transport to
the moment the client's WebSocket receives the `screen_pop` (perf_counter in this one process;
the simulator, the server and the clients share its reactor, as in the end-to-end tests).
The first 2 s of calls warm up and are not counted. Reported: p50_ms, p99_ms, max_ms, mean_ms,
calls_per_second (offered over the measured window), calls, missing (no pop within 5 s),
refused_busy (calls the switch refused because the agent's phone still held the previous call:
pops slower than about 1 s / rate x agents - hold back up this way, so a slow run shows here
and in the latencies, not as lost pops), found (pops naming the customer), agents, customers, database, setup_seconds, generated (customers
this run had to generate), and on MySQL/MariaDB buffer_pool_mb and data_mb (the server's
innodb_buffer_pool_size and the data set's tables and indexes, as `cti db check` reads them).
The server runs as `cti server` does, heap frozen once started.

Customers come from db.generate: the data set of `cti bench screenpop-db` (its tenant and its
N customers, so the two benchmarks share one cache and neither regenerates the other's),
created once and reused: by default in the SQLite file under --cache-dir that screenpop-db
uses, keyed by N; with --database in that database (a MySQL/MariaDB database named in the URL
is created if absent; name it cti_bench_screenpop_N to share screenpop-db's). An interrupted
generation is resumed where it stopped.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import tempfile
import time
from typing import Any

from twisted.internet import defer, task

from cti.bench.screenpop_db import CACHE_DIR, COUNTRY, sqlite_url
from cti.commands.args import ArgumentParser
from cti.errors import CLIError

POP_TIMEOUT = 5.0
WARMUP_SECONDS = 2.0


def run(argv: list[str]) -> dict[str, Any]:
    parser = ArgumentParser(prog="cti bench screenpop")
    parser.add_argument("--database", default=None,
                        help="SQLAlchemy URL (default: a cached SQLite file under --cache-dir)")
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--rate", type=float, default=50.0, help="calls a second")
    parser.add_argument("--seconds", type=float, default=25.0, help="measured load duration")
    parser.add_argument("--calls", type=int, default=None,
                        help="measured calls (default rate x seconds)")
    parser.add_argument("--agents", type=int, default=50)
    parser.add_argument("--hold", type=float, default=0.3,
                        help="seconds a call stays up after its pop")
    parser.add_argument("--cache-dir", default=CACHE_DIR)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    calls = args.calls if args.calls is not None else round(args.rate * args.seconds)
    if min(args.customers, calls, args.agents) < 1 or args.rate <= 0 or args.hold < 0:
        raise CLIError("--customers, --calls, --agents and --rate must be positive")
    args.calls = calls
    os.makedirs(args.cache_dir, exist_ok=True)
    url = args.database or sqlite_url(args.cache_dir, args.customers)
    setup_started = time.perf_counter()
    tenant, extensions, generated = _prepare(url, args)
    setup = time.perf_counter() - setup_started

    from twisted.internet import reactor

    outcome: dict[str, Any] = {}

    def finished(result: Any) -> None:
        outcome["result"] = result
        reactor.stop()

    def start() -> None:
        d = defer.ensureDeferred(_measure(url, tenant, extensions, args))
        d.addBoth(finished)

    reactor.callWhenRunning(start)
    reactor.run(installSignalHandlers=False)
    result = outcome.get("result")
    if hasattr(result, "raiseException"):
        message = str(result.value).splitlines()[0] if str(result.value) else repr(result.value)
        raise CLIError(f"screen-pop benchmark failed: {message}")
    result["setup_seconds"] = round(setup, 3)
    result["generated"] = generated
    result.update(_server_sizes(url))
    return result


def _server_sizes(url: str) -> dict[str, int]:
    from cti.bench.screenpop_db import server_sizes
    from db.engine import make_engine

    engine = make_engine(url)
    try:
        return server_sizes(engine)
    finally:
        engine.dispose()


def _prepare(url: str, args: Any) -> tuple[Any, list[str], int]:
    """The tenant and customers `cti bench screenpop-db` uses (its prepare(), so the two share
    one cached data set), plus the bench agents at extensions 2001..; made once per database
    and reused. Returns (tenant, extensions, customers generated by this run)."""
    from cti.bench.screenpop_db import prepare
    from db import agents
    from db.engine import make_engine
    from db.errors import NotFound
    from db.passwords import hash_password

    _create_mysql_database(url)
    engine = make_engine(url)
    extensions = [str(2001 + i) for i in range(args.agents)]
    try:
        tenant, generated = prepare(engine, args.customers)
        with engine.begin() as conn:
            password_hash = None
            for ext in extensions:
                try:
                    agents.get_agent_by_number(conn, tenant, f"b{ext}")
                except NotFound:
                    password_hash = password_hash or hash_password("bench")
                    agents.create_agent(conn, tenant, f"b{ext}", "", extension=ext,
                                        password_hash=password_hash)
    except CLIError:
        raise
    except Exception as exc:
        raise CLIError(f"preparing {url.split('://')[0]} database failed: "
                       f"{str(exc).splitlines()[0]}") from None
    finally:
        engine.dispose()
    return tenant, extensions, generated


def _create_mysql_database(url: str) -> None:
    """The benchmark's MySQL/MariaDB database, created if missing (nothing for SQLite)."""
    from sqlalchemy.exc import SQLAlchemyError

    from db.engine import create_database

    try:
        create_database(url)
    except SQLAlchemyError as exc:
        raise CLIError(f"creating the database of {url}: "
                       f"{str(getattr(exc, 'orig', exc)).splitlines()[0]}") from None


class PopWatcher:
    """The WebSocket client of one agent: stamps each screen_pop as it arrives.

    Only screen_pop frames are decoded (a substring test first), so the client costs the
    shared reactor as little as possible."""

    def __init__(self, arrived: Any) -> None:
        self.arrived = arrived
        self.transport: Any = None
        self.hello: defer.Deferred[None] = defer.Deferred()
        self.closed: defer.Deferred[None] = defer.Deferred()

    def negotiationStarted(self, transport: Any) -> None:
        self.transport = transport

    def negotiationFinished(self) -> None:
        pass

    def textMessageReceived(self, message: str) -> None:
        now = time.perf_counter()
        if '"event":"screen_pop"' in message:
            pop = json.loads(message)
            self.arrived(pop["call_id"], now, pop.get("customer") is not None)
        elif not self.hello.called and '"event":"hello"' in message:
            self.hello.callback(None)

    def bytesMessageReceived(self, data: bytes) -> None:
        pass

    def pongReceived(self, payload: bytes) -> None:
        pass

    def connectionLost(self, reason: Any) -> None:
        if not self.closed.called:
            self.closed.callback(None)

    def buildProtocol(self, url: str) -> PopWatcher:
        return self

    def close(self) -> defer.Deferred[None]:
        if self.transport is not None and not self.closed.called:
            self.transport.transport.loseConnection()
        return self.closed


class DeliveredStamp:
    """Wraps the simulator's CSTA transport: the time a DeliveredEvent frame was handed to it."""

    def __init__(self, transport: Any) -> None:
        self._transport = transport
        self.last = 0.0

    def write(self, data: bytes) -> None:
        if b"DeliveredEvent" in data:
            self.last = time.perf_counter()
        self._transport.write(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


async def _measure(url: str, tenant: Any, extensions: list[str], args: Any) -> dict[str, Any]:
    from twisted.internet import reactor
    from twisted.web.websocket import WebSocketClientEndpoint

    from cti.server import testing
    from db.generate import phone_number

    workdir = tempfile.mkdtemp(prefix="cti-bench-screenpop-run-")
    pbx = testing.SimulatedPbx(extensions=extensions, queues=())
    config = testing.server_config(url, links=[pbx.link(tenant=tenant.code)],
                                   database_spool=os.path.join(workdir, "calls.spool"),
                                   freeze_heap=True)
    running = await testing.start_server(config=config)
    client = testing.ApiClient(running.url)
    rng = random.Random(args.seed)
    plan = tenant.dial_plan
    placed: dict[str, tuple[float, bool]] = {}
    latencies: list[float] = []
    found = 0
    watchers: list[PopWatcher] = []
    pending_clears: list[Any] = []
    all_popped: defer.Deferred[None] = defer.Deferred()
    warmup = round(args.rate * WARMUP_SECONDS)
    total = warmup + args.calls
    state = {"popped": 0, "index": 0, "refused": 0, "refused_counted": 0}

    def settled() -> None:
        if state["popped"] + state["refused"] >= total and not all_popped.called:
            all_popped.callback(None)

    def arrived(call_id: str, now: float, named: bool) -> None:
        nonlocal found
        entry = placed.pop(call_id, None)
        if entry is None:
            return
        sent, counted = entry
        if counted:
            latencies.append(now - sent)
            found += named
        pending_clears.append(reactor.callLater(args.hold, clear, call_id))
        state["popped"] += 1
        settled()

    def clear(call_id: str) -> None:
        try:
            pbx.switch.clear_call(call_id)
        except Exception:  # the call already ended at the switch
            pass

    try:
        await running.links_ready()
        stamp = _wrap_simulator_transport(pbx)
        for ext in extensions:
            session = await client.login(f"b{ext}", "bench", extension=ext, tenant=tenant.code)
            watcher = PopWatcher(arrived)
            ws_url = running.url.replace("http", "ws", 1) + \
                f"/api/v1/events?token={session['token']}"
            endpoint = WebSocketClientEndpoint.new(reactor, ws_url)
            await defer.Deferred.fromCoroutine(endpoint.connect(watcher))
            await watcher.hello
            watchers.append(watcher)

        def place() -> None:
            index = state["index"]
            if index >= total:
                loop.stop()
                return
            state["index"] += 1
            ext = extensions[index % len(extensions)]
            e164 = phone_number(COUNTRY, rng.randrange(args.customers))
            caller = e164 if rng.random() < 0.5 else plan.national(e164)
            call_id = pbx.switch.inbound_call(caller, ext)
            if not _alerting(pbx, call_id, ext):
                state["refused"] += 1
                state["refused_counted"] += index >= warmup
                clear(call_id)
                settled()
                return
            placed[call_id] = (stamp.last, index >= warmup)

        loop = task.LoopingCall(place)
        loop.clock = reactor
        started = time.perf_counter()
        done = loop.start(1.0 / args.rate, now=True)
        await done
        offered_at = time.perf_counter()
        timeout = reactor.callLater(POP_TIMEOUT, lambda: all_popped.called
                                    or all_popped.callback(None))
        await all_popped
        if timeout.active():
            timeout.cancel()
        await task.deferLater(reactor, args.hold + 0.5, lambda: None)
        measured = offered_at - started - warmup / args.rate
    finally:
        for call in pending_clears:
            if call.active():
                call.cancel()
        for watcher in watchers:
            await watcher.close()
        await client.close()
        await running.stop()
        await pbx.close()
    if not latencies:
        raise CLIError("no screen_pop arrived")
    latencies.sort()
    return {
        "p50_ms": round(statistics.median(latencies) * 1000, 3),
        "p99_ms": round(_percentile(latencies, 99) * 1000, 3),
        "max_ms": round(latencies[-1] * 1000, 3),
        "mean_ms": round(statistics.fmean(latencies) * 1000, 3),
        "calls_per_second": round(args.calls / measured, 1) if measured > 0 else None,
        "calls": args.calls,
        "missing": args.calls - len(latencies) - state["refused_counted"],
        "refused_busy": state["refused_counted"],
        "found": found,
        "agents": len(extensions),
        "customers": args.customers,
        "database": url.split(":", 1)[0].split("+", 1)[0],
    }


def _alerting(pbx: Any, call_id: str, extension: str) -> bool:
    """Whether the simulator rang the extension with the call (not refused it as busy)."""
    from simulators.pbx.model import ALERTING

    call = pbx.switch.calls.get(call_id)
    connection = call.connections.get(extension) if call is not None else None
    return connection is not None and connection.state == ALERTING


def _wrap_simulator_transport(pbx: Any) -> DeliveredStamp:
    """Put a DeliveredStamp around the transport of the simulator's one CSTA connection."""
    protocols = {m.owner.protocol for m in pbx.factory.monitors.values()} - {None}
    if len(protocols) != 1:
        raise CLIError(f"the simulator has {len(protocols)} monitoring connections, not one")
    protocol = protocols.pop()
    if protocol is None:
        raise CLIError("the simulator has no CSTA connection")
    stamp = DeliveredStamp(protocol.transport)
    protocol.transport = stamp
    return stamp


def _percentile(ordered: list[float], pct: float) -> float:
    return ordered[min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))]
