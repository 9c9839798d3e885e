"""An SMDR port kept open: the hook the server (and its database spool) plugs a sink into.

    listener = SmdrListener("serial:///dev/ttyS1?baud=9600", spool.add, format="auto")
    listener.start()          # opens the port, reopens it `reconnect_delay` after any loss
    ...
    yield listener.stop()

The sink gets each CallRecord on the reactor thread; start times are the PBX's local time
(CallRecord.start_utc converts with the link's timezone). Bad lines go to `warn`.
"""

from __future__ import annotations

from typing import Any

from twisted.internet import defer
from twisted.python import log

from drivers.serial.smdr import AUTO
from drivers.serial.smdr.receiver import RecordSink, SmdrReceiver, WarningSink
from drivers.serial.transport import open_link, parse_link_url


class SmdrListener:
    def __init__(
        self,
        url: str,
        sink: RecordSink,
        *,
        format: str | None = None,
        warn: WarningSink | None = None,
        reactor: Any = None,
        reconnect_delay: float | None = 5.0,
    ) -> None:
        if reactor is None:
            from twisted.internet import reactor as default_reactor

            reactor = default_reactor
        self.address = parse_link_url(url)
        self.format = format or self.address.options.get("format", AUTO)
        self.sink = sink
        self.warn = warn or (lambda message: log.msg(f"smdr {url}: {message}"))
        self.reactor = reactor
        self.reconnect_delay = reconnect_delay
        self.receiver: SmdrReceiver | None = None
        self.closed: defer.Deferred = defer.Deferred()
        """Fires (with the reason text) when the port is gone for good: stopped, or lost
        without `reconnect_delay`."""
        self._running = False
        self._retry: Any = None
        self._stopping: defer.Deferred | None = None
        SmdrReceiver(sink, self.format)  # validates the format name now, not at first open

    def start(self) -> None:
        self._running = True
        self._open()

    def stop(self) -> defer.Deferred:
        self._running = False
        if self._retry is not None and self._retry.active():
            self._retry.cancel()
        receiver = self.receiver
        if receiver is None or receiver.transport is None:
            self._finish("stopped")
            return defer.succeed(None)
        self._stopping = defer.Deferred()
        receiver.transport.loseConnection()
        return self._stopping

    def _open(self) -> None:
        listener = self

        class Receiver(SmdrReceiver):
            def connectionLost(self, reason: object = None) -> None:
                super().connectionLost(reason)
                listener._lost(self)

        receiver = Receiver(self.sink, self.format, self.warn)
        self.receiver = receiver
        open_link(self.address, receiver, self.reactor).addErrback(self._open_failed)

    def _open_failed(self, reason: Any) -> None:
        self.receiver = None
        self._retry_or_finish(f"cannot open {self.address.describe()}: {reason.getErrorMessage()}")

    def _lost(self, receiver: SmdrReceiver) -> None:
        if self.receiver is receiver:
            self.receiver = None
        if self._stopping is not None:
            stopping, self._stopping = self._stopping, None
            self._finish("stopped")
            stopping.callback(None)
            return
        self._retry_or_finish(f"link {self.address.describe()} closed")

    def _retry_or_finish(self, why: str) -> None:
        if self._running and self.reconnect_delay is not None:
            self.warn(f"{why}; reopening in {self.reconnect_delay:g} s")
            self._retry = self.reactor.callLater(self.reconnect_delay, self._reopen)
        else:
            self._running = False
            self._finish(why)

    def _reopen(self) -> None:
        self._retry = None
        if self._running:
            self._open()

    def _finish(self, why: str) -> None:
        if not self.closed.called:
            self.closed.callback(why)
