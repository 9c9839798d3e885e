"""Customers and the screen-pop: the caller's record found from any spelling of the number."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cti.numbers import DialPlan
from db import agents, customers
from db.customers import InvalidPhone
from db.errors import NotFound
from db.records import Address, Contact, Tenant

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def bob(engine, acme):
    with engine.begin() as conn:
        return customers.create_customer(
            conn, acme, "Bob Baker", company="Baker AG", email="bob@example.com",
            phones=[("mobile", "0171 555 1234"), ("work", "+49 (30) 123-4567")],
            addresses=[Address(street="Hauptstr. 1", city="Berlin", postal_code="10115",
                               country="DE")],
            contacts=[Contact("Eva Baker", role="assistant", phone="030 1234568")],
            custom={"contract": "K-17", "segment": "gold"},
        )


@pytest.mark.parametrize("caller", [
    "01715551234",          # national, trunk prefix
    "+491715551234",        # E.164
    "00491715551234",       # international access code
    "0171 555-1234",        # as people write it
    "N<+491715551234>Line00001;displayNumber=00001",  # a CSTA device identifier
    "1715551234",           # a trunk that drops the prefix
])
def test_screen_pop_finds_the_caller_in_every_spelling(engine, acme, bob, caller):
    with engine.begin() as conn:
        pop = customers.screen_pop(conn, acme, caller)
    assert pop.customer is not None and pop.customer.id == bob
    assert pop.customer.name == "Bob Baker"


def test_numbers_are_stored_canonical_and_the_record_is_complete(engine, acme, bob):
    with engine.begin() as conn:
        customer = customers.get_customer(conn, acme, bob)
    assert [(p.kind, p.number, p.raw) for p in customer.phones] == [
        ("mobile", "+491715551234", "0171 555 1234"),
        ("work", "+49301234567", "+49 (30) 123-4567"),
    ]
    assert customer.addresses[0].city == "Berlin"
    assert customer.contacts[0].name == "Eva Baker"
    assert customer.custom == {"contract": "K-17", "segment": "gold"}


def test_north_american_spellings_meet_too(engine, globex):
    with engine.begin() as conn:
        carol = customers.create_customer(conn, globex, "Carol", phones=["(786) 555-0100"])
        for caller in ("+17865550100", "17865550100", "7865550100", "0111786555 0100"):
            assert customers.screen_pop(conn, globex, caller).customer.id == carol


def test_screen_pop_brings_the_last_interactions_and_the_open_tickets(engine, acme, bob, cheap_hash):
    with engine.begin() as conn:
        ann = agents.create_agent(conn, acme, "1001", "", password_hash=cheap_hash("pw"))
        for i in range(7):
            customers.add_interaction(conn, acme, bob, agent_id=ann.id, call_id=f"c{i}",
                                      started_at=T0 + timedelta(days=i), notes=f"call {i}",
                                      disposition="resolved")
        complaint = customers.create_ticket(conn, acme, bob, "complaint", "Late delivery")
        order = customers.create_ticket(conn, acme, bob, "order", "20 widgets", priority=2)
        done = customers.create_ticket(conn, acme, bob, "after-sales", "Repair")
        customers.set_ticket_status(conn, acme, done, "closed")
        customers.set_ticket_status(conn, acme, order, "pending")
        pop = customers.screen_pop(conn, acme, "01715551234", interactions=5)
        closed = [t for t in customers.list_tickets(conn, acme, bob) if t.id == done][0]
    assert pop.number == "+491715551234"
    assert [i.call_id for i in pop.interactions] == ["c6", "c5", "c4", "c3", "c2"]
    assert pop.interactions[0].agent_number == "1001"
    assert pop.interactions[0].started_at == T0 + timedelta(days=6)
    assert {t.id for t in pop.tickets} == {complaint, order}
    assert closed.status == "closed" and closed.closed_at is not None


def test_an_unknown_caller_pops_no_customer(engine, acme, bob):
    with engine.begin() as conn:
        for caller in ("0301111111", None, "", "anonymous", "1001"):
            pop = customers.screen_pop(conn, acme, caller)
            assert pop.customer is None and pop.interactions == () and pop.tickets == ()


def test_a_shared_number_pops_the_vip_and_lists_the_others(engine, acme):
    with engine.begin() as conn:
        plain = customers.create_customer(conn, acme, "Front desk", phones=["030 5550000"])
        vip = customers.create_customer(conn, acme, "Director", phones=["+49305550000"], vip=True)
        pop = customers.screen_pop(conn, acme, "0305550000")
        assert pop.customer.id == vip and pop.customer.vip
        assert pop.other_customer_ids == (plain,)
        assert [c.id for c in customers.find_customers_by_phone(conn, acme, "0305550000")] == [
            vip, plain]


def test_a_bad_phone_number_is_refused_and_nothing_is_written(engine, acme):
    with engine.begin() as conn:
        with pytest.raises(InvalidPhone, match="not a phone number"):
            customers.create_customer(conn, acme, "Nobody", phones=["0301234567", "call me"])
        assert customers.count_customers(conn, acme) == 0
        with pytest.raises(ValueError, match="name"):
            customers.create_customer(conn, acme, "  ")


def test_changing_a_customer_replaces_the_numbers(engine, acme, bob):
    with engine.begin() as conn:
        customers.update_customer(conn, acme, bob, vip=True, phones=["0401234567"])
        assert customers.screen_pop(conn, acme, "01715551234").customer is None
        pop = customers.screen_pop(conn, acme, "+49401234567")
        assert pop.customer.id == bob and pop.customer.vip
        with pytest.raises(NotFound):
            customers.update_customer(conn, acme, 10**9, name="x")


def test_customers_are_found_by_name_prefix(engine, acme, bob):
    with engine.begin() as conn:
        customers.create_customer(conn, acme, "Bobby Tables")
        customers.create_customer(conn, acme, "Alice")
        assert [c.name for c in customers.search_customers(conn, acme, "Bob")] == [
            "Bob Baker", "Bobby Tables"]
        assert customers.search_customers(conn, acme, "%") == []


def test_an_interaction_is_finished_with_disposition_and_notes(engine, acme, bob):
    with engine.begin() as conn:
        interaction = customers.add_interaction(conn, acme, bob, started_at=T0)
        customers.finish_interaction(conn, acme, interaction, ended_at=T0 + timedelta(minutes=3),
                                     disposition="sale", notes="ordered 3")
        [done] = customers.recent_interactions(conn, acme, bob)
    assert (done.disposition, done.notes, done.ended_at) == ("sale", "ordered 3", T0 + timedelta(minutes=3))


def test_tickets_have_known_types_and_statuses(engine, acme, bob):
    with engine.begin() as conn:
        with pytest.raises(ValueError, match="ticket type"):
            customers.create_ticket(conn, acme, bob, "praise", "x")
        ticket = customers.create_ticket(conn, acme, bob, "inquiry", "x")
        with pytest.raises(ValueError, match="ticket status"):
            customers.set_ticket_status(conn, acme, ticket, "lost")


@settings(max_examples=200, deadline=None)
@given(area=st.sampled_from(["30", "40", "89", "151", "171", "221"]),
       subscriber=st.integers(min_value=10_000, max_value=99_999_999))
def test_every_spelling_of_a_number_gives_the_key_it_was_stored_under(area, subscriber):
    tenant = Tenant(1, "acme", "Acme", DialPlan.for_country("49"), "Europe/Berlin")
    stored = customers.canonical_phone(tenant, f"0{area} {subscriber}")
    assert stored == f"+49{area}{subscriber}"
    for spelling in (f"0{area}{subscriber}", f"+49{area}{subscriber}", f"0049{area}{subscriber}",
                     f"+49 ({area}) {subscriber}", f"N<+49{area}{subscriber}>;noa=nk"):
        assert customers.lookup_keys(tenant, spelling)[0] == stored
    assert stored in customers.lookup_keys(tenant, f"{area}{subscriber}")


def test_names_and_notes_keep_every_unicode_character(engine, acme):
    name, notes = "王小明 Müller-Łukasz", "Kunde schickt 👍 und möchte Rückruf"
    with engine.begin() as conn:
        customer_id = customers.create_customer(conn, acme, name, notes=notes,
                                                custom={"称呼": "王先生"}, phones=["030 999888"])
        customer = customers.screen_pop(conn, acme, "030999888").customer
    assert (customer.id, customer.name, customer.notes) == (customer_id, name, notes)
    assert customer.custom == {"称呼": "王先生"}


def test_a_ticket_is_read_by_id_and_its_body_rewritten(engine, acme, globex, bob):
    with engine.begin() as conn:
        ticket = customers.create_ticket(conn, acme, bob, "complaint", "Late", body="3 days")
        before = customers.get_ticket(conn, acme, ticket)
        customers.set_ticket_body(conn, acme, ticket, "5 days now, customer angry")
        after = customers.get_ticket(conn, acme, ticket)
    assert (before.subject, before.body, before.status) == ("Late", "3 days", "open")
    assert (after.body, after.status, after.customer_id) == ("5 days now, customer angry", "open", bob)
    assert after.updated_at >= before.updated_at
    with engine.begin() as conn:
        with pytest.raises(NotFound):
            customers.get_ticket(conn, globex, ticket)
        with pytest.raises(NotFound):
            customers.set_ticket_body(conn, globex, ticket, "not theirs")
        with pytest.raises(NotFound):
            customers.get_ticket(conn, acme, 999_999)
        assert customers.get_ticket(conn, acme, ticket).body == "5 days now, customer angry"


def test_addresses_are_replaced_as_a_whole_and_removed_by_an_empty_list(engine, acme, bob):
    moved = Address(street="Seestr. 9", city="Hamburg", postal_code="20095", country="DE")
    with engine.begin() as conn:
        customers.update_customer(conn, acme, bob, addresses=[moved], actor="1001")
        assert customers.get_customer(conn, acme, bob).addresses == (moved,)
        customers.update_customer(conn, acme, bob, name="Bob B. Baker")
        assert customers.get_customer(conn, acme, bob).addresses == (moved,)
        customers.update_customer(conn, acme, bob, addresses=[])
        assert customers.get_customer(conn, acme, bob).addresses == ()


def test_an_address_part_longer_than_its_column_is_refused_and_nothing_changes(engine, acme, bob):
    with engine.begin() as conn:
        with pytest.raises(ValueError, match="street longer than 200"):
            customers.update_customer(conn, acme, bob, addresses=[Address(street="x" * 201)])
        assert customers.get_customer(conn, acme, bob).addresses[0].city == "Berlin"
