"""`cti erlang`: Erlang C staffing figures (and Erlang A with --patience)."""

from __future__ import annotations

import json
import math
from typing import Any

from cti.acd import erlang
from cti.commands.args import ArgumentParser
from cti.errors import CLIError


def main(argv: list[str]) -> int:
    parser = ArgumentParser(prog="cti erlang", description=__doc__)
    parser.add_argument("--rate", type=float, required=True, help="calls per hour")
    parser.add_argument("--aht", type=float, required=True, help="mean handling time, seconds")
    parser.add_argument("--agents", type=int, required=True)
    parser.add_argument("--sl-seconds", type=float, default=20.0)
    parser.add_argument("--target-sl", type=float, help="e.g. 0.8: also print agents_needed")
    parser.add_argument("--patience", type=float,
                        help="mean caller patience, seconds: add Erlang A figures")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if args.rate < 0 or args.aht <= 0 or args.agents < 1 or args.sl_seconds < 0:
        raise CLIError("cti erlang: need --rate >= 0, --aht > 0, --agents >= 1, "
                       "--sl-seconds >= 0", 2)
    if args.target_sl is not None and not 0 <= args.target_sl < 1:
        raise CLIError("cti erlang: --target-sl must be a fraction in [0, 1), e.g. 0.8", 2)
    if args.patience is not None and args.patience <= 0:
        raise CLIError("cti erlang: --patience must be > 0", 2)
    figures = compute(args.rate, args.aht, args.agents, args.sl_seconds, args.target_sl,
                      args.patience)
    if args.json:
        print(json.dumps(figures, sort_keys=True))
    else:
        for key, value in figures.items():
            print(f"{key:>15}: {value}")
    return 0


def compute(rate: float, aht: float, agents: int, sl_seconds: float,
            target_sl: float | None = None, patience: float | None = None) -> dict[str, Any]:
    load = rate / 3600.0 * aht
    asa = erlang.asa(agents, load, aht)
    out: dict[str, Any] = {
        "load": load, "agents": agents, "stable": load < agents,
        "p_wait": erlang.p_wait(agents, load),
        "asa": asa if math.isfinite(asa) else None,
        "service_level": erlang.service_level(agents, load, aht, sl_seconds),
        "sl_seconds": sl_seconds,
        "occupancy": erlang.occupancy(agents, load),
    }
    if target_sl is not None:
        out["target_sl"] = target_sl
        out["agents_needed"] = erlang.agents_needed(load, aht, sl_seconds, target_sl)
    if patience is not None and rate > 0:
        figures = erlang.erlang_a(agents, rate / 3600.0, aht, patience)
        out["erlang_a"] = {
            "p_wait": figures.p_wait, "p_abandon": figures.p_abandon, "asa": figures.asa,
            "occupancy": figures.occupancy, "patience": patience,
        }
    return out
