"""[[links]] with `kind = "smdr"`: a PBX's call-record port feeding the tenant's call records.

    [[links]]
    name = "pbx1-smdr"
    url = "serial+tcp://10.0.0.7:4001"     # or serial:///dev/ttyS1?baud=9600
    kind = "smdr"
    format = "auto"                         # or siemens-hipath, avaya-ipo, nec-neax, panasonic
    tenant = "acme"
    timezone = "Europe/Berlin"              # the PBX's local time, converted to UTC when stored

Such a link has no driver and no devices: an SmdrListener keeps the port open (reopening it
`retry_seconds` after any loss) and an SmdrIngest stores each record through the server's
durable recorder, so records wait in the spool while the database is away. The tenant is looked
up before the port is opened (retried while the database cannot say), so no record is stored
without its tenant.
"""

from __future__ import annotations

from typing import Any

from twisted.internet import defer
from twisted.logger import Logger

from cti.errors import CLIError
from cti.server.config import LinkConfig
from cti.smdr_ingest import SmdrIngest
from db import tenants
from drivers.serial.smdr import AUTO
from drivers.serial.smdr.listener import SmdrListener

KIND = "smdr"
_OPTIONS = {"kind", "format"}

log = Logger(namespace="cti.server.smdr")


def is_smdr(config: LinkConfig) -> bool:
    return config.options.get("kind") == KIND


class SmdrLink:
    """One SMDR port of the configuration, stored into `database` (cti.server.database)."""

    def __init__(self, config: LinkConfig, database: Any, reactor: Any) -> None:
        where = f"link {config.name}"
        unknown = set(config.options) - _OPTIONS
        if unknown:
            raise CLIError(f"{where}: unknown option {sorted(unknown)[0]!r} for an SMDR link "
                           "(known: format)")
        if database.recorder is None:
            raise CLIError(f"{where}: SMDR links need [database] spool")
        self.config = config
        self.database = database
        self.reactor = reactor
        self.ingest = SmdrIngest(database.pool, database.recorder, link=config.name,
                                 timezone=config.timezone, warn=self._warn, now=reactor.seconds)
        fmt = config.options.get("format", AUTO)
        try:
            self.listener = SmdrListener(config.url, self.ingest, format=fmt, warn=self._warn,
                                         reactor=reactor, reconnect_delay=config.retry_seconds)
        except (TypeError, ValueError) as exc:
            raise CLIError(f"{where}: {exc}") from None
        self.ingest.watch(self.listener)
        self._retry: Any = None
        self._running = False
        self.started: defer.Deferred[None] = defer.Deferred()
        """Fires once the tenant is known and the port is being opened."""

    @property
    def name(self) -> str:
        return self.config.name

    def start(self) -> None:
        self._running = True
        self._find_tenant()

    @defer.inlineCallbacks
    def stop(self) -> Any:
        """Close the port, then wait until every record read is stored or spooled."""
        self._running = False
        if self._retry is not None and self._retry.active():
            self._retry.cancel()
        yield self.listener.stop()
        yield self.ingest.drain()

    def _find_tenant(self) -> None:
        self._retry = None
        if not self._running:
            return
        d = self.database.run(tenants.get_tenant, self.config.tenant)
        d.addCallbacks(self._open, self._no_tenant)

    def _open(self, tenant: Any) -> None:
        if not self._running:
            return
        self.ingest.tenant_id = tenant.id
        log.info("link {link}: reading call records from {url}", link=self.name,
                 url=self.config.url)
        self.listener.start()
        self.started.callback(None)

    def _no_tenant(self, failure: Any) -> None:
        log.warn("link {link}: tenant {tenant} not readable from the database ({error}); "
                 "retrying in {delay} s", link=self.name, tenant=self.config.tenant,
                 error=failure.getErrorMessage(), delay=self.config.retry_seconds)
        if self._running:
            self._retry = self.reactor.callLater(self.config.retry_seconds, self._find_tenant)

    def _warn(self, message: str) -> None:
        log.warn("link {link}: {message}", link=self.name, message=message)
