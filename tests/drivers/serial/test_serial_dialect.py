"""The generic dialect: message text of docs/serial-link-protocol.md section 3."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.serial.dialects import (
    DIALECTS,
    EVENT,
    REQUEST,
    RESPONSE,
    DialectError,
    Message,
    get_dialect,
)
from drivers.serial.dialects.generic import EVENT_CODES, REQUEST_CODES

dialect = get_dialect("generic")


def test_event_text_becomes_a_neutral_message():
    message = dialect.parse("EXFR;C=4713;O=4711,4712;D=1001;A=01701234567;B=1002;T=1002")
    assert message == Message(
        EVENT, "transferred",
        {"call_id": "4713", "old_call_ids": "4711,4712", "device": "1001",
         "calling": "01701234567", "called": "1002", "to": "1002"},
    )


def test_request_and_responses():
    assert dialect.format(
        Message(REQUEST, "make_call", {"device": "1001", "called": "0170"}, invoke_id="12")
    ) == "QMAK;I=12;D=1001;B=0170"
    assert dialect.parse("PMAK;I=12;C=4712") == Message(
        RESPONSE, "make_call", {"call_id": "4712"}, invoke_id="12", ok=True
    )
    refused = dialect.parse("NHLD;I=3;X=INVALID_STATE;R=not connected")
    assert (refused.ok, refused.name, refused.fields["cause"]) == (False, "hold_call", "INVALID_STATE")


def test_agent_states_travel_as_two_letter_codes():
    text = dialect.format(Message(REQUEST, "set_agent_state", {"device": "2001", "state": "ready"},
                                  invoke_id="1"))
    assert text == "QAGT;I=1;D=2001;S=RD"
    assert dialect.parse(text).fields["state"] == "ready"


def test_empty_values_mean_not_given_and_unknown_keys_are_ignored():
    message = dialect.parse("ERNG;C=1;D=1001;A=;Z=future")
    assert message.fields == {"call_id": "1", "device": "1001"}


@pytest.mark.parametrize(
    "text",
    ["", "ERN", "XRNG;C=1", "EZZZ;C=1", "ERNG;C", "QMAK;D=1001;B=1002", "PMAK;C=1"],
)
def test_text_that_is_not_a_message_is_refused(text):
    with pytest.raises(DialectError):
        dialect.parse(text)


def test_what_the_dialect_cannot_say_is_refused():
    with pytest.raises(DialectError, match="cannot be said"):
        dialect.format(Message(REQUEST, "generate_digits", {"device": "1"}, invoke_id="1"))
    with pytest.raises(DialectError, match="may not contain"):
        dialect.format(Message(EVENT, "held", {"device": "1;2"}))
    with pytest.raises(DialectError, match="no key"):
        dialect.format(Message(EVENT, "held", {"colour": "red"}))


def test_services_are_the_request_names():
    assert dialect.services == frozenset(REQUEST_CODES.values())
    assert "snapshot_device" in dialect.services and "generate_digits" not in dialect.services
    assert set(DIALECTS) == {"generic"}


values = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E, exclude_characters=";"),
                 min_size=1, max_size=20)


@given(st.sampled_from(sorted(EVENT_CODES.values())),
       st.dictionaries(st.sampled_from(["call_id", "device", "calling", "called", "cause"]), values))
def test_every_event_round_trips(name, fields):
    message = Message(EVENT, name, fields)
    assert dialect.parse(dialect.format(message)) == message
