"""The screen-pop reads a caller's customer id and the customer's phones from indexes alone
(migration 0004), so a lookup on a database larger than memory reads fewer pages."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect

from db import customers, migrate
from db.customers import _MATCHES, _POP


@pytest.fixture
def bob(engine, acme):
    with engine.begin() as conn:
        return customers.create_customer(conn, acme, "Bob Baker",
                                         phones=[("mobile", "0171 5551234"), "030 1234567"])


def _phone_indexes(engine) -> dict[str, list[str]]:
    return {ix["name"]: ix["column_names"]
            for ix in inspect(engine).get_indexes("customer_phones")
            if ix["name"].startswith("ix_")}


def _read_from_index_alone(conn, statement, index: str, **params) -> bool:
    """Whether the back end's plan of `statement` reads `index` without the table's rows."""
    sql = str(statement.params(**params).compile(
        dialect=conn.dialect, compile_kwargs={"literal_binds": True, "render_postcompile": True}))
    if conn.dialect.name == "sqlite":
        details = [row.detail for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql)]
        return any(f"USING COVERING INDEX {index} " in d for d in details)
    rows = conn.exec_driver_sql("EXPLAIN " + sql).mappings()
    return any(r["key"] == index and "Using index" in (r["Extra"] or "").split("; ")
               for r in rows)


def test_0004_down_and_up_again_changes_only_the_indexes(engine, acme, bob):
    covering = {
        "ix_customer_phones_tenant_id_number": ["tenant_id", "number", "customer_id"],
        "ix_customer_phones_tenant_id_customer_id": ["tenant_id", "customer_id", "kind",
                                                     "number", "raw"],
    }
    assert _phone_indexes(engine) == covering
    assert migrate.downgrade(engine, "0003") == "0003"
    assert _phone_indexes(engine) == {
        "ix_customer_phones_tenant_id_number": ["tenant_id", "number"],
        "ix_customer_phones_tenant_id_customer_id": ["tenant_id", "customer_id"],
    }
    with engine.connect() as conn:
        assert customers.screen_pop(conn, acme, "+491715551234").customer.id == bob
    assert migrate.upgrade(engine) == migrate.head_revision()
    assert _phone_indexes(engine) == covering
    with engine.connect() as conn:
        pop = customers.screen_pop(conn, acme, "01715551234")
    assert pop.customer.id == bob
    assert [p.number for p in pop.customer.phones] == ["+491715551234", "+49301234567"]


def test_the_callers_number_gives_the_customer_id_from_the_index_alone(engine, acme, bob):
    with engine.connect() as conn:
        assert _read_from_index_alone(conn, _MATCHES, "ix_customer_phones_tenant_id_number",
                                      tenant_id=acme.id, keys=["+491715551234"])


def test_the_customers_phones_come_from_the_index_alone(engine, acme, bob):
    with engine.connect() as conn:
        assert _read_from_index_alone(conn, _POP, "ix_customer_phones_tenant_id_customer_id",
                                      tenant_id=acme.id, customer_id=bob, interactions=5,
                                      tickets=10)
