"""The administration routes (/api/v1/admin/...): administrators change agents, skills,
queues, members and numbers; each change is stored (audited) and applied to the running ACD
at once (cti/server/admin.py)."""

from __future__ import annotations

from typing import Any

from cti.acd.config import STRATEGIES
from cti.api import schemas as s
from cti.api.auth import ADMINISTRATOR
from cti.api.routing import ApiRequest, Route

SKILLS = {"type": "object", "additionalProperties": s.INT,
          "description": "skill name -> level 1..16 (agents) or minimum level (queues)"}
STRATEGY = {"type": "string", "enum": list(STRATEGIES)}
SECONDS = {"type": "integer", "description": "seconds"}

ADMIN_AGENT = s.obj(("number", "role", "skills"), number=s.STR, name=s.nullable(s.STR),
                    role=s.ROLE, extension=s.nullable(s.STR), wrapup=s.nullable(SECONDS),
                    skills=SKILLS)
_AGENT_FIELDS = dict(name=s.nullable(s.STR), extension=s.nullable(s.STR),
                     wrapup=s.nullable(SECONDS), skills=SKILLS, password=s.NONEMPTY)
AGENT_IN = s.obj(("number", "password"), False, number=s.NONEMPTY, role=s.ROLE, **_AGENT_FIELDS)
AGENT_PATCH = s.obj((), False, **_AGENT_FIELDS)
SKILL = s.obj(("skill",), False, skill=s.NONEMPTY)
MEMBER = s.obj(("agent",), agent=s.STR, penalty=s.INT, weight=s.INT, position=s.INT)
_MEMBER_FIELDS = dict(penalty={**s.INT, "description": "level: lower is offered first"},
                      weight={**s.INT, "description": "share in weighted-random"},
                      position={**s.INT, "description": "order in linear hunting"})
MEMBER_IN = s.obj(("agent",), False, agent=s.NONEMPTY, **_MEMBER_FIELDS)
MEMBER_PATCH = s.obj((), False, **_MEMBER_FIELDS)
_QUEUE_FIELDS = dict(
    strategy=STRATEGY, max_length=s.nullable(s.INT), max_wait=s.nullable(SECONDS),
    wrapup=SECONDS, service_level=SECONDS, ring_timeout=SECONDS, priority=s.INT,
    overflow_queue=s.nullable(s.STR), overflow_number=s.nullable(s.STR),
    closed_number=s.nullable(s.STR), schedule=s.nullable(s.STR), join_empty=s.BOOL,
    leave_when_empty=s.BOOL, announce_position=s.BOOL, skills=SKILLS,
    penalty_steps={"type": "array", "items": s.array(s.INT),
                   "description": "[[after_seconds, max_penalty], ...]"},
    weight={**s.INT, "description": "precedence among queues sharing agents"},
    empty_means={"type": "string", "enum": ["no_logged_in", "no_available"]},
    announce_every=s.nullable(s.NUM), expected_aht=s.NUM, autopause=s.BOOL,
    music={**s.nullable(s.STR),
           "description": "music class waiting callers hear (voice unit `music:CLASS`)"},
    empty_target={**s.nullable(s.STR),
                  "description": "where callers refused as the queue is empty go: a number or "
                                 "KIND:VALUE (voicemail:700); default the overflow queue or "
                                 "number, else they are cleared"},
)
QUEUE_IN = s.obj(("name",), False, name=s.NONEMPTY, **_QUEUE_FIELDS)
QUEUE_PATCH = s.obj((), False, **_QUEUE_FIELDS)
ADMIN_QUEUE = s.obj(("name", "strategy", "members", "skills"), name=s.STR, strategy=STRATEGY,
                    members=s.array(MEMBER), skills=SKILLS, options=s.ANY_OBJECT)
NUMBER = s.obj(("number",), number=s.STR, queue=s.nullable(s.STR), ivr=s.nullable(s.STR))
NUMBER_IN = s.obj(("number",), False, number=s.NONEMPTY, queue=s.nullable(s.STR),
                  ivr=s.nullable(s.STR), description=s.nullable(s.STR))


def _call(method: str, *params: str, body: bool = False) -> Any:
    """A handler calling services.admin.METHOD(session, *path params[, body])."""

    def handler(services: Any, req: ApiRequest) -> Any:
        args = [req.params[p] for p in params] + ([req.body] if body else [])
        return getattr(services.admin, method)(req.session, *args)

    handler.__name__ = "admin_" + method
    return handler


def _route(method: str, path: str, call: Any, summary: str, **extra: Any) -> Route:
    return Route(method, "/admin" + path, call, ADMINISTRATOR, summary, tag="admin", **extra)


ADMIN_ROUTES = [
    _route("GET", "/agents", _call("list_agents"), "agents with extension and skills",
           response=s.array(ADMIN_AGENT)),
    _route("POST", "/agents", _call("create_agent", body=True), "create an agent",
           request=AGENT_IN, response=ADMIN_AGENT, status=201),
    _route("PATCH", "/agents/{number}", _call("update_agent", "number", body=True),
           "change an agent (skills replace all)", request=AGENT_PATCH, response=ADMIN_AGENT),
    _route("DELETE", "/agents/{number}", _call("delete_agent", "number"),
           "delete an agent (logged off the ACD)", status=204),
    _route("GET", "/skills", _call("list_skills"), "skills", response=s.array(SKILL)),
    _route("POST", "/skills", _call("create_skill", body=True), "create a skill",
           request=SKILL, response=SKILL, status=201),
    _route("DELETE", "/skills/{skill}", _call("delete_skill", "skill"),
           "delete a skill everywhere", status=204),
    _route("GET", "/queues", _call("list_queues"), "queues with every setting",
           response=s.array(ADMIN_QUEUE)),
    _route("POST", "/queues", _call("create_queue", body=True), "create a queue or hunt group",
           request=QUEUE_IN, response=ADMIN_QUEUE, status=201),
    _route("PATCH", "/queues/{name}", _call("update_queue", "name", body=True),
           "change a queue's strategy or settings (waiting callers keep their place)",
           request=QUEUE_PATCH, response=ADMIN_QUEUE),
    _route("DELETE", "/queues/{name}", _call("delete_queue", "name"),
           "delete a queue (its waiting callers leave)", status=204),
    _route("GET", "/queues/{name}/members", _call("list_members", "name"),
           "explicit members", response=s.array(MEMBER)),
    _route("POST", "/queues/{name}/members", _call("add_member", "name", body=True),
           "add a member", request=MEMBER_IN, response=MEMBER, status=201),
    _route("PATCH", "/queues/{name}/members/{agent}",
           _call("update_member", "name", "agent", body=True),
           "change a member's penalty, weight or position", request=MEMBER_PATCH,
           response=MEMBER),
    _route("DELETE", "/queues/{name}/members/{agent}", _call("remove_member", "name", "agent"),
           "remove a member", status=204),
    _route("GET", "/numbers", _call("list_numbers"), "dialled numbers and where they lead",
           response=s.array(NUMBER)),
    _route("POST", "/numbers", _call("create_number", body=True),
           "route a number (DNIS / pilot) to a queue or an IVR menu", request=NUMBER_IN,
           response=NUMBER, status=201),
    _route("DELETE", "/numbers/{number}", _call("delete_number", "number"),
           "stop routing a number", status=204),
]
