"""The serial-link front-end of the simulated switch (docs/serial-link-protocol.md, PBX side).

    from simulators.pbx import Switch
    from simulators.serial import SerialFrontEnd, open_pty, listen
    front = SerialFrontEnd(switch, reactor, baud=115200)
    port = open_pty(front, reactor)          # driver: serial://<port.slave_path>
    tcp = listen(front, reactor, "127.0.0.1", 0)   # driver: serial+tcp://127.0.0.1:<port>
    printer = SmdrPrinter(switch, sys.stdout, "siemens-hipath")

    messages.py   switch events -> dialect messages; refusals -> error codes (pure)
    requests.py   dialect requests executed on the switch (one function each)
    line.py       SimulatedLine: pacing at the baud rate, injected faults at a seed
    frontend.py   SerialFrontEnd: link layer + dialect + monitors; pty and TCP ports
    smdr.py       SmdrPrinter: call records in a real PBX's format
    cli.py        `cti sim serial`
"""

from simulators.serial.frontend import SerialFrontEnd, SerialServerFactory, listen, open_pty
from simulators.serial.line import Faults, SimulatedLine, parse_faults
from simulators.serial.smdr import SmdrPrinter

__all__ = [
    "Faults", "SerialFrontEnd", "SerialServerFactory", "SimulatedLine", "SmdrPrinter",
    "listen", "open_pty", "parse_faults",
]
