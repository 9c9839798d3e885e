"""With a certificate configured the API and the event stream speak TLS (and only TLS)."""

from __future__ import annotations

import datetime
import ipaddress

import pytest_twisted
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from twisted.internet import reactor, ssl
from twisted.web.client import BrowserLikePolicyForHTTPS

from cti.server import testing
from cti.server.testing import EventStreamClient


def _self_signed(path):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(
            [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    key_pem = key.private_bytes(serialization.Encoding.PEM,
                                serialization.PrivateFormat.TraditionalOpenSSL,
                                serialization.NoEncryption())
    path.write_bytes(cert_pem + key_pem)
    return cert_pem


@pytest_twisted.inlineCallbacks
def test_https_and_wss_with_the_configured_certificate(tmp_path):
    cert_pem = _self_signed(tmp_path / "server.pem")
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
