"""Users and agents: passwords checked on login, roles, skills with levels, per tenant."""

from __future__ import annotations

import pytest

from db import agents
from db.errors import AuthenticationFailed, NotFound


@pytest.fixture
def ann(engine, acme, cheap_hash):
    with engine.begin() as conn:
        return agents.create_agent(
            conn, acme, "1001", "", name="Ann Agent", extension="2001",
            skills={"billing": 5, "german": 12}, password_hash=cheap_hash("ann-pw"),
        )


def test_an_agent_is_stored_with_its_skills_and_levels(engine, acme, ann):
    with engine.begin() as conn:
        agent = agents.get_agent_by_number(conn, acme, "1001")
    assert agent == ann
    assert agent.name == "Ann Agent" and agent.extension == "2001" and agent.role == "agent"
    assert agent.skill_levels() == {"billing": 5, "german": 12}


def test_setting_skills_replaces_them(engine, acme, ann):
    with engine.begin() as conn:
        agents.set_agent_skills(conn, acme, ann.id, {"french": 3})
        assert agents.get_agent(conn, acme, ann.id).skill_levels() == {"french": 3}
        assert agents.list_skills(conn, acme) == ["billing", "french", "german"]


def test_skill_levels_outside_1_to_16_are_refused(engine, acme, ann):
    with engine.begin() as conn, pytest.raises(ValueError, match="1..16"):
        agents.set_agent_skills(conn, acme, ann.id, {"billing": 17})


def test_an_agent_logs_in_with_agent_id_and_password(engine, acme, ann):
    with engine.begin() as conn:
        assert agents.get_agent_for_login(conn, acme, "1001", "ann-pw") == ann
        assert agents.get_agent_for_login(conn, "acme", "1001", "ann-pw") == ann
        with pytest.raises(AuthenticationFailed):
            agents.get_agent_for_login(conn, acme, "1001", "wrong")
        with pytest.raises(AuthenticationFailed):
            agents.get_agent_for_login(conn, acme, "9999", "ann-pw")


def test_authenticate_finds_the_tenant_from_the_login(engine, acme, ann):
    with engine.begin() as conn:
        login = agents.authenticate(conn, "1001", "ann-pw")
    assert login.tenant == acme
    assert login.user.role == "agent"
    assert login.agent == ann


def test_a_login_in_two_tenants_needs_the_tenant_named(engine, acme, globex, ann, cheap_hash):
    with engine.begin() as conn:
        agents.create_agent(conn, globex, "1001", "", password_hash=cheap_hash("other-pw"))
        with pytest.raises(AuthenticationFailed, match="several tenants"):
            agents.authenticate(conn, "1001", "ann-pw")
        assert agents.authenticate(conn, "1001@acme", "ann-pw").tenant == acme
        assert agents.authenticate(conn, "1001@globex", "other-pw").tenant == globex
        with pytest.raises(AuthenticationFailed):
            agents.authenticate(conn, "1001@globex", "ann-pw")


def test_supervisors_and_administrators_are_users_without_an_agent_row(engine, acme, cheap_hash):
    with engine.begin() as conn:
        agents.create_user(conn, acme, "boss", "", role="supervisor", password_hash=cheap_hash("b"))
        login = agents.authenticate(conn, "boss", "b")
        assert login.user.role == "supervisor" and login.agent is None
        with pytest.raises(AuthenticationFailed, match="not an agent"):
            agents.get_agent_for_login(conn, acme, "boss", "b")
        with pytest.raises(ValueError, match="unknown role"):
            agents.create_user(conn, acme, "x", "pw", role="king")


def test_a_password_can_be_changed(engine, acme, ann):
    with engine.begin() as conn:
        agents.set_password(conn, acme, "1001", "new-pw")
        assert agents.authenticate(conn, "1001", "new-pw").agent == ann
        with pytest.raises(AuthenticationFailed):
            agents.authenticate(conn, "1001", "ann-pw")
        with pytest.raises(NotFound):
            agents.set_password(conn, acme, "nobody", "x")
