"""Reading an HTTP response body from twisted.web.client, for the desktop and the test client.

twisted.web.client.readBody warns (DeprecationWarning) on transports without abortConnection,
which asyncio's are: the desktop and the test suite run Twisted on an asyncio loop.
"""

from __future__ import annotations

from typing import Any

from twisted.internet import defer, protocol
from twisted.python.failure import Failure
from twisted.web.client import ResponseDone
from twisted.web.http import PotentialDataLoss


class _Body(protocol.Protocol):
    def __init__(self, done: defer.Deferred[bytes]) -> None:
        self.done = done
        self.chunks: list[bytes] = []

    def dataReceived(self, data: bytes) -> None:
        self.chunks.append(data)

    def connectionLost(self, reason: Failure = protocol.connectionDone) -> None:
        if reason.check(ResponseDone, PotentialDataLoss):
            self.done.callback(b"".join(self.chunks))
        else:
            self.done.errback(reason)


def read_body(response: Any) -> defer.Deferred[bytes]:
    """The whole body of `response` (an IResponse); fails as the connection did if cut short."""
    done: defer.Deferred[bytes] = defer.Deferred()
    response.deliverBody(_Body(done))
    return done
