"""The CSTA (ECMA-323 over TCP) front-end of the simulated switch.

    from simulators.csta import listen
    port, factory = listen(switch, reactor, "127.0.0.1", 0, session_style="ecma354")
    port.getHost().port            # the bound port
    ...; factory.close(); yield port.stopListening()
"""

from __future__ import annotations

from typing import Any

from simulators.csta.server import ECMA354, SYSTEM_STATUS, CSTAServerFactory
from simulators.pbx.switch import Switch

__all__ = ["ECMA354", "SYSTEM_STATUS", "CSTAServerFactory", "listen"]


def listen(switch: Switch, reactor: Any, host: str = "127.0.0.1", port: int = 0,
           **options: Any) -> tuple[Any, CSTAServerFactory]:
    """Serve `switch` on HOST:PORT; `options` go to CSTAServerFactory (session_style,
    keepalive, max_session_duration)."""
    factory = CSTAServerFactory(switch, **options)
    try:
        listening = reactor.listenTCP(port, factory, interface=host)
    except Exception:
        factory.close()
        raise
    return listening, factory
