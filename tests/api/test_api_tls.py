"""With a certificate configured the API and the event stream speak TLS (and only TLS)."""

from __future__ import annotations

import pytest_twisted
from twisted.internet import reactor, ssl
from twisted.web.client import BrowserLikePolicyForHTTPS

from cti.server import testing
from cti.server.testing import EventStreamClient


@pytest_twisted.inlineCallbacks
def test_https_and_wss_with_the_configured_certificate(tmp_path):
    _, _, cert_pem = testing.self_signed_certificate(tmp_path)
    running = yield testing.start_server(tmp_path, certificate=str(tmp_path / "server.pem"))
    policy = BrowserLikePolicyForHTTPS(trustRoot=ssl.Certificate.loadPEM(cert_pem))
    client = testing.ApiClient(running.url, tls_policy=policy)
    plain = testing.ApiClient(running.url.replace("https", "http"))
    stream = None
    try:
        assert running.url.startswith("https://127.0.0.1:")
        session = yield client.login("sup")
        status, calls = yield client.get("/api/v1/calls", session["token"])
        assert (status, calls) == (200, [])
        stream = yield EventStreamClient.connect(running.url, session["token"], tls_policy=policy)
        hello = yield stream.next_event("hello")
        assert hello["session"]["user"] == "sup"
        attempt = plain.get("/api/v1/openapi.json")
        attempt.addTimeout(1.0, reactor)
        try:
            yield attempt
        except Exception:
            pass
        else:
            raise AssertionError("plain HTTP was answered on the TLS port")
    finally:
        if stream is not None:
            yield stream.close()
        yield client.close()
        yield plain.close()
        yield running.stop()
