"""Passwords are kept as salted scrypt hashes that carry their own cost parameters."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from db.passwords import hash_password, verify_password


def test_the_right_password_verifies_and_a_wrong_one_does_not():
    stored = hash_password("s3cret")
    assert verify_password("s3cret", stored)
    assert not verify_password("s3cret ", stored)
    assert not verify_password("", stored)


def test_the_hash_is_scrypt_with_its_parameters_and_a_fresh_salt():
    first, second = hash_password("same"), hash_password("same")
    assert first.startswith("scrypt$16384$8$1$")
    assert first != second
    assert "same" not in first


def test_a_hash_made_at_another_cost_still_verifies():
    assert verify_password("pw", hash_password("pw", n=2**10, r=4, p=2))


def test_malformed_or_foreign_hashes_never_verify():
    for stored in ("", "plain", "bcrypt$2b$12$abc", "scrypt$x$8$1$AA==$AA==", "scrypt$16$8$1$!!$??",
                   "scrypt$1099511627776$8$1$AAAA$AAAA"):
        assert not verify_password("pw", stored)


def test_an_empty_password_cannot_be_set():
    with pytest.raises(ValueError):
        hash_password("")


@settings(max_examples=25, deadline=None)
@given(st.text(min_size=1, max_size=40), st.text(min_size=1, max_size=40))
def test_only_the_hashed_password_verifies(password, other):
    stored = hash_password(password, n=16, r=1, p=1)
    assert verify_password(password, stored)
    assert verify_password(other, stored) == (other == password)
