"""Serial-line PBXs: the CTI link (events and commands) and the call-record (SMDR) port.

    transport.py   serial:// (pyserial: Twisted SerialPort, or a reader thread) and serial+tcp://
    frames.py      STX seq text ETX BCC framing and ACK/NAK/ENQ/EOT units (pure)
    link.py        LinkProtocol: ACK/NAK, retransmission, duplicates, supervision (clock injected)
    dialects/      message text <-> neutral Message, one module per vendor variant
    driver.py      SerialDriver: the drivers.base.Driver of a serial CTI link
    smdr/          call-record formats (one module each), framing, receiver, listener

The wire protocol is docs/serial-link-protocol.md. Nothing is imported here so that
`cti smdr parse` does not pay for Twisted and pyserial.
"""
