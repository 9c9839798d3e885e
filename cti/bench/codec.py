"""`cti bench codec --json`: CSTA event decoding + number normalisation against bare lxml.

The unit is what the driver does for every event frame: parse the document with the hardened
parser, decode it into an Event, normalise its device identifiers. The baseline is a bare
``lxml.etree.fromstring`` of the very same bytes in the same run, so `ratio_to_lxml` holds on
a noisy machine. The mix: the real OpenScape frames from shared/samples (ServiceInitiated,
Originated, a pretty-printed Delivered with privateData) and simulator-style ed4 frames for
the events a call centre sees most.

Both measurements run in short back-to-back pairs of rounds timed in process CPU time, and the
median pair is reported: on a shared machine that keeps each ratio's two sides under the same
conditions, which a best-of-each would not.
"""

from __future__ import annotations

import os
import platform
import sys
import time
from collections.abc import Callable
from typing import Any

from lxml import etree

from cti.bench.machine import cpu_name
from cti.commands.args import ArgumentParser
from drivers.csta import codec
from drivers.csta.codec import build

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SAMPLE_DIRS = (
    os.path.join(os.path.dirname(ROOT), "shared", "samples", "csta"),
    os.path.join(ROOT, "tests", "drivers", "csta", "fixtures"),
)
SAMPLE_EVENTS = (
    "01-service-initiated-event.frame",
    "02-originated-event.frame",
    "03-delivered-event.xml",
)


def sample_frames() -> list[bytes]:
    """The real switch event documents (headers stripped), from shared/ or the test copies."""
    for directory in SAMPLE_DIRS:
        if all(os.path.exists(os.path.join(directory, name)) for name in SAMPLE_EVENTS):
            break
    else:
        raise FileNotFoundError("CSTA sample frames not found in " + " or ".join(SAMPLE_DIRS))
    bodies = []
    for name in SAMPLE_EVENTS:
        with open(os.path.join(directory, name), "rb") as handle:
            data = handle.read()
        bodies.append(data[8:] if name.endswith(".frame") else data)
    return bodies


def _conn(tag: str, call_id: str, device: str) -> tuple[str, Any]:
    return (tag, [("callID", call_id), ("deviceID", device)])


def _dev(tag: str, number: str) -> tuple[str, Any]:
    return (tag, [("deviceIdentifier", number)])


def simulator_frames() -> list[bytes]:
    """Plain ed4 events as the simulator writes them, one of each common kind."""
    redirection = ("lastRedirectionDevice", [("notRequired", [])])
    party = [_dev("callingDevice", "1001"), _dev("calledDevice", "1002")]
    frames = [
        build("DeliveredEvent", [
            ("monitorCrossRefID", "12"), _conn("connection", "4711", "1002"),
            _dev("alertingDevice", "1002"), *party, redirection,
            ("localConnectionInfo", "alerting"), ("cause", "newCall")]),
        build("EstablishedEvent", [
            ("monitorCrossRefID", "12"), _conn("establishedConnection", "4711", "1002"),
            _dev("answeringDevice", "1002"), *party, redirection,
            ("localConnectionInfo", "connected"), ("cause", "newCall")]),
        build("HeldEvent", [
            ("monitorCrossRefID", "11"), _conn("heldConnection", "4711", "1001"),
            _dev("holdingDevice", "1001"), ("localConnectionInfo", "hold"),
            ("cause", "newCall")]),
        build("RetrievedEvent", [
            ("monitorCrossRefID", "11"), _conn("retrievedConnection", "4711", "1001"),
            _dev("retrievingDevice", "1001"), ("localConnectionInfo", "connected"),
            ("cause", "newCall")]),
        build("ConnectionClearedEvent", [
            ("monitorCrossRefID", "12"), _conn("droppedConnection", "4711", "1002"),
            _dev("releasingDevice", "1002"), ("localConnectionInfo", "null"),
            ("cause", "normalClearing")]),
        build("TransferedEvent", [
            ("monitorCrossRefID", "13"), _conn("primaryOldCall", "4711", "1001"),
            _conn("secondaryOldCall", "4712", "1001"), _dev("transferringDevice", "1001"),
            _dev("transferredToDevice", "1003"),
            ("transferredConnections", [
                ("connectionListItem", [_conn("newConnection", "4713", "1002"),
                                        _conn("oldConnection", "4711", "1002")]),
                ("connectionListItem", [_conn("newConnection", "4713", "1003"),
                                        _conn("oldConnection", "4712", "1003")]),
            ]),
            ("localConnectionInfo", "connected"), ("cause", "transfer")]),
        build("ConferencedEvent", [
            ("monitorCrossRefID", "13"), _conn("primaryOldCall", "4711", "1001"),
            _conn("secondaryOldCall", "4712", "1001"), _dev("conferencingDevice", "1001"),
            _dev("addedParty", "1003"),
            ("conferenceConnections", [
                ("connectionListItem", [_conn("newConnection", "4712", number)])
                for number in ("1001", "1002", "1003")
            ]),
            ("localConnectionInfo", "connected"), ("cause", "conference")]),
        build("AgentReadyEvent", [
            ("monitorCrossRefID", "11"), _dev("agentDevice", "1001"), ("agentID", "A1001")]),
        build("AgentNotReadyEvent", [
            ("monitorCrossRefID", "11"), _dev("agentDevice", "1001"), ("agentID", "A1001"),
            ("reasonCode", "3")]),
    ]
    return frames


def _cpu_seconds(work: Callable[[], None]) -> float:
    started = time.process_time()
    work()
    return time.process_time() - started


def run(argv: list[str]) -> dict[str, Any]:
    parser = ArgumentParser(prog="cti bench codec")
    parser.add_argument("--seconds", type=float, default=4.0, help="total measuring time")
    parser.add_argument("--round-ms", type=float, default=20.0, help="length of one round")
    args = parser.parse_args(argv)

    samples = sample_frames()
    simulated = simulator_frames()
    # Mixed as a switch would send them: real frames and simulator frames interleaved.
    mix = [frame for pair in zip(simulated, samples * 3, strict=False) for frame in pair]
    decode = codec.decode_event_bytes
    fromstring = etree.fromstring
    for body in mix:  # every frame must decode, or the figure would be meaningless
        decode(body, 0.0)

    def decoding() -> None:
        now = time.time()
        for _ in range(batch):
            for body in mix:
                decode(body, now)

    def parsing() -> None:
        for _ in range(batch):
            for body in mix:
                fromstring(body)

    batch = 1
    batch = max(1, round(args.round_ms / 1000 / max(_cpu_seconds(decoding), 1e-6)))
    items = batch * len(mix)
    # Paired rounds, back to back and in alternating order, so that both sides of each pair
    # see the same machine; the median pair is reported (robust against other load).
    pairs: list[tuple[float, float]] = []
    deadline = time.process_time() + args.seconds
    while time.process_time() < deadline or len(pairs) < 5:
        if len(pairs) % 2:
            parse_time, decode_time = _cpu_seconds(parsing), _cpu_seconds(decoding)
        else:
            decode_time, parse_time = _cpu_seconds(decoding), _cpu_seconds(parsing)
        pairs.append((items / decode_time, items / parse_time))
    pairs.sort(key=lambda pair: pair[1] / pair[0])
    events_per_second, lxml_per_second = pairs[len(pairs) // 2]
    return {
        "events_per_second": round(events_per_second),
        "lxml_parse_per_second": round(lxml_per_second),
        "ratio_to_lxml": round(lxml_per_second / events_per_second, 3),
        "ratio_best_quartile": round(pairs[len(pairs) // 4][1] / pairs[len(pairs) // 4][0], 3),
        "ratio_worst_quartile": round(
            pairs[3 * len(pairs) // 4][1] / pairs[3 * len(pairs) // 4][0], 3),
        "best_events_per_second": round(max(pair[0] for pair in pairs)),
        "frames": len(mix),
        "sample_frames": len(samples),
        "simulator_frames": len(simulated),
        "bytes_per_frame": round(sum(map(len, mix)) / len(mix)),
        "pairs": len(pairs),
        "frames_per_round": items,
        "clock": "process CPU time",
        "cpu": cpu_name(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "lxml": ".".join(map(str, etree.LXML_VERSION)),
        "libxml2": ".".join(map(str, etree.LIBXML_VERSION)),
        "implementation": sys.implementation.name,
    }
