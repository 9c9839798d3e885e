"""The simulated line between the PBX's link layer and the real byte pipe (pty or TCP).

A pty (or loopback TCP) moves bytes as fast as the kernel can, whatever baud rate the driver
sets, so the line paces them: each direction carries baud / 10 bytes per second (8N1: start
bit, 8 data bits, stop bit), and bytes arrive when their last bit would have. It also injects
faults at a fixed seed, in both directions, so a run is repeatable:

- ``noise``: per byte, the chance of a stray byte being inserted after it;
- ``drop``: per byte, the chance it is lost;
- ``checksum``: per frame the PBX sends, the chance a BCC digit is wrong;
- ``silence``: mean seconds between silent spells (nothing passes either way for
  ``silence_for`` seconds);
- ``disconnect``: mean seconds between disconnects (TCP: the connection is closed; a pty
  cannot be unplugged, so it goes silent for ``silence_for`` and then says EOT, as a PBX
  restarting its link).

The line sits between a real transport and the protocol: it is the protocol of the one and
the transport of the other, and it forwards the transport calls the link layer makes.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any

from twisted.internet.interfaces import IDelayedCall, IReactorTime
from twisted.internet.protocol import Protocol
from twisted.python.failure import Failure

from drivers.serial.frames import EOT_BYTES

STX = 0x02
ETX = 0x03
_CONTROL = frozenset({0x02, 0x03, 0x04, 0x05, 0x06, 0x15})
NOISE_BYTES = bytes(b for b in range(256) if b not in _CONTROL)
"""Stray bytes a line hit produces: anything but the link's own control bytes (an ENQ or
ACK from nowhere would be a different fault)."""


@dataclass(frozen=True)
class Faults:
    noise: float = 0.0
    drop: float = 0.0
    checksum: float = 0.0
    silence: float = 0.0
    silence_for: float = 1.0
    disconnect: float = 0.0

    @property
    def any(self) -> bool:
        return any((self.noise, self.drop, self.checksum, self.silence, self.disconnect))


NO_FAULTS = Faults()


def parse_faults(text: str) -> Faults:
    """``noise=0.01,drop=0.001,checksum=0.01,silence=30,silence_for=2,disconnect=120``."""
    known = {f.name for f in fields(Faults)}
    values: dict[str, float] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        key, sep, value = item.partition("=")
        if not sep or key not in known:
            raise ValueError(f"expected KEY=VALUE with KEY one of {', '.join(sorted(known))}, "
                             f"got {item!r}")
        try:
            number = float(value)
        except ValueError:
            raise ValueError(f"{key} must be a number, got {value!r}") from None
        if not 0 <= number < float("inf"):
            raise ValueError(f"{key} must be zero or more, got {value!r}")
        if key in ("noise", "drop", "checksum") and number > 1:
            raise ValueError(f"{key} is a probability (0..1), got {value!r}")
        values[key] = number
    return Faults(**values)


@dataclass
class LineStats:
    noise_bytes: int = 0
    dropped_bytes: int = 0
    bad_checksums: int = 0
    silences: int = 0
    disconnects: int = 0
    silenced_bytes: int = 0


class _Direction:
    """One direction of the line: bytes queue and come out at their paced arrival time."""

    def __init__(self, clock: IReactorTime, bytes_per_second: float | None,
                 emit: Callable[[bytes], None]) -> None:
        self.clock = clock
        self.rate = bytes_per_second
        self.emit = emit
        self.free_at = 0.0
        self.queue: deque[tuple[float, bytes]] = deque()
        self.timer: IDelayedCall | None = None
        self.on_drained: Callable[[], None] | None = None

    def push(self, data: bytes) -> None:
        if not data:
            return
        if self.rate is None:
            self.emit(data)
            return
        now = self.clock.seconds()
        self.free_at = max(now, self.free_at) + len(data) / self.rate
        self.queue.append((self.free_at, data))
        if self.timer is None:
            self.timer = self.clock.callLater(self.free_at - now, self._release)

    def _release(self) -> None:
        self.timer = None
        now = self.clock.seconds()
        due = []
        while self.queue and self.queue[0][0] <= now + 1e-6:
            due.append(self.queue.popleft()[1])
        if due:
            self.emit(b"".join(due))
        if not self.queue and self.on_drained is not None:
            drained, self.on_drained = self.on_drained, None
            drained()
        elif self.queue and self.timer is None:
            self.timer = self.clock.callLater(max(0.0, self.queue[0][0] - now), self._release)

    def stop(self) -> None:
        if self.timer is not None and self.timer.active():
            self.timer.cancel()
        self.timer = None
        self.queue.clear()


class SimulatedLine(Protocol):
    """Paces and disturbs the bytes between `link` (the PBX's link layer) and the transport.

    `baud` None means unpaced. `seed` fixes every random choice: the same byte stream gets the
    same faults (a run's stream itself can vary with timing, e.g. how many ENQ probes it holds).
    """

    def __init__(self, link: Protocol, clock: IReactorTime, *, baud: int | None = 115200,
                 faults: Faults = NO_FAULTS, seed: int | None = 0, can_disconnect: bool = True) -> None:
        self.link = link
        self.clock = clock
        self.baud = baud
        self.faults = faults
        self.random = random.Random(seed)
        self.can_disconnect = can_disconnect
        self.stats = LineStats()
        self.disconnecting = False
        rate = baud / 10 if baud else None
        self._out = _Direction(clock, rate, self._to_wire)
        self._in = _Direction(clock, rate, self._to_link)
        self._silent_until = 0.0
        self._timers: dict[str, IDelayedCall] = {}
        self._lost = False

    # The link layer's transport.

    def write(self, data: bytes) -> None:
        if self._lost:
            return
        if data[:1] == bytes([STX]) and self._chance(self.faults.checksum):
            data = self._bad_checksum(data)
        self._out.push(self._disturb(data))

    def writeSequence(self, data: list[bytes]) -> None:
        self.write(b"".join(data))

    def loseConnection(self) -> None:
        """Closes once the bytes still on the line (a goodbye EOT) have gone out."""
        self.disconnecting = True
        if self._out.queue:
            self._out.on_drained = self._close_now
        else:
            self._close_now()

    def _close_now(self) -> None:
        if self.transport is not None:
            self.transport.loseConnection()

    def getPeer(self) -> Any:
        return self.transport.getPeer()

    def getHost(self) -> Any:
        return self.transport.getHost()

    # Faults on demand.

    def silence(self, seconds: float) -> None:
        """Nothing passes either way for `seconds` (a cable pulled and plugged back)."""
        self.stats.silences += 1
        self._silent_until = max(self._silent_until, self.clock.seconds() + seconds)

    def disconnect(self) -> None:
        """TCP: close the connection. A pty: a silent spell, then EOT (a PBX link restart)."""
        self.stats.disconnects += 1
        if self.can_disconnect:
            self.disconnecting = True
            self._close_now()  # abrupt: what is still on the line is lost
            return
        self.silence(self.faults.silence_for)
        self._after(self.faults.silence_for + 0.001, "eot", self._send_eot)

    def _send_eot(self) -> None:
        self._out.push(EOT_BYTES)

    # The transport's protocol.

    def connectionMade(self) -> None:
        self._schedule("silence", self.faults.silence, self._silence_spell)
        self._schedule("disconnect", self.faults.disconnect, self._disconnect_spell)
        self.link.makeConnection(self)

    def dataReceived(self, data: bytes) -> None:
        self._in.push(self._disturb(data))

    def connectionLost(self, reason: Failure | None = None) -> None:
        self._lost = True
        self._out.stop()
        self._in.stop()
        for timer in self._timers.values():
            if timer.active():
                timer.cancel()
        self._timers.clear()
        self.link.connectionLost(reason)

    # Internals.

    def _to_wire(self, data: bytes) -> None:
        if self._silent(data) and not self._lost:
            self.transport.write(data)

    def _to_link(self, data: bytes) -> None:
        if self._silent(data) and not self._lost:
            self.link.dataReceived(data)

    def _silent(self, data: bytes) -> bool:
        """True when the bytes may pass (counted as lost during a silent spell)."""
        if self.clock.seconds() < self._silent_until:
            self.stats.silenced_bytes += len(data)
            return False
        return True

    def _disturb(self, data: bytes) -> bytes:
        noise, drop = self.faults.noise, self.faults.drop
        if not (noise or drop):
            return data
        out = bytearray()
        for byte in data:
            if drop and self.random.random() < drop:
                self.stats.dropped_bytes += 1
            else:
                out.append(byte)
            if noise and self.random.random() < noise:
                self.stats.noise_bytes += 1
                out.append(self.random.choice(NOISE_BYTES))
        return bytes(out)

    def _bad_checksum(self, frame: bytes) -> bytes:
        if len(frame) < 3 or frame[-3] != ETX:
            return frame
        self.stats.bad_checksums += 1
        digit = frame[-1:]
        wrong = self.random.choice([d for d in b"0123456789ABCDEF" if d != digit[0]])
        return frame[:-1] + bytes([wrong])

    def _chance(self, probability: float) -> bool:
        return bool(probability) and self.random.random() < probability

    def _schedule(self, name: str, mean: float, action: Callable[[], None]) -> None:
        if mean > 0:
            self._after(self.random.expovariate(1 / mean), name, action)

    def _after(self, delay: float, name: str, action: Callable[[], None]) -> None:
        def fire() -> None:
            self._timers.pop(name, None)
            action()

        old = self._timers.pop(name, None)
        if old is not None and old.active():
            old.cancel()
        self._timers[name] = self.clock.callLater(delay, fire)

    def _silence_spell(self) -> None:
        self.silence(self.faults.silence_for)
        self._schedule("silence", self.faults.silence, self._silence_spell)

    def _disconnect_spell(self) -> None:
        self.disconnect()
        if not self._lost:
            self._schedule("disconnect", self.faults.disconnect, self._disconnect_spell)
