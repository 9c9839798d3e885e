"""`cti bench screenpop [--database URL] [--customers N] [--calls M] [--agents K] --json`.

The whole screen-pop path, timed per call: the CSTA switch simulator rings an agent's extension
with a customer's number -> CSTA over loopback TCP -> driver -> call model -> customer lookup on
the database thread pool -> `screen_pop` frame on the agent's WebSocket. Reported: p50_ms /
p99_ms from placing the call to receiving the pop, calls_per_second of the sequential run (pop
and clear-down included), customers, database (the back end), found (pops that named the
customer). Customers come from db.generate in a fresh tenant of the given database (default a
temporary SQLite file), so an existing database keeps its rows.
"""

from __future__ import annotations

import os
import random
import statistics
import tempfile
import time
import uuid
from typing import Any

from twisted.internet import defer

from cti.commands.args import ArgumentParser
from cti.errors import CLIError
from cti.numbers import DialPlan


def run(argv: list[str]) -> dict[str, Any]:
    parser = ArgumentParser(prog="cti bench screenpop")
    parser.add_argument("--database", default=None,
                        help="SQLAlchemy URL (default: a temporary SQLite file)")
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--agents", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    if min(args.customers, args.calls, args.agents) < 1:
        raise CLIError("--customers, --calls and --agents must be positive")
    workdir = tempfile.mkdtemp(prefix="cti-bench-screenpop-")
    url = args.database or f"sqlite:///{os.path.join(workdir, 'cti.db')}"
    setup_started = time.perf_counter()
    tenant, extensions = _prepare(url, args)
    setup = time.perf_counter() - setup_started

    from twisted.internet import reactor

    outcome: dict[str, Any] = {}

    def finished(result: Any) -> None:
        outcome["result"] = result
        reactor.stop()

    def start() -> None:
        d = defer.ensureDeferred(_measure(url, tenant, extensions, workdir, args))
        d.addBoth(finished)

    reactor.callWhenRunning(start)
    reactor.run(installSignalHandlers=False)
    result = outcome.get("result")
    if hasattr(result, "raiseException"):
        message = str(result.value).splitlines()[0] if str(result.value) else repr(result.value)
        raise CLIError(f"screen-pop benchmark failed: {message}")
    result["setup_seconds"] = round(setup, 3)
    return result


def _prepare(url: str, args: Any) -> tuple[Any, list[str]]:
    """Schema, a fresh tenant with agents at extensions 2001.., generated customers."""
    from db import agents, migrate, tenants
    from db.engine import make_engine
    from db.generate import generate_customers
    from db.passwords import hash_password

    engine = make_engine(url)
    try:
        migrate.upgrade(engine)
        code = f"bench-{uuid.uuid4().hex[:8]}"
        extensions = [str(2001 + i) for i in range(args.agents)]
        password_hash = hash_password("bench")
        with engine.begin() as conn:
            tenant = tenants.create_tenant(conn, code, "Screen-pop bench",
                                           dial_plan=DialPlan.for_country("49"))
            for ext in extensions:
                agents.create_agent(conn, tenant, f"b{ext}", "", extension=ext,
                                    password_hash=password_hash)
        generate_customers(engine, tenant, args.customers, seed=args.seed)
    except Exception as exc:
        raise CLIError(f"preparing {url.split('://')[0]} database failed: "
                       f"{str(exc).splitlines()[0]}") from None
    finally:
        engine.dispose()
    return tenant, extensions


async def _measure(url: str, tenant: Any, extensions: list[str], workdir: str,
                   args: Any) -> dict[str, Any]:
    from cti.server import testing
    from db.generate import phone_number

    pbx = testing.SimulatedPbx(extensions=extensions, queues=())
    config = testing.server_config(url, links=[pbx.link(tenant=tenant.code)],
                                   database_spool=os.path.join(workdir, "calls.spool"))
    running = await testing.start_server(config=config)
    client = testing.ApiClient(running.url)
    streams = {}
    rng = random.Random(args.seed)
    latencies: list[float] = []
    found = 0
    try:
        await running.links_ready()
        for ext in extensions:
            session = await client.login(f"b{ext}", "bench", extension=ext, tenant=tenant.code)
            stream = await testing.EventStreamClient.connect(running.url, session["token"])
            await stream.next_event("hello")
            streams[ext] = stream
        started = time.perf_counter()
        for index in range(args.calls):
            ext = extensions[index % len(extensions)]
            caller = phone_number("49", rng.randrange(args.customers))
            placed = time.perf_counter()
            call_id = pbx.switch.inbound_call(caller, ext)
            pop = await streams[ext].next_event("screen_pop", call_id=call_id, timeout=10)
            latencies.append(time.perf_counter() - placed)
            found += pop["customer"] is not None
            pbx.switch.clear_call(call_id)
            await streams[ext].next_event("call", kind="ended", timeout=10)
            streams[ext].messages.clear()
        elapsed = time.perf_counter() - started
    finally:
        for stream in streams.values():
            await stream.close()
        await client.close()
        await running.stop()
        await pbx.close()
    latencies.sort()
    return {
        "p50_ms": round(statistics.median(latencies) * 1000, 3),
        "p99_ms": round(latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000, 3),
        "calls_per_second": round(args.calls / elapsed, 1),
        "calls": args.calls,
        "customers": args.customers,
        "found": found,
        "database": url.split(":", 1)[0].split("+", 1)[0],
    }
