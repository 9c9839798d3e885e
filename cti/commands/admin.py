"""`cti admin ...`: tenants, agents, skills, queues (hunt groups), members, numbers, schedules.

    cti admin tenant   list | add CODE NAME [--country-code CC] [--time-zone TZ] | delete CODE
    cti admin agent    list | add NUMBER --password PW [--name N] [--extension EXT]
                            [--skill NAME=LEVEL ...] [--wrapup SECONDS] [--role ROLE]
                       | set NUMBER [--password PW] [--name N] [--extension EXT]
                            [--skill NAME=LEVEL ...] [--wrapup SECONDS] | delete NUMBER
    cti admin skill    list | add NAME | delete NAME
    cti admin queue    list | add NAME [--strategy S] [QUEUE OPTIONS] | set NAME [--strategy S]
                            [QUEUE OPTIONS] | delete NAME
    cti admin member   list QUEUE | add QUEUE AGENT [--penalty N] [--weight N] [--position N]
                       | set QUEUE AGENT [...] | delete QUEUE AGENT
    cti admin number   list | add NUMBER (--queue Q | --ivr MENU) [--description D]
                       | delete NUMBER
    cti admin schedule list | add NAME --hours "mon-fri 08:00-18:00" [--hours ...]
                            [--holiday YYYY-MM-DD ...] [--time-zone TZ] | delete NAME

QUEUE OPTIONS (`cti admin queue set --help` says what each takes): --max-length, --max-wait,
--wrapup, --service-level, --ring-timeout, --priority, --weight, --overflow-queue,
--overflow-number, --closed-number, --join-empty, --leave-empty, --empty-means, --empty-target,
--announce-position, --announce-every, --expected-aht, --music, --autopause, --penalty-step,
--skill, --schedule.

Every command takes --database URL (default $CTI_DATABASE_URL, else sqlite:///cti.db),
--tenant CODE (default "default"), --actor NAME (default the OS user: the audit log's "who")
and, for lists, --json. Every change is audited; a running server notices it in the audit log
within its poll interval and applies it to its ACD without a restart (docs/api.md,
"Administration").
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import json
import math
import sys
from collections.abc import Callable, Iterator
from dataclasses import asdict, is_dataclass
from datetime import date, time
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from cti.acd.config import STRATEGIES, AcdError
from cti.commands.args import ArgumentParser
from cti.errors import CLIError
from cti.numbers import DialPlan
from cti.server.acdconfig import checked_options, queue_config
from db import agents, queues, tenants
from db.engine import database_url, make_engine
from db.errors import NotFound
from db.models import ROLES
from db.records import Tenant

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    actor = args.actor or _os_user()
    with _connection(database_url(args.database)) as conn:
        tenant = None if args.object == "tenant" else _tenant(conn, args.tenant)
        result = args.run(conn, tenant, args, actor)
    if isinstance(result, list):
        _print_list(result, args.json)
    elif result:
        print(result)
    return 0


# -- parsing -------------------------------------------------------------------------------------

def _parser() -> ArgumentParser:
    common = ArgumentParser(add_help=False)
    common.add_argument("--database", default=None,
                        help="SQLAlchemy URL (default $CTI_DATABASE_URL or sqlite:///cti.db)")
    common.add_argument("--tenant", default="default", help="tenant code (default 'default')")
    common.add_argument("--actor", default=None, help="who to write in the audit log")
    common.add_argument("--json", action="store_true", help="lists as JSON")
    parser = ArgumentParser(prog="cti admin", description="administration of the call center")
    objects = parser.add_subparsers(dest="object", required=True, parser_class=ArgumentParser)

    def actions(name: str, help: str) -> Any:
        sub = objects.add_parser(name, help=help, prog=f"cti admin {name}")
        return sub.add_subparsers(dest="action", required=True, parser_class=ArgumentParser)

    def leaf(group: Any, name: str, run: Callable[..., Any]) -> ArgumentParser:
        command = group.add_parser(name, parents=[common], prog=f"{group._prog_prefix} {name}")
        command.set_defaults(run=run)
        return command

    tenant = actions("tenant", "client companies")
    leaf(tenant, "list", _tenant_list)
    add = leaf(tenant, "add", _tenant_add)
    add.add_argument("code")
    add.add_argument("name")
    add.add_argument("--country-code", default="49")
    add.add_argument("--time-zone", default="UTC")
    leaf(tenant, "delete", _tenant_delete).add_argument("code")

    agent = actions("agent", "agents (users who take calls)")
    leaf(agent, "list", _agent_list)
    for name, run in (("add", _agent_add), ("set", _agent_set)):
        command = leaf(agent, name, run)
        command.add_argument("number", help="agent ID (also the login)")
        command.add_argument("--password", required=name == "add")
        command.add_argument("--name")
        command.add_argument("--extension", help="default extension")
        command.add_argument("--skill", action="append", type=_skill, metavar="NAME=LEVEL",
                             help="a skill and its level 1..16 (repeat; on set: replaces all)")
        command.add_argument("--wrapup", type=_non_negative, metavar="SECONDS")
        if name == "add":
            command.add_argument("--role", default="agent", choices=ROLES)
    leaf(agent, "delete", _agent_delete).add_argument("number")

    skill = actions("skill", "skills agents have and queues need")
    leaf(skill, "list", _skill_list)
    leaf(skill, "add", _skill_add).add_argument("name")
    leaf(skill, "delete", _skill_delete).add_argument("name")

    queue = actions("queue", "queues and hunt groups")
    leaf(queue, "list", _queue_list)
    for name, run in (("add", _queue_add), ("set", _queue_set)):
        _queue_options(leaf(queue, name, run), name == "add")
    leaf(queue, "delete", _queue_delete).add_argument("name")

    member = actions("member", "explicit queue members")
    leaf(member, "list", _member_list).add_argument("queue")
    for name, run in (("add", _member_add), ("set", _member_set)):
        command = leaf(member, name, run)
        command.add_argument("queue")
        command.add_argument("agent", help="agent ID")
        command.add_argument("--penalty", type=_non_negative, metavar="N",
                             help="level: lower penalties are offered calls first")
        command.add_argument("--weight", type=_positive, metavar="N")
        command.add_argument("--position", type=_non_negative, metavar="N",
                             help="order in linear hunting")
    command = leaf(member, "delete", _member_delete)
    command.add_argument("queue")
    command.add_argument("agent")

    number = actions("number", "dialled numbers (DNIS) and where they lead")
    leaf(number, "list", _number_list)
    command = leaf(number, "add", _number_add)
    command.add_argument("number")
    target = command.add_mutually_exclusive_group(required=True)
    target.add_argument("--queue")
    target.add_argument("--ivr", metavar="MENU")
    command.add_argument("--description")
    leaf(number, "delete", _number_delete).add_argument("number")

    schedule = actions("schedule", "opening hours")
    leaf(schedule, "list", _schedule_list)
    command = leaf(schedule, "add", _schedule_add)
    command.add_argument("name")
    command.add_argument("--hours", action="append", type=_hours, required=True,
                         metavar="'mon-fri 08:00-18:00'")
    command.add_argument("--holiday", action="append", type=date.fromisoformat, default=[],
                         metavar="YYYY-MM-DD")
    command.add_argument("--time-zone")
    leaf(schedule, "delete", _schedule_delete).add_argument("name")
    return parser


def _queue_options(command: ArgumentParser, adding: bool) -> None:
    command.add_argument("name")
    command.add_argument("--strategy", choices=STRATEGIES,
                         default="longest-idle" if adding else None)
    command.add_argument("--max-length", type=_non_negative, metavar="CALLERS")
    command.add_argument("--max-wait", type=_non_negative, metavar="SECONDS")
    command.add_argument("--wrapup", type=_non_negative, metavar="SECONDS")
    command.add_argument("--service-level", type=_non_negative, metavar="SECONDS")
    command.add_argument("--ring-timeout", type=_positive, metavar="SECONDS")
    command.add_argument("--priority", type=int)
    command.add_argument("--weight", type=int, help="precedence among queues sharing agents")
    command.add_argument("--overflow-queue", metavar="QUEUE",
                         help="where full / timed-out callers go ('' clears)")
    command.add_argument("--overflow-number", metavar="NUMBER",
                         help="or a number to send them to ('' clears)")
    command.add_argument("--closed-number", metavar="NUMBER")
    command.add_argument("--join-empty", type=_yes_no, metavar="yes|no")
    command.add_argument("--leave-empty", type=_yes_no, metavar="yes|no")
    command.add_argument("--empty-means", choices=("no_logged_in", "no_available"),
                         help="what an empty queue is, for --join-empty / --leave-empty")
    command.add_argument("--empty-target", metavar="TARGET",
                         help="where callers refused as the queue is empty go: a number or "
                              "KIND:VALUE, e.g. voicemail:700 (default the overflow queue or "
                              "number, else they are cleared; '' clears)")
    command.add_argument("--announce-position", type=_yes_no, metavar="yes|no",
                         help="tell waiting callers their place and expected wait")
    command.add_argument("--announce-every", type=_positive, metavar="SECONDS",
                         help="periodic position / wait announcements")
    command.add_argument("--expected-aht", type=_positive_seconds, metavar="SECONDS",
                         help="handling time assumed for expected-wait announcements until "
                              "calls have been measured (default 180)")
    command.add_argument("--music", metavar="CLASS",
                         help="music class waiting callers hear ('' clears)")
    command.add_argument("--autopause", type=_yes_no, metavar="yes|no",
                         help="pause an agent who lets a call ring out (default yes)")
    command.add_argument("--penalty-step", action="append", type=_step, metavar="SECONDS:PENALTY",
                         help="after SECONDS waiting accept members up to PENALTY (repeat)")
    command.add_argument("--skill", action="append", type=_skill, metavar="NAME=LEVEL",
                         help="a skill callers need, minimum level (repeat; replaces all)")
    command.add_argument("--schedule", help="opening hours ('' clears)")


def _skill(text: str) -> tuple[str, int]:
    name, sep, level = text.partition("=")
    if not name or not sep or not level.isdigit() or not 1 <= int(level) <= 16:
        raise argparse.ArgumentTypeError(f"expected NAME=LEVEL with LEVEL 1..16, got {text!r}")
    return name, int(level)


def _step(text: str) -> list[int]:
    after, sep, penalty = text.partition(":")
    if not sep or not after.isdigit() or not penalty.isdigit():
        raise argparse.ArgumentTypeError(f"expected SECONDS:PENALTY, got {text!r}")
    return [int(after), int(penalty)]


def _non_negative(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got {text!r}")
    return int(text)


def _positive(text: str) -> int:
    value = _non_negative(text)
    if value == 0:
        raise argparse.ArgumentTypeError("must be > 0")
    return value


def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"expected a number of seconds > 0, got {text!r}")
    return value


def _yes_no(text: str) -> bool:
    if text.lower() not in ("yes", "no", "true", "false"):
        raise argparse.ArgumentTypeError(f"expected yes or no, got {text!r}")
    return text.lower() in ("yes", "true")


def _hours(text: str) -> list[tuple[int, time, time]]:
    """'mon-fri 08:00-18:00' or 'sat 09:00-12:00' as (weekday, opens, closes) rows."""
    try:
        days, span = text.split()
        first, _, last = days.lower().partition("-")
        start, end = (time.fromisoformat(t) for t in span.split("-"))
        lo, hi = DAYS.index(first), DAYS.index(last or first)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected e.g. 'mon-fri 08:00-18:00', got {text!r}") from None
    if start >= end or lo > hi:
        raise argparse.ArgumentTypeError(f"empty opening hours {text!r}")
    return [(day, start, end) for day in range(lo, hi + 1)]


# -- running -------------------------------------------------------------------------------------

@contextlib.contextmanager
def _connection(url: str) -> Iterator[Connection]:
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            yield conn
    except NotFound as exc:
        raise CLIError(str(exc)) from None
    except (ValueError, AcdError) as exc:
        raise CLIError(str(exc)) from None
    except IntegrityError as exc:
        raise CLIError(f"already exists or still in use: {_first_line(exc)}") from None
    except SQLAlchemyError as exc:
        raise CLIError(f"database: {_first_line(exc)}") from None
    finally:
        engine.dispose()


def _first_line(exc: SQLAlchemyError) -> str:
    return str(getattr(exc, "orig", None) or exc).splitlines()[0]


def _tenant(conn: Connection, code: str) -> Tenant:
    return tenants.get_tenant(conn, code)


def _os_user() -> str:
    try:
        return getpass.getuser()
    except Exception:
        return "admin"


def _print_list(rows: list[dict[str, Any]], as_json: bool) -> None:
    if as_json:
        json.dump(rows, sys.stdout, default=str)
        sys.stdout.write("\n")
        return
    for row in rows:
        print("  ".join(f"{k}={_plain(v)}" for k, v in row.items() if v not in (None, "", [], {})))


def _plain(value: Any) -> str:
    if isinstance(value, dict):
        return ",".join(f"{k}:{v}" for k, v in value.items())
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return str(value)


# -- tenants -------------------------------------------------------------------------------------

def _tenant_list(conn: Connection, _: None, args: Any, actor: str) -> list[dict[str, Any]]:
    return [{"code": t.code, "name": t.name, "country_code": t.dial_plan.country_code,
             "time_zone": t.time_zone} for t in tenants.list_tenants(conn)]


def _tenant_add(conn: Connection, _: None, args: Any, actor: str) -> str:
    if not args.country_code.isdigit():
        raise CLIError(f"--country-code: expected digits, got {args.country_code!r}")
    with contextlib.suppress(NotFound):
        tenants.get_tenant(conn, args.code)
        raise CLIError(f"tenant {args.code!r} already exists")
    tenants.create_tenant(conn, args.code, args.name, actor=actor, time_zone=args.time_zone,
                          dial_plan=DialPlan(country_code=args.country_code))
    return f"tenant {args.code} added"


def _tenant_delete(conn: Connection, _: None, args: Any, actor: str) -> str:
    tenants.delete_tenant(conn, args.code, actor=actor)
    return f"tenant {args.code} deleted"


# -- agents and skills ---------------------------------------------------------------------------

def _agent_list(conn: Connection, tenant: Tenant, args: Any, actor: str) -> list[dict[str, Any]]:
    return [{"number": a.number, "name": a.name, "role": a.role, "extension": a.extension,
             "wrapup_seconds": a.wrapup_seconds, "skills": a.skill_levels()}
            for a in agents.list_agents(conn, tenant)]


def _agent_add(conn: Connection, tenant: Tenant, args: Any, actor: str) -> str:
    if _find_agent(conn, tenant, args.number) is not None:
        raise CLIError(f"agent {args.number!r} already exists in tenant {tenant.code!r}")
    agents.create_agent(conn, tenant, args.number, args.password, name=args.name,
                        role=args.role, extension=args.extension, skills=dict(args.skill or ()),
                        wrapup_seconds=args.wrapup, actor=actor)
    return f"agent {args.number} added"


def _agent_set(conn: Connection, tenant: Tenant, args: Any, actor: str) -> str:
    agent = agents.get_agent_by_number(conn, tenant, args.number)
    changes = {k: v for k, v in (("name", args.name), ("extension", args.extension),
                                 ("wrapup_seconds", args.wrapup)) if v is not None}
    if changes.get("extension") == "":
        changes["extension"] = None
    if not changes and args.password is None and args.skill is None:
        raise CLIError("nothing to change: give --name, --extension, --password, --skill or --wrapup")
    if changes or args.password is not None:
        agents.update_agent(conn, tenant, args.number, password=args.password, actor=actor,
                            **changes)
    if args.skill is not None:
        agents.set_agent_skills(conn, tenant, agent.id, dict(args.skill), actor=actor)
    return f"agent {args.number} changed"


def _agent_delete(conn: Connection, tenant: Tenant, args: Any, actor: str) -> str:
    agents.delete_agent(conn, tenant, args.number, actor=actor)
    return f"agent {args.number} deleted"


def _find_agent(conn: Connection, tenant: Tenant, number: str) -> Any:
    try:
        return agents.get_agent_by_number(conn, tenant, number)
    except NotFound:
        return None


def _skill_list(conn: Connection, tenant: Tenant, args: Any, actor: str) -> list[dict[str, Any]]:
    return [{"skill": name} for name in agents.list_skills(conn, tenant)]


def _skill_add(conn: Connection, tenant: Tenant, args: Any, actor: str) -> str:
    agents.create_skill(conn, tenant, args.name, actor=actor)
    return f"skill {args.name} added"


def _skill_delete(conn: Connection, tenant: Tenant, args: Any, actor: str) -> str:
    agents.delete_skill(conn, tenant, args.name, actor=actor)
    return f"skill {args.name} deleted"


# -- queues and members --------------------------------------------------------------------------

def _queue_dict(queue: Any) -> dict[str, Any]:
    row = asdict(queue) if is_dataclass(queue) else dict(queue)
    row.pop("id", None)
    row.pop("tenant_id", None)
    row["members"] = [f"{m['agent_number']}:{m['penalty']}" for m in row.get("members", ())]
    row["skills"] = {s["skill"]: s["min_level"] for s in row.get("skills", ())}
    return row


def _queue_list(conn: Connection, tenant: Tenant, args: Any, actor: str) -> list[dict[str, Any]]:
    return [_queue_dict(q) for q in queues.list_queues(conn, tenant)]


def _queue_settings(args: Any) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """(named columns, options to merge, references) from the queue options given."""
    columns = {k: v for k, v in (
        ("max_length", args.max_length), ("max_wait_seconds", args.max_wait),
        ("wrapup_seconds", args.wrapup), ("service_level_seconds", args.service_level),
        ("ring_timeout_seconds", args.ring_timeout), ("priority", args.priority),
        ("join_empty", args.join_empty), ("leave_when_empty", args.leave_empty),
        ("announce_position", args.announce_position),
    ) if v is not None}
    if args.overflow_number is not None:
        columns["overflow_target"] = args.overflow_number or None
    if args.closed_number is not None:
        columns["closed_target"] = args.closed_number or None
    options = checked_options({k: v for k, v in (
        ("penalty_steps", args.penalty_step), ("weight", args.weight),
        ("empty_means", args.empty_means), ("announce_every", args.announce_every),
        ("expected_aht", args.expected_aht), ("autopause", args.autopause),
    ) if v is not None})
    for key, value in (("music", args.music), ("empty_target", args.empty_target)):
        if value is not None:
            options.update(checked_options({key: value or None}))
    references = {k: (v or None) for k, v in (("overflow_queue", args.overflow_queue),
                                                ("schedule", args.schedule)) if v is not None}
    return columns, options, references


def _queue_add(conn: Connection, tenant: Tenant, args: Any, actor: str) -> str:
    columns, options, references = _queue_settings(args)
    with contextlib.suppress(NotFound):
        queues.get_queue(conn, tenant, args.name)
        raise CLIError(f"queue {args.name!r} already exists in tenant {tenant.code!r}")
    queue = queues.create_queue(conn, tenant, args.name, args.strategy,
                                options={k: v for k, v in options.items() if v is not None},
                                skills=dict(args.skill or ()), actor=actor,
                                **{k: v for k, v in references.items() if v}, **columns)
    queue_config(queue, tenant.code)
    return f"queue {args.name} added"


def _queue_set(conn: Connection, tenant: Tenant, args: Any, actor: str) -> str:
    columns, options, references = _queue_settings(args)
    if not (columns or options or references or args.strategy or args.skill is not None):
        raise CLIError("nothing to change: give --strategy or a queue option")
    queue = queues.update_queue(conn, tenant, args.name, strategy=args.strategy,
                                options=options, actor=actor, **references, **columns)
    if args.skill is not None:
        queues.set_queue_skills(conn, tenant, args.name, dict(args.skill), actor=actor)
        queue = queues.get_queue(conn, tenant, args.name)
    queue_config(queue, tenant.code)
    return f"queue {args.name} changed"


def _queue_delete(conn: Connection, tenant: Tenant, args: Any, actor: str) -> str:
    queues.delete_queue(conn, tenant, args.name, actor=actor)
    return f"queue {args.name} deleted"


def _member_list(conn: Connection, tenant: Tenant, args: Any, actor: str) -> list[dict[str, Any]]:
    return [{"agent": m.agent_number, "penalty": m.penalty, "weight": m.weight,
             "position": m.position} for m in queues.get_queue(conn, tenant, args.queue).members]


def _member_add(conn: Connection, tenant: Tenant, args: Any, actor: str) -> str:
    queue = queues.get_queue(conn, tenant, args.queue)
    agent = agents.get_agent_by_number(conn, tenant, args.agent)
    if any(m.agent_id == agent.id for m in queue.members):
        raise CLIError(f"agent {args.agent} is already a member of {args.queue}")
    queues.add_queue_member(conn, tenant, args.queue, agent.id, penalty=args.penalty or 0,
                            weight=args.weight or 1, position=args.position or 0, actor=actor)
    return f"agent {args.agent} added to {args.queue}"


def _member_set(conn: Connection, tenant: Tenant, args: Any, actor: str) -> str:
    agent = agents.get_agent_by_number(conn, tenant, args.agent)
    if args.penalty is None and args.weight is None and args.position is None:
        raise CLIError("nothing to change: give --penalty, --weight or --position")
    queues.update_queue_member(conn, tenant, args.queue, agent.id, penalty=args.penalty,
                               weight=args.weight, position=args.position, actor=actor)
    return f"member {args.agent} of {args.queue} changed"


def _member_delete(conn: Connection, tenant: Tenant, args: Any, actor: str) -> str:
    queue = queues.get_queue(conn, tenant, args.queue)
    agent = agents.get_agent_by_number(conn, tenant, args.agent)
    if not any(m.agent_id == agent.id for m in queue.members):
        raise CLIError(f"agent {args.agent} is not a member of {args.queue}")
    queues.remove_queue_member(conn, tenant, args.queue, agent.id, actor=actor)
    return f"agent {args.agent} removed from {args.queue}"


# -- numbers and schedules -----------------------------------------------------------------------

def _number_list(conn: Connection, tenant: Tenant, args: Any, actor: str) -> list[dict[str, Any]]:
    return [{"number": r.number, "queue": r.queue, "ivr": r.ivr}
            for r in queues.list_numbers(conn, tenant)]


def _number_add(conn: Connection, tenant: Tenant, args: Any, actor: str) -> str:
    stored = tenant.dial_plan.canonical(args.number)
    if stored is not None and queues.route_number(conn, stored, tenant.dial_plan) is not None:
        raise CLIError(f"number {args.number} is already routed")
    stored = queues.create_number(conn, tenant, args.number, queue=args.queue, ivr=args.ivr,
                                  description=args.description, actor=actor)
    return f"number {stored} added"


def _number_delete(conn: Connection, tenant: Tenant, args: Any, actor: str) -> str:
    queues.delete_number(conn, tenant, args.number, actor=actor)
    return f"number {args.number} deleted"


def _schedule_list(conn: Connection, tenant: Tenant, args: Any, actor: str) -> list[dict[str, Any]]:
    return [{"schedule": s.name, "time_zone": s.time_zone,
             "hours": [f"{DAYS[h.weekday]} {h.opens:%H:%M}-{h.closes:%H:%M}" for h in s.hours],
             "holidays": [d.isoformat() for d in s.holidays]}
            for s in queues.list_schedules(conn, tenant)]


def _schedule_add(conn: Connection, tenant: Tenant, args: Any, actor: str) -> str:
    hours = [row for group in args.hours for row in group]
    try:
        queues.create_schedule(conn, tenant, args.name, hours, args.holiday,
                               time_zone=args.time_zone, actor=actor)
    except LookupError as exc:  # zoneinfo's unknown time zone
        raise CLIError(f"unknown time zone {args.time_zone!r}") from exc
    return f"schedule {args.name} added"


def _schedule_delete(conn: Connection, tenant: Tenant, args: Any, actor: str) -> str:
    queues.delete_schedule(conn, tenant, args.name, actor=actor)
    return f"schedule {args.name} deleted"
