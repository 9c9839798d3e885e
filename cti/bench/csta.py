"""`cti bench csta --json [--seconds S] [--extensions N] [--calls-per-second R]`.

Events per second from the simulated switch through real loopback TCP and the production
CstaDriver into the call model: the path every switch event takes in the server. The switch
(`cti sim csta` with its traffic generator) runs in a CHILD PROCESS by default, so its CPU does
not count against the driver's; `--simulator in-process` puts it on the same reactor instead,
for comparison. Without `--calls-per-second` the traffic generator runs in burst mode (a
closed loop of calls answered and released at once, as fast as the switch can go), so the
figure is whichever side saturates first; `driver_cpu_seconds` and `simulator_cpu_seconds`
say which one it was.

Measured: after the link is up, every extension monitored and the start-up snapshots applied,
and a warm-up, model-applied events over a wall-clock window. `driver_cpu_seconds` is this
process's CPU time (user + system) in that window: the driver, the model and the reactor.
"""

from __future__ import annotations

import os
import platform
import resource
import select
import subprocess
import sys
import tempfile
import time
from typing import Any

from twisted.internet import defer, task

from cti import events as ev
from cti.bench.machine import cpu_name
from cti.commands.args import ArgumentParser
from cti.errors import CLIError

FIRST_EXTENSION = 1000
START_TIMEOUT = 20.0
SIMULATORS = ("subprocess", "in-process")


def run(argv: list[str]) -> dict[str, Any]:
    parser = ArgumentParser(prog="cti bench csta")
    parser.add_argument("--seconds", type=float, default=5.0, help="measuring window")
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds before measuring")
    parser.add_argument("--extensions", type=int, default=50, help="extensions monitored")
    parser.add_argument("--calls-per-second", type=float, default=None,
                        help="paced traffic (default: burst, as fast as the switch goes)")
    parser.add_argument("--holding", type=float, default=0.0,
                        help="seconds a generated call stays connected")
    parser.add_argument("--simulator", choices=SIMULATORS, default="subprocess")
    args = parser.parse_args(argv)
    if args.seconds <= 0 or args.warmup < 0 or args.holding < 0:
        raise CLIError("cti bench csta: --seconds must be positive, --warmup and --holding "
                       "not negative", 2)
    if not 1 <= args.extensions <= 9000:
        raise CLIError("cti bench csta: --extensions must be between 1 and 9000", 2)
    if args.calls_per_second is not None and args.calls_per_second <= 0:
        raise CLIError("cti bench csta: --calls-per-second must be positive", 2)

    sim_argv = _simulator_argv(args)
    child = _spawn_simulator(sim_argv) if args.simulator == "subprocess" else None

    from twisted.internet import reactor

    outcome: dict[str, Any] = {}

    def finished(result: Any) -> None:
        outcome["result"] = result
        reactor.stop()

    def start() -> None:
        d = defer.ensureDeferred(_measure(reactor, args, sim_argv, child))
        d.addBoth(finished)

    try:
        reactor.callWhenRunning(start)
        reactor.run(installSignalHandlers=False)
    finally:
        if child is not None:
            child[0].terminate()
            child[0].wait(timeout=10)
    result = outcome.get("result")
    if result is None or hasattr(result, "raiseException"):
        reason = getattr(result, "value", "the reactor stopped early")
        text = str(reason).splitlines()[0] if str(reason) else repr(reason)
        raise CLIError(f"csta benchmark failed: {text}")
    return result


def _simulator_argv(args: Any) -> list[str]:
    last = FIRST_EXTENSION + args.extensions - 1
    traffic = (["--rate", repr(args.calls_per_second)] if args.calls_per_second is not None
               else ["--burst"])
    return [
        "--listen", "127.0.0.1:0", "--extensions", f"{FIRST_EXTENSION}-{last}",
        "--keepalive", "0", "--ring-delay", "0", "--holding", repr(args.holding),
        "--holding-distribution", "fixed", "--seed", "1", *traffic,
    ]


def _spawn_simulator(sim_argv: list[str]) -> tuple[subprocess.Popen[bytes], int]:
    """`cti sim csta` in a child process; (process, port) once it says where it listens."""
    code = "import sys; from cti.cli import main; sys.exit(main(sys.argv[1:]))"
    # stderr goes to a file, not a pipe nobody drains: a full pipe would stall the switch.
    errors = tempfile.TemporaryFile()
    process = subprocess.Popen(
        [sys.executable, "-c", code, "sim", "csta", *sim_argv],
        stdout=subprocess.PIPE, stderr=errors,
    )
    deadline = time.monotonic() + START_TIMEOUT
    line = b""
    while not line.endswith(b"\n"):
        remaining = deadline - time.monotonic()
        ready, _, _ = select.select([process.stdout], [], [], max(0.0, remaining))
        chunk = os.read(process.stdout.fileno(), 1) if ready else b""
        if not chunk:
            process.kill()
            process.wait(timeout=10)
            errors.seek(0)
            error = errors.read().decode(errors="replace").strip()
            raise CLIError(f"cti bench csta: the simulator did not start: "
                           f"{error.splitlines()[-1] if error else 'no output'}")
        line += chunk
    text = line.decode().strip()
    if not text.startswith("listening on "):
        process.kill()
        raise CLIError(f"cti bench csta: unexpected simulator output {text!r}")
    return process, int(text.rsplit(":", 1)[1])


async def _measure(reactor: Any, args: Any, sim_argv: list[str],
                   child: tuple[subprocess.Popen[bytes], int] | None) -> dict[str, Any]:
    from cti.model import Model
    from drivers.csta import CstaDriver

    running = None
    if child is None:
        from simulators.csta import cli

        running = cli.start(cli.parse_args(sim_argv), reactor)
        port = running.address[1]
    else:
        port = child[1]
    devices = [str(FIRST_EXTENSION + i) for i in range(args.extensions)]
    model = Model()
    model.mark_monitored(devices, link="bench")
    counts = {"events": 0, "snapshots": 0}

    def sink(event: Any) -> None:
        model.apply(event)
        counts["events"] += 1
        if event.event == ev.SNAPSHOT_DEVICE:
            counts["snapshots"] += 1

    driver = CstaDriver("127.0.0.1", port, devices, reactor, "bench", keepalive=0,
                        monitor_rate=2000.0, request_timeout=30.0)
    driver.add_sink(sink)
    driver.start()
    try:
        await _within(reactor, driver.ready(), START_TIMEOUT, "monitoring every extension")
        while counts["snapshots"] < len(devices):
            await task.deferLater(reactor, 0.05, lambda: None)
        await task.deferLater(reactor, args.warmup, lambda: None)

        events0, calls0, ignored0 = counts["events"], model.history.total, model.ignored
        cpu0, sim_cpu0 = _cpu_seconds(), _child_cpu_seconds(child)
        wall0 = time.perf_counter()
        await task.deferLater(reactor, args.seconds, lambda: None)
        wall = time.perf_counter() - wall0
        events, calls = counts["events"] - events0, model.history.total - calls0
        ignored = model.ignored - ignored0
        cpu, sim_cpu = _cpu_seconds() - cpu0, _child_cpu_seconds(child)
    finally:
        await driver.stop()
        if running is not None:
            await running.stop()
    if not events:
        raise CLIError("cti bench csta: no events arrived in the measuring window")
    sim_seconds = None if sim_cpu is None or sim_cpu0 is None else round(sim_cpu - sim_cpu0, 3)
    return {
        "events_per_second": round(events / wall),
        "events": events,
        "seconds": round(wall, 3),
        "calls": calls,
        "calls_per_second": round(calls / wall, 1),
        "events_per_call": round(events / calls, 2) if calls else None,
        "extensions": args.extensions,
        "traffic": ("burst" if args.calls_per_second is None
                    else f"{args.calls_per_second:g} calls/s"),
        "simulator": args.simulator,
        "driver_cpu_seconds": round(cpu, 3),
        "driver_cpu_includes_simulator": args.simulator == "in-process",
        "driver_cpu_share": round(cpu / wall, 3),
        "driver_cpu_us_per_event": round(cpu / events * 1e6, 2),
        "events_per_driver_cpu_second": round(events / cpu) if cpu > 0 else None,
        "simulator_cpu_seconds": sim_seconds,
        "live_calls_at_end": len(model.calls),
        "model_ignored_events": ignored,
        "cpu": cpu_name(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "implementation": sys.implementation.name,
    }


async def _within(reactor: Any, deferred: defer.Deferred[Any], seconds: float, what: str) -> Any:
    timer = reactor.callLater(seconds, deferred.cancel)
    try:
        return await deferred
    except defer.CancelledError:
        raise CLIError(f"cti bench csta: timed out after {seconds:g} s {what}") from None
    finally:
        if timer.active():
            timer.cancel()


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _child_cpu_seconds(child: tuple[subprocess.Popen[bytes], int] | None) -> float | None:
    """The simulator's CPU seconds so far, from /proc (None where there is no /proc)."""
    if child is None:
        return None
    try:
        with open(f"/proc/{child[0].pid}/stat", encoding="ascii") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks
