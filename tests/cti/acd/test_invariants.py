"""Properties that hold after any sequence of inputs, whatever the switch and the agents do.

The engine's routing relies on one invariant: after every input, no waiting caller could be
given to an idle available agent of its queue. Hypothesis drives random mixes of callers,
agents, timers and admin changes and checks it, with the bookkeeping it rests on.
"""

from hypothesis import given, settings
from hypothesis import strategies as st

from cti.acd import STRATEGIES, AcdError, Engine, QueueConfig, SkillReq, Target
from cti.acd.state import AVAILABLE, CONNECTED, IDLE, LOGGED_OUT, OFFERED, RINGING, WAITING

AGENTS = [f"a{i}" for i in range(6)]
QUEUES = ["sales", "support", "vip"]
OPS = ["arrive", "arrive", "arrive", "abandon", "answer", "answer", "reject", "end", "end",
       "login", "logout", "ready", "not_ready", "tick", "tick", "wrapup_done", "member",
       "unmember", "strategy", "skill", "busy", "rules", "requeue"]


def build(seed):
    engine = Engine(seed=seed)
    engine.add_queue(QueueConfig("vip", strategy="fewest-calls", weight=2, wrapup_seconds=None,
                                 announce_every=7), 0)
    engine.add_queue(QueueConfig("sales", strategy="hunt", wrapup_seconds=5, ring_timeout=8,
                                 max_len=6, penalty_steps=((0, 0), (10, 1)), max_wait=30,
                                 overflow={"full": Target("queue", "support"),
                                           "timeout": Target("queue", "vip")}), 0)
    engine.add_queue(QueueConfig("support", strategy="ring-all", skills={"tech": SkillReq(3, 1)},
                                 penalty_steps=((0, 0), (5, 1), (9, 2)), ring_timeout=6,
                                 max_wait=40, leave_when_empty=True, weight=1), 0)
    for i, agent in enumerate(AGENTS):
        engine.add_agent(agent, 0, extension=str(100 + i), skills={"tech": i % 4})
        engine.add_member(QUEUES[i % 2], agent, 0, penalty=i % 2)
    engine.add_member("vip", "a0", 0)
    engine.add_member("vip", "a5", 0)
    return engine


def apply(engine, op, pick, now, serial):
    agent = AGENTS[pick % len(AGENTS)]
    calls = sorted(engine.calls)
    call = calls[pick % len(calls)] if calls else None
    try:
        if op == "arrive":
            engine.caller_arrived(f"c{serial}", now, QUEUES[pick % 3], priority=pick % 2 * 5)
        elif op == "abandon" and call:
            engine.caller_abandoned(call, now)
        elif op in ("answer", "reject") and call:
            caller = engine.calls[call]
            if caller.ringing:
                target = caller.ringing[pick % len(caller.ringing)].agent_id
                if op == "answer":
                    engine.agent_answered(call, target, now)
                else:
                    engine.agent_rejected(call, target, now)
        elif op == "end" and call:
            engine.call_ended(call, now)
        elif op == "login":
            engine.agent_login(agent, now, ready=pick % 3 != 0)
        elif op == "logout":
            engine.agent_logout(agent, now)
        elif op == "ready":
            engine.agent_ready(agent, now)
        elif op == "not_ready":
            engine.agent_not_ready(agent, now, "break")
        elif op == "tick":
            engine.tick(now)
        elif op == "wrapup_done":
            engine.wrapup_done(agent, now)
        elif op == "member":
            engine.add_member(QUEUES[pick % 3], agent, now, penalty=pick % 3)
        elif op == "unmember":
            engine.remove_member(QUEUES[pick % 3], agent, now)
        elif op == "strategy":
            engine.set_strategy(QUEUES[pick % 3], STRATEGIES[pick % len(STRATEGIES)], now)
        elif op == "skill":
            engine.set_skill(agent, "tech", pick % 4, now)
        elif op == "busy":
            engine.agent_busy(agent, f"x{serial}", now)
        elif op == "rules":
            engine.update_queue(QUEUES[pick % 3], now, max_len=pick % 5 or None,
                                penalty_steps=((0, 0), (pick % 7, pick % 3)),
                                autopause=bool(pick % 2))
        elif op == "requeue":
            # A supervisor takes a waiting caller out (blind transfer from the queue).
            if call and engine.calls[call].state == WAITING:
                engine.call_transferred(call, now, target="operator")
    except AcdError:
        pass   # refused admin/agent inputs (not logged in, not a member) change nothing


def check(engine):
    for queue in engine.queues.values():
        waiting = queue.in_order()
        assert len(waiting) == queue.n_waiting
        in_queue = [c for c in engine.calls.values()
                    if c.queue is queue and c.state in (WAITING, OFFERED)]
        assert queue.size == len(in_queue)
        members = queue.members.values()
        assert queue.logged_in == sum(m.agent.status != LOGGED_OUT for m in members)
        assert queue.available == sum(m.agent.status == AVAILABLE for m in members)
        idle = [m for m in members if m.agent.routable]
        for caller in waiting:
            assert caller.state == WAITING
            # Work conservation: nobody waits while an eligible agent sits idle.
            assert not [m for m in idle if m.penalty <= caller.allowed], (caller.call_id, idle)
    for agent in engine.agents.values():
        assert agent.pooled == agent.routable
        if agent.state == RINGING:
            caller = engine.calls[agent.call_id]
            assert caller.state == OFFERED and agent in caller.ringing
        if agent.state == IDLE:
            assert agent.call_id is None
    for caller in engine.calls.values():
        assert caller.state in (WAITING, OFFERED, CONNECTED)
        if caller.state == OFFERED:
            assert caller.ringing and all(a.state == RINGING for a in caller.ringing)


@settings(max_examples=120, deadline=None)
@given(st.integers(0, 3), st.lists(st.tuples(st.sampled_from(OPS), st.integers(0, 999),
                                            st.floats(0, 6)), max_size=80))
def test_routing_invariants_hold_after_every_input(seed, script):
    engine = build(seed)
    now = 0.0
    for serial, (op, pick, gap) in enumerate(script):
        now += gap
        apply(engine, op, pick, now, serial)
        check(engine)
    # Whatever happened, time passing leaves the engine consistent and its wake-up honest.
    wake = engine.next_wakeup()
    if wake is not None:
        engine.tick(wake)
        check(engine)
        assert engine.next_wakeup() is None or engine.next_wakeup() > wake
