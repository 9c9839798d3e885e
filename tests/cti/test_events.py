"""The JSON shape of a normalised event is the contract of interfaces.md."""

from cti.events import TRANSFERRED, Event, Party


def test_pinned_keys_are_always_present_and_time_is_iso_utc():
    data = Event("delivered", 0.25, call_id="12", device="1001", calling="+4930").to_dict()
    assert data == {
        "event": "delivered",
        "call_id": "12",
        "device": "1001",
        "calling": "+4930",
        "called": None,
        "time": "1970-01-01T00:00:00.250Z",
    }


def test_transferred_lists_old_calls_and_new_parties():
    event = Event(
        TRANSFERRED, 1.0, call_id="3", device="1001", old_call_ids=("1", "2"),
        parties=(Party("3", "1002", "connected"),), monitor="1001",
    )
    data = event.to_dict()
    assert data["old_call_ids"] == ["1", "2"]
    assert data["parties"] == [{"call_id": "3", "device": "1002", "state": "connected"}]
    assert data["monitor"] == "1001"
