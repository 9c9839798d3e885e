"""The link layer of the serial CTI link: acknowledged, retransmitted, de-duplicated frames.

Symmetric (the PBX side runs the same rules, docs/serial-link-protocol.md), full duplex, one
unacknowledged frame per direction (stop and wait):

- every data frame is answered ``ACK seq`` (good, or a duplicate of the last one) or ``NAK``
  (garbled); a NAK makes the sender retransmit, at most `retries` times;
- a sender that hears nothing within `t1` sends ENQ, which asks the peer to repeat its last
  answer; that too counts as a try;
- a frame with the same sequence digit as the last one accepted is a retransmission whose ACK
  was lost: it is ACKed again and not delivered twice;
- a sender that runs out of tries gives the frame up, reports it, sends EOT (the peer forgets
  its last sequence number) and declares the link down; sequence numbers move on, never reuse;
- when the line is idle for `keepalive` seconds, ENQ probes the peer; `retries` unanswered
  probes mean the link is down; probing goes on and the first answer brings it back up.

With `keep_unacknowledged` (the PBX side, whose events must survive a pulled cable) nothing is
given up: past the retry limit the link goes down with the frame held, frames sent meanwhile
queue, and when the peer answers again the held frame is retransmitted (same sequence digit,
so a copy that did arrive is not delivered twice) and the queue drains.

Framing is frames.py; what the text means is the dialect's business. Time comes from the
injected clock, so every rule above is tested with task.Clock and StringTransport.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from twisted.internet import defer
from twisted.internet.interfaces import IDelayedCall, IReactorTime
from twisted.internet.protocol import Protocol
from twisted.python.failure import Failure

from drivers.base import LinkDown
from drivers.serial.frames import (
    ENQ_BYTES,
    EOT_BYTES,
    NAK_BYTES,
    Ack,
    BadFrame,
    Enq,
    Eot,
    Frame,
    FrameDecoder,
    Nak,
    Noise,
    encode_ack,
    encode_frame,
)


@dataclass
class LinkStats:
    """Counters a link keeps for diagnostics and for the fault-injection tests."""

    frames_sent: int = 0
    frames_received: int = 0
    retransmissions: int = 0
    duplicates: int = 0
    naks_sent: int = 0
    naks_received: int = 0
    bad_frames: int = 0
    noise_bytes: int = 0
    dropped_frames: int = 0
    dropped: list[str] = field(default_factory=list)
    """Texts of frames given up after the retry limit, oldest first (last 100)."""


@dataclass
class _Outgoing:
    text: str
    done: defer.Deferred
    seq: int = -1
    data: bytes = b""
    tries: int = 0


class LinkProtocol(Protocol):
    """One end of a serial CTI link. `deliver(text)` gets each new frame's text, in order."""

    def __init__(
        self,
        deliver: Callable[[str], None],
        clock: IReactorTime,
        *,
        t1: float = 2.0,
        retries: int = 4,
        keepalive: float = 30.0,
        on_state: Callable[[bool], None] | None = None,
        report: Callable[[str], None] | None = None,
        keep_unacknowledged: bool = False,
    ) -> None:
        self.deliver = deliver
        self.clock = clock
        self.t1 = t1
        self.retries = retries
        self.keepalive = keepalive
        self.on_state = on_state or (lambda up: None)
        self.report = report or (lambda message: None)
        self.keep_unacknowledged = keep_unacknowledged
        self.stats = LinkStats()
        self.up = False
        self._decoder = FrameDecoder()
        self._queue: deque[_Outgoing] = deque()
        self._outstanding: _Outgoing | None = None
        self._next_seq = 0
        self._last_accepted: int | None = None
        self._last_answer: bytes = NAK_BYTES
        self._t1_timer: IDelayedCall | None = None
        self._probe_timer: IDelayedCall | None = None
        self._probe_misses = 0
        self._closed = False

    @property
    def closed(self) -> bool:
        """The connection under this link is gone (a new LinkProtocol serves the next one)."""
        return self._closed

    @property
    def pending(self) -> int:
        """Frames sent or queued and not yet acknowledged."""
        return len(self._queue) + (self._outstanding is not None)

    # Sending.

    def send(self, text: str) -> defer.Deferred:
        """Queues one frame; fires when the peer ACKs it, fails with LinkDown if it never does."""
        try:
            encode_frame(0, text)
        except ValueError as exc:
            return defer.fail(exc)
        if self._closed or not (self.up or self.keep_unacknowledged):
            return defer.fail(LinkDown("link", "the serial link is down"))
        item = _Outgoing(text, defer.Deferred())
        self._queue.append(item)
        self._pump()
        return item.done

    def _pump(self) -> None:
        if self._outstanding is not None or not self._queue or self.transport is None:
            return
        if not self.up:
            return
        item = self._queue.popleft()
        item.seq = self._next_seq
        item.data = encode_frame(item.seq, item.text)
        self._next_seq = (self._next_seq + 1) % 10
        self._outstanding = item
        self.stats.frames_sent += 1
        self.transport.write(item.data)
        self._start_t1()

    def _start_t1(self) -> None:
        self._cancel("_t1_timer")
        self._t1_timer = self.clock.callLater(self.t1, self._t1_expired)

    def _t1_expired(self) -> None:
        self._t1_timer = None
        if self._another_try("no answer"):
            self.transport.write(ENQ_BYTES)
            self._start_t1()

    def _another_try(self, why: str) -> bool:
        """Counts a retry of the outstanding frame; gives it up past the limit."""
        item = self._outstanding
        if item is None:
            return False
        item.tries += 1
        if item.tries <= self.retries:
            return True
        if self.keep_unacknowledged:
            self._cancel("_t1_timer")
            self.report(f"frame {item.seq} unanswered after {self.retries} retries; held: {item.text!r}")
            self._go_down(f"frame {item.seq} not acknowledged")
            return False
        self._outstanding = None
        self._cancel("_t1_timer")
        self.stats.dropped_frames += 1
        self.stats.dropped = [*self.stats.dropped[-99:], item.text]
        self.report(f"gave up frame {item.seq} after {self.retries} retries ({why}): {item.text!r}")
        item.done.errback(LinkDown("link", f"frame not acknowledged after {self.retries} retries"))
        self.transport.write(EOT_BYTES)
        self._go_down(f"frame {item.seq} not acknowledged")
        return False

    # Receiving.

    def connectionMade(self) -> None:
        self._closed = False
        self.transport.write(ENQ_BYTES)
        self._schedule_probe(self.t1)

    def dataReceived(self, data: bytes) -> None:
        for unit in self._decoder.feed(data):
            if self._closed:
                return
            self._handle(unit)

    def _handle(self, unit: object) -> None:
        if isinstance(unit, Frame):
            self._heard()
            self._on_frame(unit)
        elif isinstance(unit, Ack):
            self._heard()
            item = self._outstanding
            if item is not None and unit.seq == item.seq:
                self._outstanding = None
                self._cancel("_t1_timer")
                item.done.callback(None)
                self._pump()
        elif isinstance(unit, Nak):
            was_up = self.up
            self._heard()  # coming back up retransmits a held frame already
            self.stats.naks_received += 1
            if was_up and self._outstanding is not None and self._another_try("NAK"):
                self.stats.retransmissions += 1
                self.transport.write(self._outstanding.data)
                self._start_t1()
        elif isinstance(unit, Enq):
            self._heard()
            self.transport.write(self._last_answer)
        elif isinstance(unit, Eot):
            self._last_accepted = None
        elif isinstance(unit, BadFrame):
            self.stats.bad_frames += 1
            self.stats.naks_sent += 1
            self._last_answer = NAK_BYTES
            self.transport.write(NAK_BYTES)
            self.report(f"discarded bad frame ({unit.reason}): {unit.data!r}")
        elif isinstance(unit, Noise):
            self.stats.noise_bytes += len(unit.data)
            self.report(f"discarded {len(unit.data)} noise bytes: {unit.data[:32]!r}")

    def _on_frame(self, frame: Frame) -> None:
        self._last_answer = encode_ack(frame.seq)
        self.transport.write(self._last_answer)
        if frame.seq == self._last_accepted:
            self.stats.duplicates += 1
            return
        self._last_accepted = frame.seq
        self.stats.frames_received += 1
        self.deliver(frame.text)

    # Link supervision.

    def _heard(self) -> None:
        self._probe_misses = 0
        if self.keepalive:
            self._schedule_probe(self.keepalive)
        else:
            self._cancel("_probe_timer")
        if not self.up:
            held = self._outstanding  # kept across the outage (keep_unacknowledged)
            self.up = True
            self.on_state(True)
            if held is not None:
                held.tries = 0
                self.stats.retransmissions += 1
                self.transport.write(held.data)
                self._start_t1()
            self._pump()

    def _schedule_probe(self, delay: float) -> None:
        self._cancel("_probe_timer")
        self._probe_timer = self.clock.callLater(delay, self._probe)

    def _probe(self) -> None:
        """Idle (or down): ENQ, and count it as missed unless something is heard within t1."""
        self._probe_timer = None
        self.transport.write(ENQ_BYTES)
        self._probe_timer = self.clock.callLater(self.t1, self._probe_missed)

    def _probe_missed(self) -> None:
        self._probe_timer = None
        self._probe_misses += 1
        if self.up and self._probe_misses > self.retries:
            self._go_down("no answer to ENQ")
        self._probe()

    def _go_down(self, why: str) -> None:
        self._fail_pending(why)
        if self.up:
            self.up = False
            self.report(f"link down: {why}")
            self.on_state(False)
        if not self._closed:
            self._schedule_probe(self.t1)

    def _fail_pending(self, why: str) -> None:
        self._cancel("_t1_timer")
        if self.keep_unacknowledged and not self._closed:
            return
        pending = [self._outstanding, *self._queue] if self._outstanding else [*self._queue]
        self._outstanding = None
        self._queue.clear()
        for item in pending:
            item.done.errback(LinkDown("link", f"link down ({why})"))

    def connectionLost(self, reason: Failure | None = None) -> None:
        self._closed = True
        self._cancel("_probe_timer")
        self._go_down("connection lost")

    def stop(self) -> None:
        """Graceful end: EOT tells the peer to forget our sequence, then close."""
        if self.transport is not None and not self._closed:
            self.transport.write(EOT_BYTES)
            self.transport.loseConnection()

    def _cancel(self, name: str) -> None:
        timer = getattr(self, name)
        if timer is not None and timer.active():
            timer.cancel()
        setattr(self, name, None)
