"""Every event the simulator sends is the documented ECMA-323 element with its documented fields.

The field lists below are copied from docs/csta-wire.md ("Events"); a run through every feature
must produce every event name, each with those children, on real monitors over the protocol.
"""

from __future__ import annotations

from lxml import etree

from simulators.scenarios import ScenarioRunner, parse_scenario

NS = "http://www.ecma-international.org/standards/ecma-323/csta/ed4"

DOCUMENTED = {
    "ServiceInitiatedEvent": "initiatedConnection initiatingDevice localConnectionInfo cause",
    "OriginatedEvent": "originatedConnection callingDevice calledDevice localConnectionInfo cause",
    "DeliveredEvent": "connection alertingDevice callingDevice calledDevice "
                      "lastRedirectionDevice localConnectionInfo cause",
    "EstablishedEvent": "establishedConnection answeringDevice callingDevice calledDevice "
                        "lastRedirectionDevice localConnectionInfo cause",
    "HeldEvent": "heldConnection holdingDevice",
    "RetrievedEvent": "retrievedConnection retrievingDevice",
    "ConnectionClearedEvent": "droppedConnection releasingDevice localConnectionInfo cause",
    "CallClearedEvent": "clearedCall cause",
    "TransferedEvent": "primaryOldCall transferringDevice transferredToDevice "
                       "transferredConnections cause",
    "ConferencedEvent": "primaryOldCall conferencingDevice addedParty conferenceConnections cause",
    "DivertedEvent": "connection divertingDevice newDestination callingDevice calledDevice cause",
    "FailedEvent": "failedConnection failingDevice callingDevice calledDevice cause",
    "QueuedEvent": "queuedConnection queue callingDevice calledDevice numberQueued cause",
    "NetworkReachedEvent": "outboundConnection networkInterfaceUsed callingDevice calledDevice "
                           "cause",
    "DigitsDialedEvent": "dialingConnection dialingDevice dialingSequence",
    "AgentLoggedOnEvent": "agentDevice agentID",
    "AgentLoggedOffEvent": "agentDevice agentID",
    "AgentReadyEvent": "agentDevice agentID",
    "AgentNotReadyEvent": "agentDevice agentID",  # reasonCode when a reason was given
    "AgentWorkingAfterCallEvent": "agentDevice agentID",
    "AgentBusyEvent": "agentDevice agentID",
    "DoNotDisturbEvent": "device doNotDisturbOn",
    "ForwardingEvent": "device forwardingType forwardStatus forwardTo",
    "BackInServiceEvent": "device",
    "OutOfServiceEvent": "device",
}

EVERYTHING = """
login 1001 A1
ready 1001
call +4930111 -> 1001
answer 1001
digits 1001 42
hold 1001
retrieve 1001
consult 1001 1002
answer 1002
transfer 1001
call 1003 -> 1004
answer 1004
consult 1003 1005
answer 1005
conference 1003
listen 1009 1004
call +4930222 -> 6000
deflect 6000 1006
call 1007 -> 1006
hangup 1002
call 1008 -> 030123456
notready 1001 coffee
acw 1001
logout 1001
dnd 1001 on
forward 1001 immediate 1002
service 1001 out
service 1001 in
"""


def test_a_run_through_every_feature_sends_every_documented_event(switch, factory, make_peer):
    peer = make_peer(factory)
    peer.start_session()
    for number in list(switch.devices):
        peer.monitor(number)
    runner = ScenarioRunner(switch, parse_scenario(EVERYTHING), strict=True)
    runner.start()
    switch.clock.advance(0)
    assert runner.errors == []
    seen = set()
    for invoke, root in peer.frames():
        name = etree.QName(root).localname
        assert invoke == "9999", name
        assert root.tag == f"{{{NS}}}{name}"
        assert name in DOCUMENTED, name
        children = [etree.QName(child).localname for child in root]
        assert children[0] == "monitorCrossRefID"
        missing = set(DOCUMENTED[name].split()) - set(children)
        assert not missing, (name, missing)
        for connection in root.iter(f"{{{NS}}}callID"):
            assert connection.text.isdigit()
        seen.add(name)
    assert seen == set(DOCUMENTED)
