"""`cti bench acd --agents N --queues M --json`: routing cost with a crowd already waiting.

Agents hold skills for a few queues each (levels give penalties 0-2, relaxed after 10 and 20 s),
the queues cycle through every strategy, and traffic is poured in until every agent is busy
and `--waiting` callers wait. Then, in steady state, each step ends a random call (the freed
agent takes the best caller across its queues) and brings new callers until the crowd is back
(each joins the line). Virtual time advances 50 / agents seconds a step, so each agent sees
the same call rate at any size, and timers (ring, penalty relaxation) fire at the same rate
per queue.
Both inputs are routing decisions; each is timed inside the engine, one by one, on the thread's
CPU clock (p50_us, p99_us, decisions_per_second: the engine's own cost, which other processes
on a busy machine do not inflate) and on the wall clock (wall_* keys: what a caller would see on
this machine at this moment, preemption included).

The same run repeats at a tenth of the agents, queues and waiting callers as a baseline (the
same load per queue, so the only difference is size), interleaved in short blocks with the main
run; p99_ratio_to_baseline is the growth of the p99 with size.
"""

from __future__ import annotations

import gc
import time
from functools import partial
from random import Random
from typing import Any

from cti.acd.config import STRATEGIES, QueueConfig, SkillReq
from cti.acd.decisions import Offer, RingAll
from cti.acd.engine import Engine
from cti.commands.args import ArgumentParser
from cti.errors import CLIError


def run(argv: list[str]) -> dict[str, Any]:
    parser = ArgumentParser(prog="cti bench acd")
    parser.add_argument("--agents", type=int, default=5000)
    parser.add_argument("--queues", type=int, default=500)
    parser.add_argument("--waiting", type=int, default=1000)
    parser.add_argument("--steps", type=int, default=20000)
    parser.add_argument("--queues-per-agent", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-baseline", action="store_true")
    args = parser.parse_args(argv)
    if args.agents < 10 or args.queues < 1 or args.waiting < 1 or args.steps < 100:
        raise CLIError("cti bench acd: need --agents >= 10, --queues >= 1, --waiting >= 1, "
                       "--steps >= 100", 2)
    if args.queues_per_agent > args.queues:
        raise CLIError("cti bench acd: --queues-per-agent must not exceed --queues", 2)
    main = Scenario(args.agents, args.queues, args.waiting, args.queues_per_agent, args.seed)
    scenarios = [main]
    if not args.no_baseline and args.agents >= 100 and args.queues >= 10:
        scenarios.append(Scenario(args.agents // 10, args.queues // 10,
                                  max(1, args.waiting // 10),
                                  min(args.queues_per_agent, args.queues // 10), args.seed))
    # Alternate short blocks so both sizes see the same machine noise.
    gc.collect()
    gc.freeze()
    try:
        for _ in range(0, args.steps, 500):
            for scenario in scenarios:
                scenario.run(500)
    finally:
        gc.unfreeze()
    result = main.figures()
    if len(scenarios) > 1:
        baseline = scenarios[1].figures()
        result["baseline"] = baseline
        result["p99_ratio_to_baseline"] = round(result["p99_us"] / baseline["p99_us"], 3)
        result["wall_p99_ratio_to_baseline"] = round(
            result["wall_p99_us"] / baseline["wall_p99_us"], 3)
    return result


class Scenario:
    """One engine full of busy agents and waiting callers, stepped in steady state."""

    def __init__(self, agents: int, queues: int, waiting: int, per_agent: int,
                 seed: int) -> None:
        self.rng = rng = Random(seed)
        self.engine = engine = Engine(seed=seed)
        self.agents, self.waiting = agents, waiting
        # One call ends per step: 50 / agents seconds apart gives every agent (and so every
        # queue) the same call rate at any size, so waits and timers per queue match too.
        self.step = 50.0 / agents
        self.now = 0.0
        self.names = [f"q{i}" for i in range(queues)]
        for i, name in enumerate(self.names):
            engine.add_queue(QueueConfig(
                name, strategy=STRATEGIES[i % len(STRATEGIES)],
                skills={f"s{i}": SkillReq(level=3, min_level=1)},
                penalty_steps=((0, 0), (10, 1), (20, 2)), weight=i % 3, ring_timeout=15.0,
            ), self.now)
        for i in range(agents):
            skills = {f"s{q}": rng.randint(1, 3) for q in rng.sample(range(queues), per_agent)}
            engine.agent_login(f"a{i}", self.now, str(100000 + i), skills=skills)
        self.in_call: list[str] = []
        self.serial = 0
        self.cpu: list[int] = []
        self.wall: list[int] = []
        self.arrive_until_full(timed=False)

    def waiting_now(self) -> int:
        return sum(queue.n_waiting for queue in self.engine.queues.values())

    def answer(self, decisions: list[Any]) -> None:
        for decision in decisions:
            if isinstance(decision, Offer | RingAll):
                agent = decision.agent_id if isinstance(decision, Offer) else decision.agents[0][0]
                self.answer(self.engine.agent_answered(decision.call_id, agent, self.now))
                self.in_call.append(decision.call_id)

    def timed(self, function: Any, *args: Any) -> list[Any]:
        """One routing input, timed on the thread's CPU clock and on the wall clock."""
        wall, cpu = time.perf_counter_ns, time.thread_time_ns
        started_wall, started_cpu = wall(), cpu()
        decisions = function(*args)
        self.cpu.append(cpu() - started_cpu)
        self.wall.append(wall() - started_wall)
        return decisions

    def arrive_until_full(self, timed: bool) -> None:
        while True:
            self.serial += 1
            call, queue = f"c{self.serial}", self.rng.choice(self.names)
            arrive = partial(self.engine.caller_arrived, priority=self.rng.choice((0, 0, 0, 5)))
            if timed:
                decisions = self.timed(arrive, call, self.now, queue)
            else:
                decisions = arrive(call, self.now, queue)
            self.answer(decisions)
            if self.waiting_now() >= self.waiting:
                return
            if not timed:
                self.now += 0.001

    def run(self, steps: int) -> None:
        """End a random call (the agent takes the next caller), then refill the crowd."""
        for _ in range(steps):
            self.now += self.step
            index = self.rng.randrange(len(self.in_call))
            call = self.in_call[index]
            self.in_call[index] = self.in_call[-1]
            self.in_call.pop()
            self.answer(self.timed(self.engine.call_ended, call, self.now))
            self.arrive_until_full(timed=True)

    def figures(self) -> dict[str, Any]:
        cpu, wall = sorted(self.cpu), sorted(self.wall)

        def us(samples: list[int], fraction: float) -> float:
            return round(samples[min(len(samples) - 1, int(len(samples) * fraction))] / 1000, 2)

        return {
            "agents": self.agents, "queues": len(self.names), "decisions": len(cpu),
            "waiting_callers": self.waiting_now(),
            "decisions_per_second": round(len(cpu) / (sum(cpu) / 1e9)),
            "p50_us": us(cpu, 0.5), "p99_us": us(cpu, 0.99), "max_us": us(cpu, 1.0),
            "mean_us": round(sum(cpu) / len(cpu) / 1000, 2),
            "wall_decisions_per_second": round(len(wall) / (sum(wall) / 1e9)),
            "wall_p50_us": us(wall, 0.5), "wall_p99_us": us(wall, 0.99),
        }
