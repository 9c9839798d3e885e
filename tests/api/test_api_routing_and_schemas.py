"""Route matching and body validation: the rules every request passes before a handler."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cti.api import schemas
from cti.api.errors import BadRequest, MethodNotAllowed, NotFound
from cti.api.routes import ROUTES


def test_literal_segments_win_over_parameters():
    route, params = ROUTES.match("POST", "/agents/me/state")
    assert route.path == "/agents/me/state" and params == {}
    route, params = ROUTES.match("POST", "/agents/1002/state")
    assert params == {"agent_id": "1002"}


def test_call_actions_have_their_own_routes():
    route, params = ROUTES.match("POST", "/calls/77/single-step-transfer")
    assert params == {"call_id": "77"}
    assert route.request["required"] == ["to"]


def test_unknown_path_and_wrong_method():
    with pytest.raises(NotFound):
        ROUTES.match("GET", "/calls/1/2/3")
    with pytest.raises(MethodNotAllowed, match="allowed: GET, POST"):
        ROUTES.match("DELETE", "/calls")


def test_validation_names_the_field():
    with pytest.raises(BadRequest, match="missing field 'to'"):
        schemas.validate(schemas.MAKE_CALL, {})
    with pytest.raises(BadRequest, match="field 'mode' must be one of: listen, whisper, barge"):
        schemas.validate(schemas.ACTION_MONITOR, {"mode": "spy"})
    with pytest.raises(BadRequest, match="body must be an object"):
        schemas.validate(schemas.LOGIN, ["user"])
    with pytest.raises(BadRequest, match="field 'phones'\\[1\\] must be a string"):
        schemas.validate(schemas.CUSTOMER_IN, {"name": "x", "phones": ["1", 2]})
    schemas.validate(schemas.LOGIN, {"user": "a", "password": "b", "extension": None})


@given(st.dictionaries(st.text(max_size=5), st.one_of(st.none(), st.integers(), st.text(max_size=5)),
                       max_size=4))
def test_validation_either_accepts_or_raises_bad_request(body):
    try:
        schemas.validate(schemas.LOGIN, body)
    except BadRequest as exc:
        assert "\n" not in str(exc)
    else:
        assert isinstance(body.get("user"), str) and isinstance(body.get("password"), str)
