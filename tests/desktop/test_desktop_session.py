"""DesktopModel: a logged-in desktop over real HTTP + WebSocket (the boundary fixture)."""

from __future__ import annotations

import pytest
import pytest_twisted

from desktop.client import ApiClient, ApiError
from desktop.viewmodels.desktop import DesktopModel


@pytest.fixture
def desktops():
    made = []

    def make(url, **options):
        model = DesktopModel(ApiClient(url), stream_options={"initial_delay": 0.05}, **options)
        made.append(model)
        return model

    yield make
    for model in made:
        model.shutdown()
        model.client.close()


def ring(api, call_id="c1"):
    call = api.add_call({"call_id": call_id, "calling": "+4930123456", "called": "2001",
                         "customer_id": 7, "queue": "sales",
                         "parties": [{"device": "+4930123456", "state": "connected"},
                                     {"device": "2001", "state": "alerting"}]})
    api.push({"event": "call", "kind": "created", "call": call})
    api.push({"event": "screen_pop", "call_id": call_id, "agent": "1001", "device": "2001",
              "customer": api.customers[7], "interactions": api.interactions[7],
              "tickets": api.tickets[7], "data": {}, "notes": [], "calling": "+4930123456",
              "called": "2001"})
    return call


@pytest_twisted.ensureDeferred
async def test_login_loads_lists_and_restores_state_from_hello(recorded_api, desktops):
    api, url = recorded_api
    model = desktops(url)
    session = await model.login("1001", "secret", "2001")
    await model.when_synced()
    assert session["role"] == "agent" and model.extension == "2001"
    assert [r["code"] for r in model.agent_state.reasons] == ["break", "lunch", "training"]
    assert [d["code"] for d in model.dispositions] == ["resolved", "callback", "sale"]
    assert len(model.address_book.entries) == 4
    assert model.agent_state.status_label() == "Not ready – Login"


@pytest_twisted.ensureDeferred
async def test_wrong_password_is_reported_as_one_line(recorded_api, desktops):
    _, url = recorded_api
    model = desktops(url)
    errors = []
    model.error.connect(errors.append)
    with pytest.raises(ApiError):
        await model.login("1001", "wrong", "2001")
    assert errors == ["wrong user or password"]


@pytest_twisted.ensureDeferred
async def test_incoming_call_pops_notifies_and_is_answered(recorded_api, desktops, wait_until):
    api, url = recorded_api
    model = desktops(url)
    await model.login("1001", "secret", "2001")
    await model.when_synced()
    ring(api)
    await wait_until(lambda: model.pop.call_id == "c1" and model.notifier.current)
    assert model.pop.display_name() == "Clara Jansen"
    assert model.notifier.text() == "Clara Jansen (+4930123456) via sales"
    assert model.calls.enabled_actions() == {"answer", "deflect", "hangup"}
    await model.answer()
    await wait_until(lambda: model.calls.my_state(model.calls.calls["c1"]) == "connected")
    assert model.notifier.current is None
    assert "hold" in model.calls.enabled_actions()


@pytest_twisted.ensureDeferred
async def test_note_disposition_customer_save_and_ticket(recorded_api, desktops, wait_until):
    api, url = recorded_api
    model = desktops(url)
    await model.login("1001", "secret", "2001")
    await model.when_synced()
    ring(api)
    await wait_until(lambda: model.pop.call_id == "c1")
    await model.add_note("Wants a callback about parcel 4471")
    assert api.calls["c1"]["notes"][-1]["text"] == "Wants a callback about parcel 4471"
    assert model.pop.notes[-1]["text"] == "Wants a callback about parcel 4471"
    model.pop.set_field("company", "Jansen & Co")
    await model.save_customer()
    assert api.customers[7]["company"] == "Jansen & Co" and not model.pop.dirty
    await model.create_ticket("complaint", "Damaged pallet", "Corner broken")
    assert model.pop.open_tickets()[0]["subject"] == "Damaged pallet"
    await model.set_disposition("resolved", "done")
    assert model.pop.disposition_saved
    assert model.pop.interactions[0]["disposition"] == "resolved"
    with pytest.raises(ApiError, match="note is empty"):
        await model.add_note("   ")


@pytest_twisted.ensureDeferred
async def test_a_caller_saved_during_the_call_is_named_in_the_calls_disposition(
        recorded_api, desktops, wait_until):
    """The disposition goes through the call (its times, its stored context) and names the
    customer the server could not know; a popped customer's disposition names nobody."""
    api, url = recorded_api
    model = desktops(url)
    await model.login("1001", "secret", "2001")
    await model.when_synced()
    api.add_call({"call_id": "c2", "calling": "+4940555000", "called": "2001",
                  "customer_id": None, "parties": [
                      {"device": "+4940555000", "state": "connected"},
                      {"device": "2001", "state": "connected"}]})
    api.push({"event": "screen_pop", "call_id": "c2", "agent": "1001", "device": "2001",
              "customer": None, "interactions": [], "tickets": [], "data": {}, "notes": [],
              "calling": "+4940555000", "called": "2001"})
    await wait_until(lambda: model.pop.call_id == "c2")
    model.pop.set_field("name", "Grace Hopper")
    grace = await model.save_customer()
    assert model.pop.customer_new_to_call
    await model.set_disposition("sale", "first call")
    assert ("POST", "/calls/c2/disposition",
            {"code": "sale", "notes": "first call", "customer_id": grace["id"]}) in api.requests
    assert not [r for r in api.requests if r[1].endswith("/interactions") and r[0] == "POST"]
    assert model.pop.disposition_saved
    assert [(i["call_id"], i["disposition"]) for i in model.pop.interactions] == [("c2", "sale")]

    ring(api, "c3")
    await wait_until(lambda: model.pop.call_id == "c3")
    await model.set_disposition("resolved")
    assert ("POST", "/calls/c3/disposition", {"code": "resolved"}) in api.requests


@pytest_twisted.ensureDeferred
async def test_saving_an_empty_name_is_refused_and_the_edit_kept(recorded_api, desktops, wait_until):
    api, url = recorded_api
    model = desktops(url)
    await model.login("1001", "secret", "2001")
    ring(api)
    await wait_until(lambda: model.pop.call_id == "c1")
    model.pop.set_field("name", "")
    with pytest.raises(ValueError):
        await model.save_customer()
    assert model.pop.dirty and model.last_error.startswith("the customer needs a name")


@pytest_twisted.ensureDeferred
async def test_consult_then_transfer_completes_the_pair(recorded_api, desktops, wait_until):
    api, url = recorded_api
    model = desktops(url)
    await model.login("1001", "secret", "2001")
    await model.when_synced()
    ring(api)
    await wait_until(lambda: "c1" in model.calls.calls)
    await model.answer()
    answer = await model.consult("2002")
    consult_id = answer["call_id"]
    await wait_until(lambda: consult_id in model.calls.calls)
    assert model.calls.consult_pair(consult_id) == ("c1", consult_id)
    assert "transfer" in model.calls.enabled_actions(consult_id)
    await model.transfer()
    assert ("POST", "/calls/c1/transfer", {"consult_call_id": consult_id}) in api.requests
    await wait_until(lambda: model.calls.my_calls() == [])
    assert model.history.entries[0]["customer"] == "Clara Jansen"


@pytest_twisted.ensureDeferred
async def test_actions_without_a_call_fail_clearly(recorded_api, desktops):
    _, url = recorded_api
    model = desktops(url)
    await model.login("1001", "secret", "2001")
    with pytest.raises(ApiError, match="no call to act on"):
        await model.hangup()
    with pytest.raises(ApiError, match="consult first"):
        await model.transfer()
    with pytest.raises(ApiError, match="enter a number"):
        await model.dial(" ")


@pytest_twisted.ensureDeferred
async def test_state_changes_come_back_on_the_stream(recorded_api, desktops, wait_until):
    _, url = recorded_api
    model = desktops(url)
    await model.login("1001", "secret", "2001")
    await model.when_synced()
    await model.set_ready()
    assert model.agent_state.status == "ready"
    await model.set_not_ready("lunch")
    await wait_until(lambda: model.agent_state.reason == "lunch")
    assert model.agent_state.status_label() == "Not ready – Lunch"


@pytest_twisted.ensureDeferred
async def test_reconnect_restores_calls_and_rebuilds_the_pop(recorded_api, desktops, wait_until):
    api, url = recorded_api
    model = desktops(url)
    await model.login("1001", "secret", "2001")
    await model.when_synced()
    statuses = []
    model.status_changed.connect(lambda s, d: statuses.append(s))
    api.drop_streams()
    await wait_until(lambda: "reconnecting" in statuses)
    # While the desktop was away a call arrived and was answered elsewhere in the system.
    api.add_call({"call_id": "c5", "calling": "+4930123456", "called": "2001", "customer_id": 7,
                  "parties": [{"device": "+4930123456", "state": "connected"},
                              {"device": "2001", "state": "connected"}]})
    await wait_until(lambda: "c5" in model.calls.calls and model.pop.call_id == "c5")
    assert model.pop.display_name() == "Clara Jansen"
    assert [t["subject"] for t in model.pop.open_tickets()] == ["Late delivery"]


@pytest_twisted.ensureDeferred
async def test_server_without_hello_is_restored_over_rest(recorded_api, desktops, wait_until):
    api, url = recorded_api
    api.send_hello = False
    api.add_call({"call_id": "c3", "calling": "+4930999", "called": "2001",
                  "parties": [{"device": "2001", "state": "alerting"}]})
    model = desktops(url, hello_timeout=0.1)
    await model.login("1001", "secret", "2001")
    await model.when_synced()
    assert "c3" in model.calls.calls
    assert ("GET", "/calls", None) in api.requests
    # The restored call's pop is rebuilt over REST as well; its requests end before the test.
    await wait_until(lambda: model.pop.call_id == "c3")


@pytest_twisted.ensureDeferred
async def test_supervisor_loads_agents_and_queues_and_follows_agent_state(recorded_api, desktops, wait_until):
    api, url = recorded_api
    model = desktops(url)
    await model.login("sup", "secret")
    await model.when_synced()
    assert model.is_supervisor
    assert set(model.supervisor.agents) == {"1001", "1002"}
    assert model.supervisor.queue_rows()[0]["waiting"] == 2
    api.push({"event": "agent_state", **{**api.agents["1002"], "status": "ready",
                                         "state": "in_call"}})
    await wait_until(lambda: model.supervisor.agents["1002"]["state"] == "in_call")
    with pytest.raises(ApiError, match="not on a call"):
        await model.monitor("1002", "listen")


@pytest_twisted.ensureDeferred
async def test_a_call_waiting_does_not_take_the_card_of_the_call_in_progress(recorded_api,
                                                                             desktops,
                                                                             wait_until):
    """On a switch with call waiting: a second call's pop waits while the agent talks, takes
    the card once answered with the first on hold, and the first card (its unsaved edit too)
    comes back when the agent returns to that call."""
    api, url = recorded_api
    model = desktops(url)
    await model.login("1001", "secret", "2001")
    await model.when_synced()
    ring(api, "c1")
    await wait_until(lambda: model.pop.call_id == "c1")
    await model.answer("c1")
    model.pop.set_field("notes", "prefers mornings")
    ring(api, "c2")
    await wait_until(lambda: "c2" in model.cards.pending and model.notifier.current)
    assert model.pop.call_id == "c1" and model.pop.draft["notes"] == "prefers mornings"
    await model.add_note("asked for a quote")
    assert api.calls["c1"]["notes"][-1]["text"] == "asked for a quote"

    await model.hold("c1")
    await wait_until(lambda: model.calls.my_state(model.calls.calls["c1"]) == "hold")
    assert model.pop.call_id == "c1"
    await model.answer("c2")
    await wait_until(lambda: model.pop.call_id == "c2")
    assert not model.pop.dirty and "c1" in model.cards.parked
    await model.hangup("c2")
    await wait_until(lambda: "c2" not in model.calls.calls)
    await model.retrieve("c1")
    await wait_until(lambda: model.pop.call_id == "c1")
    assert model.pop.dirty and model.pop.draft["notes"] == "prefers mornings"
    assert model.cards.parked == {} and model.cards.pending == {}


@pytest_twisted.ensureDeferred
async def test_the_pop_of_a_call_transferred_here_replaces_the_consultations(recorded_api,
                                                                             desktops,
                                                                             wait_until):
    """The transferred call's pop (new ID) may come before the call object naming the
    consultation's ID as an alias: it is the same call's card, shown at once."""
    api, url = recorded_api
    model = desktops(url)
    await model.login("1001", "secret", "2001")
    await model.when_synced()
    ring(api, "c7")
    await wait_until(lambda: model.pop.call_id == "c7")
    await model.answer("c7")
    await wait_until(lambda: model.calls.my_state(model.calls.calls["c7"]) == "connected")
    api.push({"event": "transferred", "call_id": "c8", "device": "2002",
              "old_call_ids": ["c6", "c7"],
              "parties": [{"device": "+4930123456", "state": "connected"},
                          {"device": "2001", "state": "connected"}]})
    api.push({"event": "screen_pop", "call_id": "c8", "agent": "1001", "device": "2001",
              "customer": api.customers[7], "interactions": [], "tickets": [], "data": {},
              "notes": [{"time": None, "author": "1002", "text": "wants express"}],
              "calling": "+4930123456", "called": "2002"})
    await wait_until(lambda: model.pop.call_id == "c8")
    assert [n["text"] for n in model.pop.notes] == ["wants express"]
    assert model.cards.pending == {}
