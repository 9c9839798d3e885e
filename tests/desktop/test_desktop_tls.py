"""The desktop against a server speaking https/wss with a self-signed certificate."""

from __future__ import annotations

import datetime
import ipaddress

import pytest
import pytest_twisted
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from cti.commands.desktop import main
from cti.errors import CLIError
from cti.server import testing
from desktop.client import ApiClient, ApiError, tls_policy
from desktop.viewmodels.desktop import DesktopModel


def self_signed(directory) -> tuple[str, str]:
    """(server PEM with key, CA PEM with the certificate only) for 127.0.0.1."""
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
    server, ca = directory / "server.pem", directory / "ca.pem"
    server.write_bytes(cert_pem + key_pem)
    ca.write_bytes(cert_pem)
    return str(server), str(ca)


@pytest_twisted.ensureDeferred
async def test_login_and_event_stream_over_tls_with_a_trusted_certificate(tmp_path):
    server_pem, ca_pem = self_signed(tmp_path)
    running = await testing.start_server(tmp_path, certificate=server_pem)
    trusting = DesktopModel(ApiClient(running.url, ca_file=ca_pem))
    untrusting = ApiClient(running.url, timeout=3)
    try:
        assert running.url.startswith("https://")
        await trusting.login("sup", testing.PASSWORD)
        await trusting.when_synced()
        assert trusting.connection == "connected" and trusting.is_supervisor
        with pytest.raises(ApiError) as caught:
            await untrusting.login("sup", testing.PASSWORD)
        assert str(caught.value).endswith("TLS certificate verify failed (a private or "
                                          "self-signed certificate needs --ca-cert)")
    finally:
        trusting.shutdown()
        await trusting.client.close()
        await untrusting.close()
        await running.stop()


def test_unreadable_ca_file_is_a_one_line_error(tmp_path):
    with pytest.raises(ValueError, match="cannot read CA certificate"):
        tls_policy(str(tmp_path / "missing.pem"))
    (tmp_path / "junk.pem").write_text("not a certificate")
    with pytest.raises(ValueError, match="holds no PEM certificate"):
        tls_policy(str(tmp_path / "junk.pem"))
    with pytest.raises(CLIError, match="cannot read CA certificate"):
        main(["--server", "https://127.0.0.1:1", "--ca-cert", str(tmp_path / "missing.pem"),
              "--user", "a", "--password", "b"])
