"""`cti bench codec` runs on the real sample frames and reports the figures interfaces.md pins
(the figures themselves are measured by running the command, never asserted here)."""

from __future__ import annotations

from cti.bench import codec as bench
from drivers.csta import codec


def test_every_benchmark_frame_is_a_real_event():
    frames = bench.sample_frames() + bench.simulator_frames()
    names = {codec.decode_event_bytes(body, 0.0).event for body in frames}
    assert {"service_initiated", "originated", "delivered", "established", "held", "retrieved",
            "connection_cleared", "transferred", "conferenced", "agent_ready",
            "agent_not_ready"} <= names


def test_the_report_has_the_pinned_keys():
    result = bench.run(["--seconds", "0.05", "--round-ms", "2"])
    assert result["events_per_second"] > 0 and result["lxml_parse_per_second"] > 0
    quotient = result["lxml_parse_per_second"] / result["events_per_second"]
    assert abs(result["ratio_to_lxml"] - quotient) < 0.01
    assert result["frames"] == 18 and result["python"]
