"""Automatic call distribution: a pure, event-driven engine (no sockets, no SQL, no clock).

Public API: Engine (inputs as methods returning decisions), QueueConfig / SkillReq /
MemberConfig / Schedule / Target (configuration), the decision types, Stats (live counters),
and cti.acd.erlang / cti.acd.simulate for staffing figures and virtual-time runs.
"""

from cti.acd.config import STRATEGIES, AcdError, MemberConfig, QueueConfig, SkillReq
from cti.acd.decisions import (
    AgentState,
    Announce,
    Decision,
    Exit,
    Offer,
    Overflow,
    QueueLogEvent,
    RingAll,
    StopRinging,
    Target,
)
from cti.acd.engine import Engine
from cti.acd.schedule import Schedule
from cti.acd.stats import AgentCounters, QueueCounters, Stats

__all__ = [
    "STRATEGIES", "AcdError", "AgentCounters", "AgentState", "Announce", "Decision", "Engine",
    "Exit", "MemberConfig", "Offer", "Overflow", "QueueConfig", "QueueCounters",
    "QueueLogEvent", "RingAll", "Schedule", "SkillReq", "Stats", "StopRinging", "Target",
]
