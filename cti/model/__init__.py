"""The vendor-neutral call model (calls, connections, devices, agents); pure, clock injected.

Import from here: `Model` is fed normalised events by the server and read by the ACD, the
screen-pop and the API.
"""

from cti.model.calls import Call, CallRecord, Connection, Note, Step
from cti.model.devices import AGENT_STATES, AgentState, Device
from cti.model.history import CallHistory
from cti.model.model import (
    AGENT_UPDATED,
    CALL_CREATED,
    CALL_ENDED,
    CALL_UPDATED,
    DEVICE_UPDATED,
    IGNORED_EVENTS,
    Model,
    UnknownCall,
)

__all__ = [
    "AGENT_STATES", "AGENT_UPDATED", "CALL_CREATED", "CALL_ENDED", "CALL_UPDATED",
    "DEVICE_UPDATED", "IGNORED_EVENTS", "AgentState", "Call", "CallHistory", "CallRecord",
    "Connection", "Device", "Model", "Note", "Step", "UnknownCall",
]
