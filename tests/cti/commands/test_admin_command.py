"""`cti admin`: tenants, agents, skills, queues, members, numbers and schedules in the
database, every change audited under the acting user, every mistake one line."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from cti.acd.decisions import Target
from cti.commands.admin import main
from cti.errors import CLIError
from cti.server.acdconfig import queue_config
from db import agents, audit, queues, tenants
from db.engine import make_engine
from db.migrate import upgrade

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


@pytest.fixture
def url(tmp_path):
    url = f"sqlite:///{tmp_path / 'admin.db'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    return url


@pytest.fixture
def admin(url, capsys):
    def run(*args: str) -> str:
        capsys.readouterr()
        assert main([*args, "--database", url]) == 0
        return capsys.readouterr().out

    run("tenant", "add", "acme", "Acme Ltd", "--actor", "setup")
    return run


def read(url, work):
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            return work(conn, tenants.get_tenant(conn, "acme"))
    finally:
        engine.dispose()


def test_an_agent_is_created_with_skills_and_can_log_in(admin, url):
    admin("agent", "add", "1001", "--password", "pw-1", "--name", "Ann", "--extension", "2001",
          "--skill", "french=3", "--skill", "billing=1", "--tenant", "acme")
    listed = json.loads(admin("agent", "list", "--tenant", "acme", "--json"))
    assert listed == [{"number": "1001", "name": "Ann", "role": "agent", "extension": "2001",
                       "wrapup_seconds": None, "skills": {"billing": 1, "french": 3}}]
    login = read(url, lambda conn, t: agents.authenticate(conn, "1001", "pw-1", "acme"))
    assert login.agent.extension == "2001"


def test_a_queue_with_options_members_and_a_number(admin, url):
    admin("agent", "add", "1001", "--password", "pw", "--tenant", "acme")
    admin("queue", "add", "spill", "--tenant", "acme")
    admin("queue", "add", "sales", "--strategy", "hunt", "--max-length", "5", "--max-wait", "120",
          "--wrapup", "10", "--service-level", "30", "--ring-timeout", "12",
          "--overflow-queue", "spill", "--join-empty", "no", "--penalty-step", "30:2",
          "--skill", "french=2", "--tenant", "acme")
    admin("queue", "set", "sales", "--empty-means", "no_available", "--autopause", "no",
          "--announce-every", "45", "--tenant", "acme")
    admin("member", "add", "sales", "1001", "--penalty", "1", "--weight", "3", "--tenant", "acme")
    admin("number", "add", "5000", "--queue", "sales", "--tenant", "acme")
    admin("queue", "set", "sales", "--strategy", "round-robin", "--tenant", "acme")
    queue = read(url, lambda conn, t: queues.get_queue(conn, t, "sales"))
    assert (queue.strategy, queue.max_length, queue.max_wait_seconds, queue.wrapup_seconds,
            queue.service_level_seconds, queue.ring_timeout_seconds, queue.overflow_queue,
            queue.join_empty) == ("round-robin", 5, 120, 10, 30, 12, "spill", False)
    assert queue.options == {"penalty_steps": [[30, 2]], "empty_means": "no_available",
                             "autopause": False, "announce_every": 45}
    assert [(m.agent_number, m.penalty, m.weight) for m in queue.members] == [("1001", 1, 3)]
    assert json.loads(admin("number", "list", "--tenant", "acme", "--json")) == [
        {"number": "5000", "queue": "sales", "ivr": None}]
    admin("member", "set", "sales", "1001", "--penalty", "4", "--tenant", "acme")
    assert json.loads(admin("member", "list", "sales", "--tenant", "acme", "--json"))[0][
        "penalty"] == 4
    admin("member", "delete", "sales", "1001", "--tenant", "acme")
    admin("number", "delete", "5000", "--tenant", "acme")
    admin("queue", "delete", "sales", "--tenant", "acme")
    assert [q["name"] for q in json.loads(admin("queue", "list", "--tenant", "acme", "--json"))] \
        == ["spill"]


def test_what_waiting_callers_hear_is_set_audited_and_cleared(admin, url):
    admin("queue", "add", "sales", "--music", "jazz.2", "--tenant", "acme")
    admin("queue", "set", "sales", "--expected-aht", "95.5", "--announce-position", "yes",
          "--announce-every", "40", "--weight", "-2", "--tenant", "acme", "--actor", "carol")
    queue = read(url, lambda conn, t: queues.get_queue(conn, t, "sales"))
    assert queue.options == {"music": "jazz.2", "expected_aht": 95.5, "announce_every": 40,
                             "weight": -2}
    assert queue.announce_position is True
    config = queue_config(queue, "acme")
    assert (config.music, config.expected_aht, config.announce_position, config.weight) == (
        "jazz.2", 95.5, True, -2)
    entry = read(url, lambda conn, t: audit.list_audit(conn, t.id, limit=1))[0]
    assert (entry.actor, entry.action, entry.entity) == ("carol", "update", "queue")
    admin("queue", "set", "sales", "--music", "", "--tenant", "acme")
    queue = read(url, lambda conn, t: queues.get_queue(conn, t, "sales"))
    assert "music" not in queue.options and queue_config(queue, "acme").music is None


def test_callers_refused_as_the_queue_is_empty_are_sent_to_the_empty_target(admin, url):
    admin("queue", "add", "sales", "--join-empty", "no", "--overflow-number", "0800",
          "--empty-target", "voicemail:700", "--tenant", "acme")
    queue = read(url, lambda conn, t: queues.get_queue(conn, t, "sales"))
    assert queue.options == {"empty_target": "voicemail:700"}
    assert queue_config(queue, "acme").overflow["empty"] == Target("voicemail", "700")
    admin("queue", "set", "sales", "--empty-target", "", "--tenant", "acme")
    queue = read(url, lambda conn, t: queues.get_queue(conn, t, "sales"))
    assert "empty_target" not in queue.options
    assert queue_config(queue, "acme").overflow["empty"] == Target("number", "0800")


def test_every_change_is_audited_under_the_actor(admin, url):
    admin("skill", "add", "french", "--tenant", "acme", "--actor", "carol")
    admin("schedule", "add", "office", "--hours", "mon-fri 08:00-18:00", "--holiday",
          "2026-12-25", "--tenant", "acme", "--actor", "carol")
    entries = read(url, lambda conn, t: audit.list_audit(conn, t.id))
    assert [(e.actor, e.action, e.entity) for e in entries[:2]] == [
        ("carol", "create", "schedule"), ("carol", "create", "skill")]
    listed = json.loads(admin("schedule", "list", "--tenant", "acme", "--json"))
    assert listed[0]["hours"][0] == "mon 08:00-18:00" and len(listed[0]["hours"]) == 5


@pytest.mark.parametrize("args, message", [
    (("agent", "add", "1001", "--password", "x"), "already exists"),
    (("agent", "delete", "9999"), "no agent '9999'"),
    (("queue", "add", "q", "--strategy", "ringall"), "invalid choice: 'ringall'"),
    (("queue", "set", "nope", "--strategy", "hunt"), "no queue 'nope'"),
    (("queue", "set", "sales", "--max-wait", "-1"), "expected a whole number"),
    (("queue", "set", "sales"), "nothing to change"),
    (("queue", "set", "sales", "--music", "on hold"), "music: expected a music class name"),
    (("queue", "set", "sales", "--music", "a;b"), "music: expected a music class name"),
    (("queue", "set", "sales", "--empty-target", "mailbox:700"), "empty_target: expected a "
                                                                  "number or KIND:VALUE"),
    (("queue", "set", "sales", "--empty-target", "voice mail"), "empty_target: expected"),
    (("queue", "set", "sales", "--empty-target", "queue:sales"), "cannot overflow to itself"),
    (("queue", "set", "sales", "--expected-aht", "0"), "expected a number of seconds > 0"),
    (("queue", "set", "sales", "--expected-aht", "nan"), "expected a number of seconds > 0"),
    (("queue", "set", "sales", "--announce-position", "maybe"), "expected yes or no"),
    (("member", "add", "sales", "1001"), "already a member"),
    (("member", "add", "nope", "1001"), "no queue 'nope'"),
    (("number", "add", "5000", "--queue", "sales"), "already routed"),
    (("number", "add", "5001", "--queue", "nope"), "no queue 'nope'"),
    (("agent", "add", "1002", "--password", "x", "--skill", "french=99"), "LEVEL 1..16"),
    (("schedule", "add", "s", "--hours", "someday 8-9"), "expected e.g."),
    (("agent", "list", "--tenant", "nowhere"), "no tenant 'nowhere'"),
])
def test_mistakes_are_one_line_and_change_nothing(admin, url, args, message):
    admin("agent", "add", "1001", "--password", "pw", "--tenant", "acme")
    admin("queue", "add", "sales", "--tenant", "acme")
    admin("member", "add", "sales", "1001", "--tenant", "acme")
    admin("number", "add", "5000", "--queue", "sales", "--tenant", "acme")
    before = read(url, lambda conn, t: audit.latest_id(conn))
    argv = [*args, "--database", url] + ([] if "--tenant" in args else ["--tenant", "acme"])
    with pytest.raises(CLIError, match=message):
        main(argv)
    assert read(url, lambda conn, t: audit.latest_id(conn)) == before


def test_the_command_line_prints_one_line_without_a_traceback(url):
    result = subprocess.run(
        [sys.executable, "-m", "cti.cli", "admin", "queue", "list", "--tenant", "nobody",
         "--database", url], cwd=ROOT, capture_output=True, text=True, timeout=60,
        env={**os.environ, "PYTHONPATH": ROOT})
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == ["cti: error: no tenant 'nobody'"]
