"""The serial front-end speaks the PBX side of the link: requests executed on the switch,
responses before the events they cause, events for monitored devices only, refusals with the
documented error codes, nothing lost while the line is down. StringTransport and task.Clock."""

from __future__ import annotations

import pytest
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport

from drivers.serial.frames import (
    ENQ_BYTES,
    EOT_BYTES,
    NAK_BYTES,
    Frame,
    FrameDecoder,
    encode_ack,
    encode_frame,
)
from simulators.pbx import Handsets, Switch
from simulators.serial.frontend import SerialFrontEnd, SerialServerFactory


class Host:
    """The host end of one connection: sends requests, ACKs every PBX frame, keeps texts."""

    def __init__(self, front: SerialFrontEnd, *, ack: bool = True) -> None:
        self.line = SerialServerFactory(front).buildProtocol(None)
        self.transport = StringTransport()
        self.line.makeConnection(self.transport)
        self.decoder = FrameDecoder()
        self.texts: list[str] = []
        self.units: list[object] = []
        self.ack = ack
        self.seq = 0
        self.line.dataReceived(NAK_BYTES)  # answer the PBX's opening ENQ: the link is up

    def pump(self) -> list[str]:
        """Reads what the PBX wrote (ACKing frames, which lets the next one out)."""
        while True:
            data = self.transport.value()
            self.transport.clear()
            if not data:
                break
            for unit in self.decoder.feed(data):
                self.units.append(unit)
                if isinstance(unit, Frame):
                    self.texts.append(unit.text)
                    if self.ack:
                        self.line.dataReceived(encode_ack(unit.seq))
        texts, self.texts = self.texts, []
        return texts

    def request(self, text: str) -> list[str]:
        self.line.dataReceived(encode_frame(self.seq, text))
        self.seq = (self.seq + 1) % 10
        return self.pump()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def switch(clock: Clock) -> Switch:
    pbx = Switch(clock, external_answer_seconds=None)
    pbx.add_extensions(str(n) for n in range(1001, 1010))
    pbx.add_trunks(["8001"])
    return pbx


@pytest.fixture
def front(switch: Switch, clock: Clock):
    made = SerialFrontEnd(switch, clock, baud=None, t1=1.0, keepalive=0)
    yield made
    made.close()
    switch.close()


def test_opening_enq_then_requests_are_acknowledged_and_answered(front: SerialFrontEnd):
    host = Host(front)
    assert host.transport.value() == ENQ_BYTES  # whoever opens the line first asks
    host.transport.clear()
    host.line.dataReceived(encode_frame(0, "QMON;I=1;D=1001"))
    assert host.transport.value().startswith(encode_ack(0))
    assert host.pump() == ["PMON;I=1"]
    assert front.monitored == {"1001"}


def test_inbound_call_events_for_monitored_device(front: SerialFrontEnd, switch: Switch):
    host = Host(front)
    host.request("QMON;I=1;D=1001")
    phones = Handsets(switch)
    call = phones.call("+4930123456", "1001")
    assert host.pump() == [f"ERNG;C={call};D=1001;A=+4930123456;B=1001"]
    phones.answer("1001")
    assert host.pump() == [f"EANS;C={call};D=1001;A=+4930123456;B=1001"]
    phones.hangup("1001")
    assert host.pump() == [
        f"EREL;C={call};D=1001;A=+4930123456;B=1001;X=normalClearing",
        f"EEND;C={call};A=+4930123456;B=1001;X=normalClearing",
    ]


def test_unmonitored_devices_stay_silent(front: SerialFrontEnd, switch: Switch):
    host = Host(front)
    host.request("QMON;I=1;D=1001")
    Handsets(switch).call("+4930123456", "1002")
    assert host.pump() == []


def test_make_call_response_precedes_its_events(front: SerialFrontEnd, switch: Switch):
    host = Host(front)
    host.request("QMON;I=1;D=1001")
    texts = host.request("QMAK;I=2;D=1001;B=1002")
    assert texts[0] == "PMAK;I=2;C=1"
    assert texts[1:] == ["EORG;C=1;D=1001;A=1001;B=1002", "ERNG;C=1;D=1002;A=1001;B=1002"]
    assert switch.snapshot_call("1") == [("1001", "connected"), ("1002", "alerting")]


def test_hold_consult_transfer_through_requests(front: SerialFrontEnd, switch: Switch):
    host = Host(front)
    host.request("QMON;I=1;D=1001")
    host.request("QMON;I=2;D=1002")
    phones = Handsets(switch)
    first = phones.call("+4930123456", "1001")
    host.request(f"QANS;I=3;C={first};D=1001")
    assert host.request(f"QHLD;I=4;C={first};D=1001")[:2] == [
        "PHLD;I=4", f"EHLD;C={first};D=1001;A=+4930123456;B=1001"]
    assert host.request(f"QRET;I=5;C={first};D=1001")[0] == "PRET;I=5"
    consult = host.request(f"QCON;I=6;C={first};D=1001;B=1002")
    second = consult[0].split("C=")[1]
    assert consult[0] == f"PCON;I=6;C={second}"
    host.request(f"QANS;I=7;C={second};D=1002")
    texts = host.request(f"QXFR;I=8;H={first};C={second};D=1001")
    new = texts[0].split("C=")[1]
    assert texts[0] == f"PXFR;I=8;C={new}"
    assert f"EXFR;C={new};D=1001;A=+4930123456;B=1002;O={first},{second};T=1002" in texts
    assert sorted(switch.snapshot_call(new)) == [("+4930123456", "connected"),
                                                 ("1002", "connected")]


@pytest.mark.parametrize(
    ("request_text", "answer"),
    [
        ("QANS;I=9;C=999;D=1001", "NANS;I=9;X=INVALID_CALL"),
        ("QMON;I=9;D=4711", "NMON;I=9;X=INVALID_DEVICE"),
        ("QMAK;I=9;D=1001", "NMAK;I=9;X=INVALID_DEVICE"),
        ("QHLD;I=9;C=1;D=1003", "NHLD;I=9;X=INVALID_CALL"),
        ("QAGT;I=9;D=1001;S=ZZ", "NAGT;I=9;X=NOT_SUPPORTED"),
        ("QAGT;I=9;D=1001;S=RD", "NAGT;I=9;X=INVALID_STATE"),
        ("QZZZ;I=9;D=1001", "NZZZ;I=9;X=NOT_SUPPORTED"),
    ],
)
def test_refusals_carry_the_documented_error_codes(front, switch, request_text, answer):
    host = Host(front)
    Handsets(switch).call("+4930123456", "1002")
    (text,) = host.request(request_text)
    assert text.startswith(answer + ";R=")
    assert len(text) > len(answer) + 3  # a reason for people


def test_answer_without_request_kind_is_ignored_and_link_goes_on(front: SerialFrontEnd):
    host = Host(front)
    assert host.request("PMON;I=1") == []
    assert host.request("garbage") == []
    assert host.request("QMON;I=2;D=1001") == ["PMON;I=2"]


def test_agent_requests_and_events(front: SerialFrontEnd, switch: Switch):
    host = Host(front)
    host.request("QMON;I=1;D=1005")
    assert host.request("QAGT;I=2;D=1005;S=LI;G=4711") == ["PAGT;I=2", "EALI;D=1005;G=4711"]
    assert host.request("QAGT;I=3;D=1005;S=RD") == ["PAGT;I=3", "EARD;D=1005;G=4711"]
    assert host.request("QAGT;I=4;D=1005;S=NR;R=12") == ["PAGT;I=4", "EANR;D=1005;G=4711;R=12"]
    assert host.request("QAGT;I=5;D=1005;S=LO") == ["PAGT;I=5", "EALO;D=1005;G=4711"]
    assert switch.agent_state("1005") is None


def test_snapshots(front: SerialFrontEnd, switch: Switch):
    host = Host(front)
    phones = Handsets(switch)
    call = phones.call("+4930123456", "1001")
    phones.answer("1001")
    assert host.request("QSNP;I=1;D=1001") == [f"PSNP;I=1;P={call}:connected"]
    assert host.request(f"QSNC;I=2;C={call}") == [
        "PSNC;I=2;P=+4930123456:connected,1001:connected"]


def test_monitor_stop(front: SerialFrontEnd, switch: Switch):
    host = Host(front)
    host.request("QMON;I=1;D=1001")
    assert host.request("QMOF;I=2;D=1001") == ["PMOF;I=2"]
    Handsets(switch).call("+4930123456", "1001")
    assert host.pump() == []


def test_nak_makes_the_pbx_retransmit_the_same_frame(front: SerialFrontEnd, switch: Switch):
    host = Host(front, ack=False)
    host.line.dataReceived(encode_frame(0, "QMON;I=1;D=1001"))
    host.pump()
    first = [u for u in host.units if isinstance(u, Frame)]
    host.line.dataReceived(NAK_BYTES)
    host.pump()
    again = [u for u in host.units if isinstance(u, Frame)]
    assert again == first * 2 and first[0].text == "PMON;I=1"
    assert front.link.stats.retransmissions == 1


def test_events_survive_a_dead_host_and_go_out_when_it_answers(front, switch, clock):
    host = Host(front, ack=False)
    host.request("QMON;I=1;D=1001")
    phones = Handsets(switch)
    call = phones.call("+4930123456", "1001")
    phones.answer("1001")
    for _ in range(20):  # the host is gone: T1 expiries, the link goes down, probing goes on
        clock.advance(1.0)
    assert not front.link.up
    host.transport.clear()
    host.ack = True
    host.line.dataReceived(NAK_BYTES)  # the host is back
    texts = host.pump()
    assert texts == ["PMON;I=1", f"ERNG;C={call};D=1001;A=+4930123456;B=1001",
                     f"EANS;C={call};D=1001;A=+4930123456;B=1001"]


def test_events_of_a_dropped_connection_go_out_on_the_next(front, switch):
    host = Host(front, ack=False)
    host.request("QMON;I=1;D=1001")
    call = Handsets(switch).call("+4930123456", "1001")
    host.line.connectionLost(None)
    assert front.link is None
    Handsets(switch).answer("1001")
    again = Host(front)
    assert again.pump() == ["PMON;I=1", f"ERNG;C={call};D=1001;A=+4930123456;B=1001",
                            f"EANS;C={call};D=1001;A=+4930123456;B=1001"]


def test_a_second_connection_replaces_the_first_and_gets_its_unsent_events(front, switch):
    first = Host(front, ack=False)
    first.request("QMON;I=1;D=1001")
    call = Handsets(switch).call("+4930123456", "1001")
    second = Host(front)
    assert first.transport.disconnecting
    first.line.connectionLost(None)  # the old connection's close is reported later
    assert second.pump() == ["PMON;I=1", f"ERNG;C={call};D=1001;A=+4930123456;B=1001"]


def test_eot_from_host_resets_sequence(front):
    host = Host(front)
    host.request("QMON;I=1;D=1001")
    host.line.dataReceived(EOT_BYTES)
    host.seq = 0
    assert host.request("QMON;I=2;D=1002") == ["PMON;I=2"]


def test_conference_keeps_the_active_call_and_names_the_held_one(front, switch):
    host = Host(front)
    host.request("QMON;I=1;D=1001")
    phones = Handsets(switch)
    first = phones.call("+4930123456", "1001")
    phones.answer("1001")
    second = phones.consult("1001", "1002")
    phones.answer("1002")
    host.pump()
    texts = host.request(f"QCNF;I=2;H={first};C={second};D=1001")
    assert texts[0] == f"PCNF;I=2;C={second}"
    assert texts[1] == f"ECNF;C={second};D=1001;A=1001;B=1002;O={first};T=1002"
    assert sorted(d for d, _ in switch.snapshot_call(second)) == ["+4930123456", "1001", "1002"]


def test_deflect_and_clear_call(front, switch):
    host = Host(front)
    host.request("QMON;I=1;D=1003")
    call = Handsets(switch).call("+4930123456", "1001")
    assert host.request(f"QDFL;I=2;C={call};D=1001;T=1003") == [
        "PDFL;I=2", f"ERNG;C={call};D=1003;A=+4930123456;B=1001"]
    texts = host.request(f"QCLR;I=3;C={call}")
    assert texts[0] == "PCLR;I=3" and texts[-1].startswith(f"EEND;C={call}")
    assert switch.calls == {}


def test_frame_bytes_are_counted_for_the_line_capacity(front, switch):
    Host(front).request("QMON;I=1;D=1001")
    Handsets(switch).call("+4930123456", "1001")
    assert front.events_sent == 1
    assert front.event_frame_bytes == len("ERNG;C=1;D=1001;A=+4930123456;B=1001") + 5
