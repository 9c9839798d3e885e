"""Fixtures of the CSTA end-to-end tests: a started rig (tests/e2e/csta_rig.py) per test."""

from __future__ import annotations

from typing import Any

import pytest
import pytest_twisted
from twisted.internet import defer

from tests.e2e.csta_rig import Rig


@pytest.fixture
def make_rig() -> Any:
    """`rig = yield make_rig(style)`: a started rig, closed at teardown."""
    rigs: list[Rig] = []

    @defer.inlineCallbacks
    def make(session_style: str = "ecma354", **options: Any) -> Any:
        rig = Rig(session_style, **options)
        rigs.append(rig)
        yield rig.start()
        return rig

    yield make
    for rig in rigs:
        pytest_twisted.blockon(rig.close())


@pytest.fixture(params=["ecma354", "system-status"])
def session_style(request: pytest.FixtureRequest) -> str:
    return request.param
