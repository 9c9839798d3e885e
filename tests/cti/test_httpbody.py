"""A response body is read whole, or the read fails as the connection did."""

from __future__ import annotations

import pytest
from twisted.internet.error import ConnectionLost
from twisted.python.failure import Failure
from twisted.web.client import ResponseDone
from twisted.web.http import PotentialDataLoss

from cti.httpbody import read_body


class _Response:
    """Delivers chunks then ends the way a real response's transport would."""

    def __init__(self, chunks: list[bytes], end: Exception) -> None:
        self.chunks = chunks
        self.end = end

    def deliverBody(self, protocol) -> None:
        for chunk in self.chunks:
            protocol.dataReceived(chunk)
        protocol.connectionLost(Failure(self.end))


@pytest.mark.parametrize("end", [ResponseDone(), PotentialDataLoss()])
def test_the_chunks_come_back_joined_when_the_response_ends(end):
    results = []
    read_body(_Response([b'{"a":', b" 1}"], end)).addCallback(results.append)
    assert results == [b'{"a": 1}']


def test_a_body_cut_short_fails_with_the_reason():
    failures = []
    read_body(_Response([b'{"a":'], ConnectionLost("reset"))).addErrback(failures.append)
    assert failures and failures[0].check(ConnectionLost)
