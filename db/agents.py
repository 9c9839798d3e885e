"""Users, agents and skills: who may log in, with what role, and what each agent can do.

An agent logs in with who (agent ID or user login + password), and the ACD takes what (skills)
from here; where (the extension) comes with the login request, the stored one is a default.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping

from sqlalchemy import Connection, delete, insert, select, update

from db import models as m
from db.audit import audit
from db.errors import AuthenticationFailed, NotFound
from db.passwords import hash_password, verify_password
from db.records import Agent, AgentSkill, Login, Tenant, User
from db.tenants import get_tenant, get_tenant_by_id

# Spent on unknown logins too, so response time does not tell which logins exist.
_DUMMY_HASH = None


def create_user(
    conn: Connection,
    tenant: Tenant,
    login: str,
    password: str,
    *,
    name: str | None = None,
    role: str = "agent",
    email: str | None = None,
    password_hash: str | None = None,
    actor: str = "system",
) -> User:
    """A user with a fresh scrypt hash of `password` (or a precomputed `password_hash`)."""
    if role not in m.ROLES:
        raise ValueError(f"unknown role {role!r} (one of {', '.join(m.ROLES)})")
    values = dict(
        tenant_id=tenant.id,
        login=login,
        name=name or login,
        email=email,
        role=role,
        password_hash=password_hash or hash_password(password),
    )
    user_id = conn.execute(insert(m.User).values(values)).inserted_primary_key[0]
    audit(conn, tenant.id, actor, "create", "user", user_id, {"login": login, "role": role})
    return User(user_id, tenant.id, login, values["name"], role, email)


def create_agent(
    conn: Connection,
    tenant: Tenant,
    number: str,
    password: str,
    *,
    name: str | None = None,
    role: str = "agent",
    extension: str | None = None,
    skills: Mapping[str, int] | None = None,
    wrapup_seconds: int | None = None,
    password_hash: str | None = None,
    actor: str = "system",
) -> Agent:
    """A user whose login is the agent ID `number`, and the agent row beside it."""
    user = create_user(
        conn, tenant, number, password, name=name, role=role, password_hash=password_hash,
        actor=actor,
    )
    agent_id = conn.execute(
        insert(m.Agent).values(
            tenant_id=tenant.id,
            user_id=user.id,
            number=number,
            extension=extension,
            wrapup_seconds=wrapup_seconds,
        )
    ).inserted_primary_key[0]
    audit(conn, tenant.id, actor, "create", "agent", agent_id, {"number": number})
    if skills:
        set_agent_skills(conn, tenant, agent_id, skills, actor=actor)
    return get_agent(conn, tenant, agent_id)


def ensure_skill(conn: Connection, tenant: Tenant, name: str, description: str | None = None) -> int:
    """The id of the tenant's skill `name`, created if it does not exist yet."""
    existing = conn.execute(
        select(m.Skill.id).where(m.Skill.tenant_id == tenant.id, m.Skill.name == name)
    ).scalar()
    if existing is not None:
        return existing
    return conn.execute(
        insert(m.Skill).values(tenant_id=tenant.id, name=name, description=description)
    ).inserted_primary_key[0]


def list_skills(conn: Connection, tenant: Tenant) -> list[str]:
    return list(
        conn.execute(
            select(m.Skill.name).where(m.Skill.tenant_id == tenant.id).order_by(m.Skill.name)
        ).scalars()
    )


def set_agent_skills(
    conn: Connection, tenant: Tenant, agent_id: int, skills: Mapping[str, int], *, actor: str = "system"
) -> None:
    """Replace the agent's skills with `skills` (name -> level 1..16)."""
    _require_agent(conn, tenant, agent_id)
    for skill, level in skills.items():
        if not 1 <= int(level) <= 16:
            raise ValueError(f"skill level for {skill!r} must be 1..16, got {level}")
    conn.execute(
        delete(m.AgentSkill).where(
            m.AgentSkill.tenant_id == tenant.id, m.AgentSkill.agent_id == agent_id
        )
    )
    rows = [
        dict(tenant_id=tenant.id, agent_id=agent_id, skill_id=ensure_skill(conn, tenant, name),
             level=int(level))
        for name, level in skills.items()
    ]
    if rows:
        conn.execute(insert(m.AgentSkill), rows)
    audit(conn, tenant.id, actor, "update", "agent", agent_id, {"skills": dict(skills)})


def get_agent(conn: Connection, tenant: Tenant, agent_id: int) -> Agent:
    agents = _load_agents(conn, tenant.id, m.Agent.id == agent_id)
    if not agents:
        raise NotFound(f"no agent {agent_id} in tenant {tenant.code!r}")
    return agents[0]


def get_agent_by_number(conn: Connection, tenant: Tenant, number: str) -> Agent:
    agents = _load_agents(conn, tenant.id, m.Agent.number == number)
    if not agents:
        raise NotFound(f"no agent {number!r} in tenant {tenant.code!r}")
    return agents[0]


def list_agents(conn: Connection, tenant: Tenant) -> list[Agent]:
    return _load_agents(conn, tenant.id)


def authenticate(
    conn: Connection, login: str, password: str, tenant_code: str | None = None
) -> Login:
    """Check a login from any screen: `login` may be ``user@tenant``; without a tenant it must
    name exactly one active user across tenants. Raises AuthenticationFailed otherwise."""
    if tenant_code is None and "@" in login:
        login, tenant_code = login.rsplit("@", 1)
    query = select(m.User).where(m.User.login == login, m.User.active.is_(True))
    if tenant_code is not None:
        query = query.join(m.Tenant, m.Tenant.id == m.User.tenant_id).where(
            m.Tenant.code == tenant_code
        )
    rows = conn.execute(query.limit(2)).all()
    if len(rows) > 1:
        _burn(password)
        raise AuthenticationFailed(f"login {login!r} exists in several tenants: use {login}@TENANT")
    if not rows or not verify_password(password, rows[0].password_hash):
        if not rows:
            _burn(password)
        raise AuthenticationFailed("unknown user or wrong password")
    row = rows[0]
    tenant = get_tenant_by_id(conn, row.tenant_id)
    agents = _load_agents(conn, tenant.id, m.Agent.user_id == row.id)
    return Login(_user(row), tenant, agents[0] if agents else None)


def get_agent_for_login(
    conn: Connection, tenant: Tenant | str, agent_number: str, password: str
) -> Agent:
    """The agent (with skills) whose agent ID and password these are, for an ACD login."""
    if isinstance(tenant, str):
        tenant = get_tenant(conn, tenant)
    result = authenticate(conn, agent_number, password, tenant.code)
    if result.agent is None:
        raise AuthenticationFailed(f"user {agent_number!r} is not an agent")
    return result.agent


def set_password(
    conn: Connection, tenant: Tenant, login: str, password: str, *, actor: str = "system"
) -> None:
    changed = conn.execute(
        update(m.User)
        .where(m.User.tenant_id == tenant.id, m.User.login == login)
        .values(password_hash=hash_password(password))
    ).rowcount
    if not changed:
        raise NotFound(f"no user {login!r} in tenant {tenant.code!r}")
    audit(conn, tenant.id, actor, "update", "user", login, {"password": "changed"})


def _burn(password: str) -> None:
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = hash_password("not a real password")
    verify_password(password, _DUMMY_HASH)


def _require_agent(conn: Connection, tenant: Tenant, agent_id: int) -> None:
    found = conn.execute(
        select(m.Agent.id).where(m.Agent.tenant_id == tenant.id, m.Agent.id == agent_id)
    ).first()
    if found is None:
        raise NotFound(f"no agent {agent_id} in tenant {tenant.code!r}")


def _load_agents(conn: Connection, tenant_id: int, *conditions) -> list[Agent]:
    rows = conn.execute(
        select(
            m.Agent.id, m.Agent.user_id, m.Agent.number, m.Agent.extension,
            m.Agent.wrapup_seconds, m.User.name, m.User.login, m.User.role,
        )
        .join(m.User, m.User.id == m.Agent.user_id)
        .where(m.Agent.tenant_id == tenant_id, *conditions)
        .order_by(m.Agent.number)
    ).all()
    skills = _skills_of(conn, tenant_id, [r.id for r in rows])
    return [
        Agent(
            id=r.id, tenant_id=tenant_id, user_id=r.user_id, number=r.number, name=r.name,
            login=r.login, role=r.role, extension=r.extension, wrapup_seconds=r.wrapup_seconds,
            skills=tuple(skills.get(r.id, ())),
        )
        for r in rows
    ]


def _skills_of(conn: Connection, tenant_id: int, agent_ids: Iterable[int]) -> dict[int, list[AgentSkill]]:
    ids = list(agent_ids)
    result: dict[int, list[AgentSkill]] = defaultdict(list)
    if not ids:
        return result
    rows = conn.execute(
        select(m.AgentSkill.agent_id, m.Skill.name, m.AgentSkill.level)
        .join(m.Skill, m.Skill.id == m.AgentSkill.skill_id)
        .where(m.AgentSkill.tenant_id == tenant_id, m.AgentSkill.agent_id.in_(ids))
        .order_by(m.Skill.name)
    )
    for agent_id, name, level in rows:
        result[agent_id].append(AgentSkill(name, level))
    return result


def _user(row) -> User:
    return User(row.id, row.tenant_id, row.login, row.name, row.role, row.email, row.active)


_KEEP: object = object()


def update_agent(
    conn: Connection,
    tenant: Tenant,
    number: str,
    *,
    name: str | None | object = _KEEP,
    extension: str | None | object = _KEEP,
    wrapup_seconds: int | None | object = _KEEP,
    password: str | None = None,
    actor: str = "system",
) -> Agent:
    """Change the named fields of agent `number` (the others are kept)."""
    agent = get_agent_by_number(conn, tenant, number)
    agent_values = {k: v for k, v in (("extension", extension),
                                      ("wrapup_seconds", wrapup_seconds)) if v is not _KEEP}
    if agent_values:
        conn.execute(update(m.Agent).where(m.Agent.id == agent.id).values(agent_values))
    if name is not _KEEP:
        conn.execute(update(m.User).where(m.User.id == agent.user_id)
                     .values(name=name or agent.login))
        agent_values["name"] = name
    if password is not None:
        conn.execute(update(m.User).where(m.User.id == agent.user_id)
                     .values(password_hash=hash_password(password)))
        agent_values["password"] = "changed"
    audit(conn, tenant.id, actor, "update", "agent", agent.id, {"number": number, **agent_values})
    return get_agent(conn, tenant, agent.id)


def delete_agent(conn: Connection, tenant: Tenant, number: str, *, actor: str = "system") -> None:
    """Remove the agent and its user (memberships and skills go with it; history keeps a null)."""
    agent = get_agent_by_number(conn, tenant, number)
    conn.execute(delete(m.User).where(m.User.id == agent.user_id))
    conn.execute(delete(m.Agent).where(m.Agent.id == agent.id))
    audit(conn, tenant.id, actor, "delete", "agent", agent.id, {"number": number})


def create_skill(conn: Connection, tenant: Tenant, name: str, description: str | None = None,
                 *, actor: str = "system") -> int:
    """A new skill (ValueError if the tenant has it already)."""
    if name in list_skills(conn, tenant):
        raise ValueError(f"skill {name!r} already exists in tenant {tenant.code!r}")
    skill_id = ensure_skill(conn, tenant, name, description)
    audit(conn, tenant.id, actor, "create", "skill", skill_id, {"name": name})
    return skill_id


def delete_skill(conn: Connection, tenant: Tenant, name: str, *, actor: str = "system") -> None:
    """Remove a skill from the tenant, from every agent and every queue requirement."""
    skill_id = conn.execute(
        select(m.Skill.id).where(m.Skill.tenant_id == tenant.id, m.Skill.name == name)
    ).scalar()
    if skill_id is None:
        raise NotFound(f"no skill {name!r} in tenant {tenant.code!r}")
    conn.execute(delete(m.AgentSkill).where(m.AgentSkill.skill_id == skill_id))
    conn.execute(delete(m.QueueSkill).where(m.QueueSkill.skill_id == skill_id))
    conn.execute(delete(m.Skill).where(m.Skill.id == skill_id))
    audit(conn, tenant.id, actor, "delete", "skill", skill_id, {"name": name})
