"""The desktop against a server speaking https/wss with a self-signed certificate."""

from __future__ import annotations

import pytest
import pytest_twisted

from cti.commands.desktop import main
from cti.errors import CLIError
from cti.server import testing
from desktop.client import ApiClient, ApiError, tls_policy
from desktop.viewmodels.desktop import DesktopModel


@pytest_twisted.ensureDeferred
async def test_login_and_event_stream_over_tls_with_a_trusted_certificate(tmp_path):
    server_pem, ca_pem, _ = testing.self_signed_certificate(tmp_path)
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
