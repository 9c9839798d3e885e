"""Switch links from [[links]]: URL scheme -> driver factory, start, and retry until up.

The core never imports a driver by name elsewhere; this registry is the one place that knows
which package speaks which scheme, and it imports lazily so a build without the serial driver
still serves CSTA links (and says clearly which scheme is missing).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from twisted.internet import defer
from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger

from cti import events as ev
from cti.errors import CLIError
from cti.server.config import LinkConfig
from drivers.base import Driver

log = Logger(namespace="cti.server.links")

DriverFactory = Callable[..., Driver]
"""factory(url, name=..., devices=..., reactor=..., **options from the [[links]] table)."""


SCHEMES: dict[str, str] = {
    "csta": "drivers.csta.driver",
    "serial": "drivers.serial",
    "serial+tcp": "drivers.serial",
}
"""URL scheme -> the module whose create_driver(url, name=, devices=, reactor=, **options)
builds the link's driver."""


def driver_factory(scheme: str) -> DriverFactory:
    module_name = SCHEMES.get(scheme)
    if module_name is None:
        raise CLIError(f"no driver for URL scheme {scheme!r} (known: {', '.join(SCHEMES)})")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name):
            raise CLIError(f"the {scheme} driver is not available in this build") from None
        raise
    factory = getattr(module, "create_driver", None)
    if factory is None:
        raise CLIError(f"the {scheme} driver ({module_name}) offers no create_driver()")
    return factory


def create_driver(config: LinkConfig, reactor: Any) -> Driver:
    """The driver of one [[links]] table; CLIError names what is wrong with it."""
    try:
        factory = driver_factory(config.scheme)
    except CLIError as exc:
        raise CLIError(f"link {config.name}: {exc}") from None
    options = dict(config.options)
    if config.route_devices:
        options["route_devices"] = config.route_devices
    try:
        return factory(config.url, name=config.name, devices=config.devices, reactor=reactor,
                       **options)
    except TypeError as exc:
        raise CLIError(f"link {config.name}: bad option: {exc}") from None
    except ValueError as exc:
        raise CLIError(f"link {config.name}: {exc}") from None


class Link:
    """One configured link: its driver and whether it is up.

    Drivers connect, monitor their devices and reconnect by themselves (drivers/base.py); this
    watches link_up / link_down and logs, every `retry_seconds` while down, that the switch is
    still unreachable, so an operator sees it in the log without a flood.
    """

    def __init__(self, config: LinkConfig, driver: Driver, reactor: IReactorTime) -> None:
        self.config = config
        self.driver = driver
        self._reactor = reactor
        self._nag: Any = None
        self._stopped = False
        self.up = False
        driver.add_sink(self._on_event)

    @property
    def name(self) -> str:
        return self.config.name

    def start(self) -> None:
        log.info("link {link}: connecting to {url}", link=self.name, url=self.config.url)
        self._stopped = False
        self.driver.start()
        self._schedule_nag()

    def stop(self) -> defer.Deferred[None]:
        """Stop the driver and the nagging: the link_down the stopping driver reports must not
        arm a new nag, which would fire on a server already gone."""
        self._stopped = True
        self._cancel_nag()
        return defer.maybeDeferred(self.driver.stop)

    def owns(self, device: str | None) -> bool:
        return device is not None and device in self.config.devices

    def _on_event(self, event: ev.Event) -> None:
        if event.event == ev.LINK_UP:
            self.up = True
            self._cancel_nag()
            log.info("link {link}: up", link=self.name)
        elif event.event == ev.LINK_DOWN:
            if self.up:
                log.warn("link {link}: down ({reason}); retrying", link=self.name,
                         reason=event.reason or event.cause or "connection lost")
            self.up = False
            self._schedule_nag()

    def _schedule_nag(self) -> None:
        if self._stopped:
            return
        if self._nag is None or not self._nag.active():
            self._nag = self._reactor.callLater(self.config.retry_seconds, self._still_down)

    def _still_down(self) -> None:
        self._nag = None
        if not self.up and not getattr(self.driver, "connected", False):
            log.warn("link {link}: switch at {url} unreachable; still retrying",
                     link=self.name, url=self.config.url)
            self._schedule_nag()

    def _cancel_nag(self) -> None:
        if self._nag is not None and self._nag.active():
            self._nag.cancel()
        self._nag = None
