"""`cti demo` runs the whole product on embedded defaults: database, simulator, server, events."""

import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def run_cti(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "cti.cli", *args], cwd=ROOT, capture_output=True, text=True,
        timeout=timeout, env={**os.environ, "PYTHONPATH": ROOT},
    )


def test_demo_seeds_a_database_serves_the_api_and_shows_calls(tmp_path):
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    result = run_cti("demo", "--database", url, "--api", "127.0.0.1:0", "--seconds", "12",
                     "--rate", "2", "--answer-after", "1", "--customers", "20", "--json")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("api listening on 127.0.0.1:")
    assert any("acme-super" in line for line in lines)
    events = [line for line in lines if line.startswith("{")]
    assert any('"event": "delivered"' in line for line in events)
    assert any('"event": "established"' in line for line in events)

    again = run_cti("demo", "--database", url, "--api", "127.0.0.1:0", "--seconds", "1")
    assert again.returncode == 0, again.stderr
    assert "acme-super" not in again.stdout


def test_demo_refuses_bad_arguments_in_one_line():
    result = run_cti("demo", "--rate", "0")
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "--rate" in result.stderr
