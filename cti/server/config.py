"""The server's TOML configuration: the pinned keys of interfaces.md plus the server's own.

Parsing is strict: an unknown section or key, a bad URL or a bad device list is refused with one
line naming it, because a typo in a config file should stop the server at start, not surface as
a silent default at three in the morning.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from cti.errors import CLIError
from cti.numbers import parse_device_list

DEFAULT_LISTEN = "127.0.0.1:8080"
DEFAULT_TENANT = "default"


@dataclass(frozen=True)
class LinkConfig:
    name: str
    url: str
    devices: tuple[str, ...]
    timezone: str = "UTC"
    tenant: str = DEFAULT_TENANT
    retry_seconds: float = 5.0
    route_devices: tuple[str, ...] = ()
    """Pilot numbers the server routes through CSTA routing services (RouteRequest)."""
    options: dict[str, Any] = field(default_factory=dict)
    """Anything else in the [[links]] table, passed to the driver factory as keyword options."""

    @property
    def scheme(self) -> str:
        return urlsplit(self.url).scheme.lower()


@dataclass(frozen=True)
class ServerConfig:
    database_url: str = "sqlite:///cti.db"
    database_threads: int | None = None
    database_spool: str | None = None
    database_upgrade: bool = False
    listen_host: str = "127.0.0.1"
    listen_port: int = 8080
    certificate: str | None = None
    private_key: str | None = None
    token_lifetime: float = 12 * 3600.0
    login_failure_delay: float = 1.0
    disconnect_grace: float = 30.0
    ping_interval: float = 20.0
    cors_origins: tuple[str, ...] = ()
    log_level: str = "info"
    log_format: str = "text"
    freeze_heap: bool = True
    """gc.freeze() once started: what the server holds from then on (modules, SQLAlchemy's
    metadata, the call model) is no longer walked by every full collection, which otherwise
    stopped the process for 50-90 ms at a time under load. Off for in-process test servers."""
    log_file: str | None = None
    default_tenant: str = DEFAULT_TENANT
    links: tuple[LinkConfig, ...] = ()
    reasons: tuple[tuple[str, str], ...] = (
        ("break", "Break"), ("lunch", "Lunch"), ("meeting", "Meeting"),
        ("training", "Training"), ("after_call", "After-call work"),
    )
    dispositions: tuple[tuple[str, str], ...] = (
        ("resolved", "Resolved"), ("callback", "Call back"), ("sale", "Sale"),
        ("complaint", "Complaint"), ("wrong_number", "Wrong number"),
    )
    speed_dials: tuple[tuple[str, str], ...] = ()
    acd_reload_seconds: float = 2.0
    """How often the server looks in the audit log for administration changes (0: never)."""
    base_dir: str = "."


_SECTIONS = {"database", "api", "links", "logging", "sessions", "tenants", "codes", "directory",
             "acd"}


def load(path: str) -> ServerConfig:
    try:
        with open(path, "rb") as handle:
            raw = tomllib.load(handle)
    except FileNotFoundError:
        raise CLIError(f"config file not found: {path}") from None
    except OSError as exc:
        raise CLIError(f"cannot read config file {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise CLIError(f"{path}: invalid TOML: {exc}") from None
    return parse(raw, base_dir=os.path.dirname(os.path.abspath(path)))


def parse(raw: dict[str, Any], base_dir: str = ".") -> ServerConfig:
    """The configuration of a parsed TOML document; CLIError names the first bad key."""
    unknown = set(raw) - _SECTIONS
    if unknown:
        raise CLIError(f"unknown config section [{sorted(unknown)[0]}]")
    database = _table(raw, "database", {"url", "threads", "upgrade", "spool"})
    api = _table(raw, "api", {"listen", "certificate", "private_key", "ping_seconds",
                              "cors_origins"})
    logging = _table(raw, "logging", {"level", "format", "file"})
    sessions = _table(raw, "sessions", {"lifetime_hours", "login_failure_delay",
                                        "disconnect_grace_seconds"})
    tenants = _table(raw, "tenants", {"default"})
    codes = _table(raw, "codes", {"reasons", "dispositions"})
    directory = _table(raw, "directory", {"speed_dials"})
    acd = _table(raw, "acd", {"reload_seconds"})
    reload_seconds = float(_get(acd, "acd", "reload_seconds", (int, float), 2.0))
    if reload_seconds < 0:
        raise CLIError("[acd] reload_seconds must be >= 0 (0: do not poll)")

    host, port = _listen(_get(api, "api", "listen", str, DEFAULT_LISTEN))
    level = _get(logging, "logging", "level", str, "info").lower()
    if level not in ("debug", "info", "warn", "warning", "error", "critical"):
        raise CLIError(f"[logging] level: unknown level {level!r}")
    log_format = _get(logging, "logging", "format", str, "text")
    if log_format not in ("text", "json"):
        raise CLIError(f"[logging] format must be 'text' or 'json', not {log_format!r}")
    default_tenant = _get(tenants, "tenants", "default", str, DEFAULT_TENANT)
    links_raw = raw.get("links", [])
    if not isinstance(links_raw, list):
        raise CLIError("[[links]] must be an array of tables")
    links = tuple(_link(item, index, default_tenant) for index, item in enumerate(links_raw))
    names = [link.name for link in links]
    if len(set(names)) != len(names):
        raise CLIError("[[links]] names must be unique")
    certificate = _get(api, "api", "certificate", str, None)
    private_key = _get(api, "api", "private_key", str, None)

    defaults = ServerConfig()
    return ServerConfig(
        database_url=_get(database, "database", "url", str, defaults.database_url),
        database_threads=_get(database, "database", "threads", int, None),
        database_spool=_path(base_dir, _get(database, "database", "spool", str,
                                            "cti-calls.spool")),
        database_upgrade=_get(database, "database", "upgrade", bool, False),
        listen_host=host,
        listen_port=port,
        certificate=_path(base_dir, certificate),
        private_key=_path(base_dir, private_key),
        token_lifetime=float(_get(sessions, "sessions", "lifetime_hours", (int, float), 12)) * 3600,
        login_failure_delay=float(_get(sessions, "sessions", "login_failure_delay", (int, float), 1.0)),
        disconnect_grace=float(_get(sessions, "sessions", "disconnect_grace_seconds", (int, float), 30)),
        ping_interval=float(_get(api, "api", "ping_seconds", (int, float), 20)),
        cors_origins=tuple(_strings(api, "api", "cors_origins")),
        log_level="warn" if level == "warning" else level,
        log_format=log_format,
        log_file=_path(base_dir, _get(logging, "logging", "file", str, None)),
        default_tenant=default_tenant,
        links=links,
        reasons=_codes(codes, "reasons", defaults.reasons),
        dispositions=_codes(codes, "dispositions", defaults.dispositions),
        speed_dials=_codes(directory, "speed_dials", (), section="directory"),
        acd_reload_seconds=reload_seconds,
        base_dir=base_dir,
    )


def _table(raw: dict[str, Any], name: str, keys: set[str]) -> dict[str, Any]:
    table = raw.get(name, {})
    if not isinstance(table, dict):
        raise CLIError(f"[{name}] must be a table")
    unknown = set(table) - keys
    if unknown:
        raise CLIError(f"[{name}] unknown key {sorted(unknown)[0]!r}")
    return table


def _get(table: dict[str, Any], section: str, key: str, kind: Any, default: Any) -> Any:
    if key not in table:
        return default
    value = table[key]
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise CLIError(f"[{section}] {key}: wrong type {type(value).__name__}")
    return value


def _strings(table: dict[str, Any], section: str, key: str) -> list[str]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise CLIError(f"[{section}] {key} must be a list of strings")
    return value


def _listen(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or int(port) > 65535:
        raise CLIError(f"[api] listen: expected HOST:PORT, got {text!r}")
    return host.strip("[]") or "0.0.0.0", int(port)


def _path(base_dir: str, value: str | None) -> str | None:
    if value is None:
        return None
    return value if os.path.isabs(value) else os.path.join(base_dir, value)


def _link(item: Any, index: int, default_tenant: str) -> LinkConfig:
    where = f"[[links]] #{index + 1}"
    if not isinstance(item, dict):
        raise CLIError(f"{where} must be a table")
    name = item.get("name") or f"link{index + 1}"
    where = f"[[links]] {name!r}"
    url = item.get("url")
    if not isinstance(url, str) or "://" not in url:
        raise CLIError(f"{where}: url must look like csta://HOST:PORT or serial:///dev/ttyS0")
    devices_spec = item.get("devices", "")
    if not isinstance(devices_spec, str):
        raise CLIError(f"{where}: devices must be a string such as \"1000-1099,2000\"")
    try:
        devices = tuple(parse_device_list(devices_spec)) if devices_spec.strip() else ()
    except ValueError as exc:
        raise CLIError(f"{where}: devices: {exc}") from None
    timezone = item.get("timezone", "UTC")
    try:
        ZoneInfo(timezone)
    except Exception:
        raise CLIError(f"{where}: unknown timezone {timezone!r}") from None
    retry = item.get("retry_seconds", 5.0)
    if not isinstance(retry, (int, float)) or retry <= 0:
        raise CLIError(f"{where}: retry_seconds must be a positive number")
    route_spec = item.get("route_devices", "")
    if not isinstance(route_spec, str):
        raise CLIError(f"{where}: route_devices must be a string such as \"5000,5001\"")
    try:
        route_devices = tuple(parse_device_list(route_spec)) if route_spec.strip() else ()
    except ValueError as exc:
        raise CLIError(f"{where}: route_devices: {exc}") from None
    pinned = {"name", "url", "devices", "timezone", "tenant", "retry_seconds", "route_devices"}
    return LinkConfig(
        name=str(name),
        url=url,
        devices=devices,
        timezone=timezone,
        tenant=str(item.get("tenant", default_tenant)),
        retry_seconds=float(retry),
        route_devices=route_devices,
        options={k: v for k, v in item.items() if k not in pinned},
    )


def _codes(table: dict[str, Any], key: str, default: tuple[tuple[str, str], ...],
           section: str = "codes") -> tuple[tuple[str, str], ...]:
    if key not in table:
        return default
    value = table[key]
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise CLIError(f"[{section}] {key} must be a table of code = \"label\"")
    return tuple((str(code), label) for code, label in value.items())
