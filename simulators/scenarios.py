"""Scripted scenarios: a small line-based file of timed actions run against the switch.

The format is documented in docs/simulator-scenarios.md; in short, one action per line,
optionally preceded by a time: ``2.5`` (seconds from the start), ``+1`` (after the previous
line) or nothing (at the previous line's time)::

    0    call +4930123456 -> 1001
    +2   answer 1001
    +5   consult 1001 1002
    wait 1
         answer 1002
    +3   transfer 1001
    +10  hangup 1002

Parsing is a pure function (`parse_scenario`), so a bad file is reported with its line number
before anything runs; `ScenarioRunner` then schedules the steps on the switch's clock.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from twisted.internet import defer
from twisted.logger import Logger

from simulators.pbx.errors import SwitchError
from simulators.pbx.handsets import Handsets
from simulators.pbx.model import FORWARD_BUSY, FORWARD_IMMEDIATE, FORWARD_NO_ANSWER
from simulators.pbx.switch import Switch

log = Logger()

FORWARD_KINDS = {
    "immediate": FORWARD_IMMEDIATE, "busy": FORWARD_BUSY, "noanswer": FORWARD_NO_ANSWER,
}


class ScenarioError(ValueError):
    """A scenario line that cannot be understood, or (strict runs) that the switch refused."""


@dataclass(frozen=True, slots=True)
class Step:
    time: float
    action: str
    args: tuple[str, ...]
    line: int


def _device_count(low: int, high: int | None = None) -> Callable[[tuple[str, ...]], bool]:
    high = low if high is None else high
    return lambda args: low <= len(args) <= high


# action -> (argument check, usage) ; the runner has a method per action.
ACTIONS: dict[str, tuple[Callable[[tuple[str, ...]], bool], str]] = {
    "call": (_device_count(2), "call CALLER -> CALLED"),
    "answer": (_device_count(1), "answer DEVICE"),
    "hangup": (_device_count(1), "hangup DEVICE"),
    "hold": (_device_count(1), "hold DEVICE"),
    "retrieve": (_device_count(1), "retrieve DEVICE"),
    "consult": (_device_count(2), "consult DEVICE TARGET"),
    "transfer": (_device_count(1), "transfer DEVICE"),
    "conference": (_device_count(1), "conference DEVICE"),
    "alternate": (_device_count(1), "alternate DEVICE"),
    "reconnect": (_device_count(1), "reconnect DEVICE"),
    "deflect": (_device_count(2), "deflect DEVICE TARGET"),
    "sst": (_device_count(2), "sst DEVICE TARGET"),
    "listen": (_device_count(2), "listen SUPERVISOR DEVICE"),
    "whisper": (_device_count(2), "whisper SUPERVISOR DEVICE"),
    "barge": (_device_count(2), "barge SUPERVISOR DEVICE"),
    "digits": (_device_count(2), "digits DEVICE DIGITS"),
    "login": (_device_count(2, 3), "login DEVICE AGENT [PASSWORD]"),
    "logout": (_device_count(1), "logout DEVICE"),
    "ready": (_device_count(1), "ready DEVICE"),
    "notready": (_device_count(1, 2), "notready DEVICE [REASON]"),
    "acw": (_device_count(1), "acw DEVICE"),
    "dnd": (lambda a: len(a) == 2 and a[1] in ("on", "off"), "dnd DEVICE on|off"),
    "forward": (
        lambda a: len(a) == 3 and a[1] in FORWARD_KINDS,
        "forward DEVICE immediate|busy|noanswer TARGET|off",
    ),
    "service": (lambda a: len(a) == 2 and a[1] in ("in", "out"), "service DEVICE in|out"),
    "expect": (_device_count(2), "expect DEVICE STATE  (STATE: idle or a connection state)"),
}


def _parse_time(token: str, previous: float, line: int) -> float | None:
    """The step time a leading token gives, or None when the token is not a time."""
    relative = token.startswith("+")
    number = token[1:] if relative else token
    try:
        value = float(number)
    except ValueError:
        return None
    if value < 0 or value != value or value == float("inf"):
        raise ScenarioError(f"line {line}: bad time {token!r}")
    if relative:
        return previous + value
    if value < previous:
        raise ScenarioError(f"line {line}: time {token} goes back before {previous:g}")
    return value


def parse_scenario(text: str) -> list[Step]:
    """Steps in time order; raises ScenarioError naming the first bad line."""
    steps: list[Step] = []
    now = 0.0
    for number, raw in enumerate(text.splitlines(), start=1):
        tokens = raw.split("#", 1)[0].split()
        if not tokens:
            continue
        when = _parse_time(tokens[0], now, number)
        if when is not None:
            now = when
            tokens = tokens[1:]
            if not tokens:
                raise ScenarioError(f"line {number}: a time with no action")
        action, args = tokens[0].lower(), tuple(t for t in tokens[1:] if t != "->")
        if action == "wait":
            delay = _parse_time("+" + args[0], now, number) if len(args) == 1 else None
            if delay is None:
                raise ScenarioError(f"line {number}: usage: wait SECONDS")
            now = delay
            continue
        if action not in ACTIONS:
            raise ScenarioError(f"line {number}: unknown action {action!r} "
                                f"(one of: wait, {', '.join(ACTIONS)})")
        check, usage = ACTIONS[action]
        if not check(args):
            raise ScenarioError(f"line {number}: usage: {usage}")
        steps.append(Step(now, action, args, number))
    return steps


def load_scenario(path: str) -> list[Step]:
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except OSError as exc:
        raise ScenarioError(f"cannot read scenario {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ScenarioError(f"scenario {path} is not UTF-8 text") from None
    return parse_scenario(text)


class ScenarioRunner:
    """Runs steps on the switch at their times (relative to `start`).

    A step the switch refuses is logged and recorded in `errors` (line, message) and the run
    goes on, as a person at a phone would carry on; with `strict` the run stops and `done`
    fails with ScenarioError instead.
    """

    def __init__(self, switch: Switch, steps: list[Step], strict: bool = False) -> None:
        self.switch = switch
        self.phones = Handsets(switch)
        self.steps = steps
        self.strict = strict
        self.errors: list[tuple[int, str]] = []
        self.done: defer.Deferred[None] = defer.Deferred()
        self._index = 0
        self._started = 0.0
        self._timer: Any = None

    def start(self) -> defer.Deferred[None]:
        self._started = self.switch.clock.seconds()
        self._schedule()
        return self.done

    def stop(self) -> None:
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None
        if not self.done.called:
            self.done.callback(None)

    def _schedule(self) -> None:
        if self._index >= len(self.steps):
            self._timer = None
            if not self.done.called:
                self.done.callback(None)
            return
        clock = self.switch.clock
        delay = self._started + self.steps[self._index].time - clock.seconds()
        self._timer = clock.callLater(max(0.0, delay), self._run_due)

    def _run_due(self) -> None:
        self._timer = None
        elapsed = self.switch.clock.seconds() - self._started
        while self._index < len(self.steps) and self.steps[self._index].time <= elapsed + 1e-9:
            step = self.steps[self._index]
            self._index += 1
            try:
                self.run_step(step)
            except (SwitchError, ScenarioError) as exc:
                message = f"line {step.line}: {step.action} {' '.join(step.args)}: {exc}"
                self.errors.append((step.line, str(exc)))
                log.warn("scenario {message}", message=message)
                if self.strict:
                    self.done.errback(ScenarioError(message))
                    return
        self._schedule()

    def run_step(self, step: Step) -> None:
        getattr(self, "_do_" + step.action)(*step.args)

    def _do_call(self, caller: str, called: str) -> None:
        self.phones.call(caller, called)

    def _do_answer(self, device: str) -> None:
        self.phones.answer(device)

    def _do_hangup(self, device: str) -> None:
        self.phones.hangup(device)

    def _do_hold(self, device: str) -> None:
        self.phones.hold(device)

    def _do_retrieve(self, device: str) -> None:
        self.phones.retrieve(device)

    def _do_consult(self, device: str, target: str) -> None:
        self.phones.consult(device, target)

    def _do_transfer(self, device: str) -> None:
        self.phones.transfer(device)

    def _do_conference(self, device: str) -> None:
        self.phones.conference(device)

    def _do_alternate(self, device: str) -> None:
        self.phones.alternate(device)

    def _do_reconnect(self, device: str) -> None:
        self.phones.reconnect(device)

    def _do_deflect(self, device: str, target: str) -> None:
        self.phones.deflect(device, target)

    def _do_sst(self, device: str, target: str) -> None:
        self.phones.single_step_transfer(device, target)

    def _do_listen(self, supervisor: str, device: str) -> None:
        self.phones.join(supervisor, device, "silent")

    def _do_whisper(self, supervisor: str, device: str) -> None:
        self.phones.join(supervisor, device, "whisper")

    def _do_barge(self, supervisor: str, device: str) -> None:
        self.phones.join(supervisor, device, "active")

    def _do_digits(self, device: str, digits: str) -> None:
        self.phones.digits(device, digits)

    def _do_login(self, device: str, agent: str, password: str | None = None) -> None:
        self.switch.set_agent_state(device, "loggedOn", agent_id=agent, password=password)

    def _do_logout(self, device: str) -> None:
        self.switch.set_agent_state(device, "loggedOff")

    def _do_ready(self, device: str) -> None:
        self.switch.set_agent_state(device, "ready")

    def _do_notready(self, device: str, reason: str | None = None) -> None:
        self.switch.set_agent_state(device, "notReady", reason=reason)

    def _do_acw(self, device: str) -> None:
        self.switch.set_agent_state(device, "workingAfterCall")

    def _do_dnd(self, device: str, state: str) -> None:
        self.switch.set_do_not_disturb(device, state == "on")

    def _do_forward(self, device: str, kind: str, target: str) -> None:
        off = target == "off"
        self.switch.set_forwarding(device, FORWARD_KINDS[kind], None if off else target, not off)

    def _do_service(self, device: str, state: str) -> None:
        self.switch.set_in_service(device, state == "in")

    def _do_expect(self, device: str, state: str) -> None:
        states = sorted(c.state for c in self.phones.connections(device))
        if (state == "idle" and states) or (state != "idle" and state not in states):
            raise ScenarioError(f"expected {device} {state}, it is {', '.join(states) or 'idle'}")
