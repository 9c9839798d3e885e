"""The simulated switch, protocol-neutral: front-ends (CSTA, serial) sit on top of it.

    from simulators.pbx import Switch, Handsets
    switch = Switch(reactor)                      # or task.Clock() in tests
    switch.add_extensions(str(n) for n in range(1000, 1100))
    switch.add_pilot("5000", ["1000", "1001"], "hunt")
    phones = Handsets(switch)
    call_id = phones.call("+4930123456", "1000"); phones.answer("1000")
    switch.snapshot()["calls"]                    # the truth
"""

from simulators.pbx.errors import (
    AgentRefused,
    InvalidCall,
    InvalidConnection,
    InvalidDevice,
    InvalidState,
    NoResources,
    NotForThisDevice,
    SwitchError,
)
from simulators.pbx.events import SwitchEvent
from simulators.pbx.handsets import Handsets
from simulators.pbx.switch import Switch

__all__ = [
    "AgentRefused", "Handsets", "InvalidCall", "InvalidConnection", "InvalidDevice",
    "InvalidState", "NoResources", "NotForThisDevice", "Switch", "SwitchError", "SwitchEvent",
]
