"""Skills-based routing: levels, penalties that relax with the wait, priorities, shared agents."""

from cti.acd import Announce, SkillReq


def test_only_agents_with_the_required_skills_serve_a_skills_queue(center):
    center.queue("french", skills={"french": 2})
    center.login("novice", 0, skills={"french": 1})
    center.login("bilingual", 0, skills={"french": 3, "english": 5})
    center.login("english", 0, skills={"english": 5})
    assert center.engine.queue_view("french")["members"] == 1
    assert center.offered(center.arrive("c1", 1, "french")) == [("c1", "bilingual")]
    # The other agents stay idle: the next French caller waits.
    assert center.offered(center.arrive("c2", 2, "french")) == []
    assert center.waiting("french") == ["c2"]


def test_explicit_members_must_also_meet_the_skills(center):
    center.queue("billing", skills={"billing": 1})
    center.engine.add_agent("a1", 0, skills={})
    center.engine.add_member("billing", "a1", 0)
    center.login("a1", 0)
    assert center.engine.queue_view("billing")["members"] == 0
    center.engine.set_skill("a1", "billing", 1, 1)
    assert center.engine.queue_view("billing")["members"] == 1


def test_lesser_skill_levels_are_accepted_as_the_caller_waits(center):
    center.queue("tech", skills={"tech": SkillReq(level=5, min_level=3)},
                 penalty_steps=((0, 0), (30, 1), (60, 2)))
    center.login("level3", 0, skills={"tech": 3})   # penalty 2
    center.login("level4", 0, skills={"tech": 4})   # penalty 1
    center.login("level2", 0, skills={"tech": 2})   # below the minimum: never
    assert center.offered(center.arrive("c1", 100, "tech")) == []
    assert center.engine.next_wakeup() == 130
    assert center.offered(center.tick(129.9)) == []
    # After 30 s the caller accepts penalty 1: the level-4 agent.
    assert center.offered(center.tick(130)) == [("c1", "level4")]
    center.answer("c1", "level4", 131)
    center.arrive("c2", 200, "tech")
    assert center.offered(center.tick(230)) == []
    assert center.offered(center.tick(260)) == [("c2", "level3")]


def test_a_waiting_caller_takes_a_lower_penalty_agent_as_soon_as_one_frees(center):
    center.queue("q", penalty_steps=((0, 0), (60, 1)))
    center.staff("q", "best", penalty=0)
    center.staff("q", "backup", penalty=1)
    assert center.take("c1", 0) == "best"
    assert center.offered(center.arrive("c2", 1)) == []   # backup is penalty 1, not yet
    assert center.offered(center.end("c1", 20)) == [("c2", "best")]


def test_without_penalty_steps_lowest_penalty_goes_first_then_the_rest(center):
    center.queue("q", strategy="linear")
    center.staff("q", "first-line", penalty=0)
    center.staff("q", "overflow", penalty=2)
    center.staff("q", "second-line", penalty=1)
    assert [center.take(f"c{i}", i) for i in range(3)] == ["first-line", "second-line",
                                                           "overflow"]


def test_priority_callers_are_served_before_older_normal_callers(center):
    center.queue("q")
    center.staff("q", "a1")
    center.take("c0", 0)
    center.arrive("normal1", 1)
    center.arrive("normal2", 2)
    center.arrive("vip", 3, priority=10)
    assert center.waiting() == ["vip", "normal1", "normal2"]
    assert center.offered(center.end("c0", 10)) == [("vip", "a1")]


def test_priority_caller_hears_its_real_position(center):
    center.queue("q", announce_position=True)
    center.staff("q", "a1")
    center.take("c0", 0)
    center.arrive("n1", 1)
    center.arrive("n2", 2)
    [announce] = center.of(center.arrive("vip", 3, priority=5), Announce)
    assert announce.position == 1
    [announce] = center.of(center.arrive("n3", 4), Announce)
    assert announce.position == 4


def test_shared_agent_takes_the_caller_of_the_heavier_queue(center):
    center.queue("gold", weight=2)
    center.queue("silver", weight=1)
    center.staff("gold", "shared")
    center.staff("silver", "shared")
    center.take("c0", 0, "gold")
    center.arrive("silver-old", 1, "silver")
    center.arrive("gold-new", 5, "gold")
    assert center.offered(center.end("c0", 10)) == [("gold-new", "shared")]


def test_shared_agent_with_equal_weights_takes_the_oldest_then_highest_priority(center):
    center.queue("a")
    center.queue("b")
    for queue in ("a", "b"):
        center.staff(queue, "shared")
    center.take("c0", 0, "a")
    center.arrive("b-old", 1, "b")
    center.arrive("a-new", 2, "a")
    center.arrive("a-vip", 3, "a", priority=1)
    assert center.offered(center.end("c0", 10)) == [("a-vip", "shared")]
    center.answer("a-vip", "shared", 10)
    assert center.offered(center.end("a-vip", 11)) == [("b-old", "shared")]


def test_agent_skills_change_live_and_routing_follows(center):
    center.queue("spanish", skills={"spanish": 1})
    center.login("a1", 0, skills={})
    center.arrive("c1", 1, "spanish")
    decisions = center.engine.set_skill("a1", "spanish", 2, 5)
    assert center.offered(decisions) == [("c1", "a1")]
    center.answer("c1", "a1", 5)
    center.end("c1", 10)
    center.engine.remove_skill("a1", "spanish", 11)
    assert center.offered(center.arrive("c2", 12, "spanish")) == []


def test_penalty_steps_passed_while_ringing_apply_when_the_caller_is_back(center):
    center.queue("q", strategy="linear", ring_timeout=40, autopause=True,
                 penalty_steps=((0, 0), (30, 1)))
    center.staff("q", "best", penalty=0)
    center.staff("q", "backup", penalty=1)
    center.arrive("c1", 0)                      # rings "best" for 40 s, past the 30 s step
    assert center.offered(center.tick(40)) == [("c1", "backup")]
