"""The server's TOML configuration: pinned keys, the server's own, and one-line refusals."""

from __future__ import annotations

import os
import tomllib

import pytest

from cti.errors import CLIError
from cti.server import config

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_the_pinned_keys_of_interfaces_md():
    parsed = config.parse(tomllib.loads('''
[database]
url = "sqlite:///x.db"
[api]
listen = "0.0.0.0:0"
certificate = "server.pem"
[[links]]
name = "pbx1"
url = "csta://127.0.0.1:2555"
devices = "1000-1002,2000"
timezone = "Europe/Berlin"
'''), base_dir="/etc/cti")
    assert parsed.database_url == "sqlite:///x.db"
    assert (parsed.listen_host, parsed.listen_port) == ("0.0.0.0", 0)
    assert parsed.certificate == "/etc/cti/server.pem"
    (link,) = parsed.links
    assert link.name == "pbx1" and link.scheme == "csta"
    assert link.devices == ("1000", "1001", "1002", "2000")
    assert link.timezone == "Europe/Berlin"
    assert link.tenant == "default"


def test_the_example_config_parses():
    parsed = config.load(os.path.join(ROOT, "cti.example.toml"))
    assert parsed.links[0].url.startswith("csta://")
    assert ("lunch", "Lunch") in parsed.reasons
    assert parsed.speed_dials == (("Service desk", "+4930555000"),)


def test_extra_link_keys_go_to_the_driver():
    parsed = config.parse({"links": [{"name": "a", "url": "csta://h:1", "devices": "1",
                                      "tenant": "acme", "keepalive": 0}]})
    assert parsed.links[0].options == {"keepalive": 0}
    assert parsed.links[0].tenant == "acme"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"databse": {}}, "unknown config section [databse]"),
        ({"api": {"listen": "8080"}}, "[api] listen: expected HOST:PORT"),
        ({"api": {"lisen": "x"}}, "[api] unknown key 'lisen'"),
        ({"logging": {"format": "xml"}}, "[logging] format"),
        ({"links": [{"url": "nothing"}]}, "url must look like"),
        ({"links": [{"url": "csta://h:1", "devices": "10-x"}]}, "devices: bad device range"),
        ({"links": [{"url": "csta://h:1", "timezone": "Mars/Base"}]}, "unknown timezone"),
        ({"links": [{"name": "a", "url": "csta://h:1"}, {"name": "a", "url": "csta://h:2"}]},
         "names must be unique"),
        ({"sessions": {"lifetime_hours": "long"}}, "[sessions] lifetime_hours: wrong type"),
    ],
)
def test_bad_configs_are_refused_in_one_line(raw, message):
    with pytest.raises(CLIError) as caught:
        config.parse(raw)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_missing_and_broken_files(tmp_path):
    with pytest.raises(CLIError, match="not found"):
        config.load(str(tmp_path / "none.toml"))
    broken = tmp_path / "broken.toml"
    broken.write_text("[api\nlisten=")
    with pytest.raises(CLIError, match="invalid TOML"):
        config.load(str(broken))
