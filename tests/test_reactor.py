"""The suite runs on the asyncio reactor driven by a Qt (qasync) loop."""

import pytest_twisted
from twisted.internet import defer, reactor, task


def test_reactor_is_asyncio_on_qasync():
    from twisted.internet.asyncioreactor import AsyncioSelectorReactor

    assert isinstance(reactor, AsyncioSelectorReactor)
    assert type(reactor._asyncioEventloop).__module__.startswith("qasync")


@pytest_twisted.inlineCallbacks
def test_reactor_runs_timers():
    value = yield task.deferLater(reactor, 0.01, lambda: 42)
    assert value == 42
    yield defer.succeed(None)
