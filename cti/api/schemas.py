"""JSON schemas of request and response bodies, and the small validator the API needs.

The schemas are plain JSON Schema dicts so they go into the OpenAPI document unchanged. The
validator covers the subset used here (type, properties, required, enum, items,
additionalProperties, nullable) and names the offending field in one line, which is what a
client needs from a 400.
"""

from __future__ import annotations

from typing import Any

from cti.api.errors import BadRequest

_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
}


def validate(schema: dict[str, Any], value: Any, where: str = "body") -> None:
    """Raise BadRequest naming the first field that does not match `schema`."""
    if value is None:
        if schema.get("nullable"):
            return
        if "type" in schema:
            raise BadRequest(f"{where} must be {_article(schema['type'])}, not null")
        return
    expected = schema.get("type")
    if expected is not None:
        kinds = _TYPES[expected]
        if not isinstance(value, kinds) or (expected in ("integer", "number") and isinstance(value, bool)):
            raise BadRequest(f"{where} must be {_article(expected)}")
    if "enum" in schema and value not in schema["enum"]:
        choices = ", ".join(str(choice) for choice in schema["enum"])
        raise BadRequest(f"{where} must be one of: {choices}")
    if isinstance(value, str) and len(value) < schema.get("minLength", 0):
        raise BadRequest(f"{where} must not be empty")
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        for name in schema.get("required", ()):
            if name not in value:
                raise BadRequest(f"missing field {name!r}")
        extra = schema.get("additionalProperties", True)
        for name, item in value.items():
            child = f"field {name!r}"
            if name in properties:
                validate(properties[name], item, child)
            elif isinstance(extra, dict):
                validate(extra, item, child)
            elif extra is False:
                raise BadRequest(f"unknown field {name!r}")
    if isinstance(value, list) and "items" in schema:
        for index, item in enumerate(value):
            validate(schema["items"], item, f"{where}[{index}]")


def _article(kind: str) -> str:
    return ("an " if kind[0] in "aeiou" else "a ") + kind


def obj(required: tuple[str, ...] = (), extra: bool | dict[str, Any] = True,
        **properties: dict[str, Any]) -> dict[str, Any]:
    """An object schema; keyword names are the properties."""
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = list(required)
    if extra is not True:
        schema["additionalProperties"] = extra
    return schema


def array(items: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": items}


def nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {**schema, "nullable": True}


STR = {"type": "string"}
NONEMPTY = {"type": "string", "minLength": 1}
INT = {"type": "integer"}
NUM = {"type": "number"}
BOOL = {"type": "boolean"}
ANY_OBJECT = {"type": "object"}
ID = {"description": "an object id (integer or string, as the database gives it)"}
TIME = {"type": "string", "format": "date-time"}

ROLE = {"type": "string", "enum": ["agent", "supervisor", "administrator"]}
CONNECTION_STATE = {
    "type": "string",
    "enum": ["null", "initiated", "alerting", "connected", "hold", "queued", "fail"],
}

ERROR = obj(("error", "code"), error=STR, code=STR)
EMPTY = obj()

LOGIN = obj(
    ("user", "password"),
    user=NONEMPTY, password=STR, extension=nullable(STR), tenant=nullable(STR), acd=BOOL,
)
SESSION = obj(
    ("token", "role", "tenant", "user", "agent_id", "extension", "expires"),
    token=STR, role=ROLE, tenant=STR, user=STR, agent_id=nullable(STR),
    extension=nullable(STR), expires=TIME,
)

NOTE = obj(("time", "author", "text"), time=TIME, author=STR, text=STR)
PARTY = obj(("device", "state"), device=nullable(STR), state=nullable(CONNECTION_STATE))
CALL = obj(
    ("call_id", "state", "parties", "calling", "called", "data"),
    call_id=STR, state=nullable(CONNECTION_STATE), parties=array(PARTY),
    calling=nullable(STR), called=nullable(STR), ani=nullable(STR), dnis=nullable(STR),
    data=ANY_OBJECT, notes=array(NOTE), customer_id=nullable(ID), queue=nullable(STR),
    started=nullable(TIME), answered=nullable(TIME), aliases=array(STR),
)
CALL_ID = obj(("call_id",), call_id=STR)
MAKE_CALL = obj(("to",), to=NONEMPTY, **{"from": nullable(STR)})
DEVICE_OPT = {"device": nullable(STR)}
ACTION_EMPTY = obj(**DEVICE_OPT)
ACTION_TO = obj(("to",), to=NONEMPTY, **DEVICE_OPT)
ACTION_CONSULT = obj(("consult_call_id",), consult_call_id=NONEMPTY, **DEVICE_OPT)
ACTION_DTMF = obj(("digits",), digits=NONEMPTY, **DEVICE_OPT)
ACTION_MONITOR = obj(
    ("mode",), mode={"type": "string", "enum": ["listen", "whisper", "barge"]},
    **{"from": nullable(STR)}, **DEVICE_OPT,
)
CALL_DATA = {"type": "object", "description": "keys to merge into the call's attached data"}
ADD_NOTE = obj(("text",), text=NONEMPTY)
DISPOSITION = obj(
    ("code",), code=NONEMPTY, notes=nullable(STR),
    customer_id=nullable({**INT, "description": "the customer the interaction is about "
                          "(default: the screen-pop's, else the one found by the far "
                          "party's number)"}),
)

AGENT_STATUS = {"type": "string", "enum": ["logged_out", "ready", "not_ready", "wrap_up"]}
AGENT = obj(
    ("agent_id", "name", "extension", "status", "state", "reason", "since"),
    agent_id=STR, name=nullable(STR), extension=nullable(STR), status=AGENT_STATUS,
    state=STR, reason=nullable(STR), since=nullable(TIME), queues=array(STR),
    skills={"type": "object", "additionalProperties": INT},
    calls_answered=INT, talk_seconds=NUM,
)
SET_AGENT_STATE = obj(
    ("state",),
    state={"type": "string", "enum": ["ready", "not_ready", "wrap_up_done", "logged_out"]},
    reason=nullable(STR),
)
CODE_LABEL = obj(("code", "label"), code=STR, label=STR)
DIRECTORY_ENTRY = obj(("name", "number", "kind"), name=STR, number=STR, kind=STR)

CALLER = obj(
    ("call_id", "calling", "waited", "position", "priority"),
    call_id=STR, calling=nullable(STR), waited=NUM, position=INT, priority=INT,
)
QUEUE_STATS = obj(
    offered=INT, answered=INT, abandoned=INT, asa=NUM, aht=NUM, service_level=nullable(NUM),
    service_level_2=nullable(NUM), occupancy=nullable(NUM), sl_seconds=NUM,
)
QUEUE = obj(
    ("queue", "name", "strategy", "waiting", "longest_wait"),
    queue=STR, name=STR, strategy=STR, waiting=INT, longest_wait=NUM, agents_ready=INT,
    agents_busy=INT, agents_logged_on=INT, callers=array(CALLER), stats=QUEUE_STATS,
)

CUSTOMER = obj(
    ("id", "name", "phones"),
    id=ID, name=STR, company=nullable(STR), phones=array(STR), emails=array(STR),
    address=nullable(STR), vip=BOOL, fields=ANY_OBJECT, notes=nullable(STR),
)
CUSTOMER_IN = obj(
    ("name",),
    name=NONEMPTY, company=nullable(STR), phones=array(STR), emails=array(STR),
    address=nullable(STR), vip=BOOL, fields=ANY_OBJECT, notes=nullable(STR),
)
INTERACTION = obj(
    ("id", "customer_id", "time"),
    id=ID, customer_id=nullable(ID), call_id=nullable(STR), agent_id=nullable(STR),
    time=TIME, disposition=nullable(STR), notes=nullable(STR),
)
INTERACTION_IN = obj(call_id=nullable(STR), notes=nullable(STR), disposition=nullable(STR))
TICKET = obj(
    ("id", "customer_id", "type", "subject", "status"),
    id=ID, customer_id=nullable(ID), type=STR, subject=STR, body=nullable(STR), status=STR,
    created=nullable(TIME), updated=nullable(TIME),
)
TICKET_IN = obj(("type", "subject"), type=NONEMPTY, subject=NONEMPTY, body=nullable(STR))
TICKET_PATCH = obj(status=nullable(STR), body=nullable(STR))

SCREEN_POP = obj(
    ("call_id", "agent", "device", "customer", "interactions", "tickets", "data", "notes"),
    event={"type": "string", "enum": ["screen_pop"]}, call_id=STR, agent=nullable(STR),
    device=STR, customer=nullable(CUSTOMER), interactions=array(INTERACTION),
    tickets=array(TICKET), data=ANY_OBJECT, notes=array(NOTE), calling=nullable(STR),
    called=nullable(STR),
)
