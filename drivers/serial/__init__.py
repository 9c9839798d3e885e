"""Serial-line PBXs: the CTI link (events and commands) and the call-record (SMDR) port.

    transport.py   serial:// (pyserial: Twisted SerialPort, or a reader thread) and serial+tcp://
    frames.py      STX seq text ETX BCC framing and ACK/NAK/ENQ/EOT units (pure)
    link.py        LinkProtocol: ACK/NAK, retransmission, duplicates, supervision (clock injected)
    dialects/      message text <-> neutral Message, one module per vendor variant
    driver.py      SerialDriver: the drivers.base.Driver of a serial CTI link
    smdr/          call-record formats (one module each), framing, receiver, listener

The wire protocol is docs/serial-link-protocol.md. Nothing is imported at module level so
that `cti smdr parse` does not pay for Twisted and pyserial.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def create_driver(
    url: str, *, name: str = "serial", devices: Iterable[str] = (), reactor: Any = None,
    **options: Any,
) -> Any:
    """The SerialDriver for a ``serial://`` or ``serial+tcp://`` URL (the links' factory
    convention, as drivers.csta.driver.create_driver). `options`: dialect, request_timeout,
    reconnect_delay, t1, retries, keepalive. ValueError says what is wrong with the URL."""
    from drivers.serial.driver import SerialDriver

    return SerialDriver(name, url, devices=devices, reactor=reactor, **options)
