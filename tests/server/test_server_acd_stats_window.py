"""A server that runs for months keeps a day of live statistics intervals, not all of them.

The queue log in the database holds every event; the engine's per-interval counters are for the
live boards, so the runner drops the intervals older than a day as it goes.
"""

from __future__ import annotations

from types import SimpleNamespace

from twisted.internet import defer
from twisted.internet.task import Clock

from cti.acd import QueueConfig
from cti.server.acd import STATS_KEEP_SECONDS, STATS_PRUNE_SECONDS, AcdRunner, TenantAcd

DAY = 86_400.0


class _QueueLogSink:
    """Stands in for the database pool: the queue log rows are not what these tests read."""

    def __init__(self) -> None:
        self.rows = 0

    def run(self, function, *args, **kwargs) -> defer.Deferred[None]:
        self.rows += 1
        return defer.succeed(None)


def _runner(clock: Clock) -> tuple[AcdRunner, TenantAcd]:
    runner = AcdRunner(clock, database=_QueueLogSink(), links=None, calls=None,
                       on_agent_state=lambda tenant, state: None,
                       on_queue_change=lambda tenant, queue: None)
    acd = TenantAcd("acme", SimpleNamespace(id=1, code="acme"))
    acd.engine.add_queue(QueueConfig("sales"), clock.seconds())
    runner.tenants["acme"] = acd
    return runner, acd


def _a_caller_comes_and_goes(runner: AcdRunner, acd: TenantAcd, clock: Clock, call_id: str) -> None:
    acd.engine.caller_arrived(call_id, clock.seconds(), "sales")
    runner.calls_ended("acme", [call_id])


def test_intervals_older_than_a_day_are_dropped_as_the_acd_works():
    clock = Clock()
    clock.advance(10 * DAY)
    runner, acd = _runner(clock)
    for hour in range(48):
        clock.advance(3600)
        _a_caller_comes_and_goes(runner, acd, clock, f"c{hour}")
    kept = acd.engine.stats.intervals("sales")
    interval = acd.engine.stats.interval
    assert max(kept) + interval > clock.seconds(), "the current interval stays for the boards"
    assert min(kept) + interval > clock.seconds() - STATS_KEEP_SECONDS
    assert len(kept) == 25, "one caller an hour: the last day's 24 hours and this one"
    assert acd.engine.stats.queue("sales").offered == 48, "the totals still count every caller"


def test_a_busy_minute_does_not_prune_on_every_event():
    clock = Clock()
    clock.advance(10 * DAY)
    runner, acd = _runner(clock)
    _a_caller_comes_and_goes(runner, acd, clock, "first")
    pruned = acd.pruned_at
    clock.advance(STATS_PRUNE_SECONDS / 2)
    _a_caller_comes_and_goes(runner, acd, clock, "second")
    assert acd.pruned_at == pruned
    clock.advance(STATS_PRUNE_SECONDS)
    _a_caller_comes_and_goes(runner, acd, clock, "third")
    assert acd.pruned_at == clock.seconds()
