"""`cti simulate`: the real ACD engine against simulated traffic in virtual time."""

from __future__ import annotations

import json

from cti.acd.config import STRATEGIES
from cti.acd.simulate import Traffic, simulate
from cti.commands.args import ArgumentParser
from cti.errors import CLIError


def main(argv: list[str]) -> int:
    parser = ArgumentParser(prog="cti simulate", description=__doc__)
    parser.add_argument("--agents", type=int, required=True)
    parser.add_argument("--rate", type=float, required=True, help="calls per hour")
    parser.add_argument("--aht", type=float, required=True, help="mean handling time, seconds")
    parser.add_argument("--hours", type=float, default=1.0)
    parser.add_argument("--strategy", choices=STRATEGIES, default="longest-idle")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--patience", type=float, help="mean caller patience, seconds")
    parser.add_argument("--sl-seconds", type=float, default=20.0)
    parser.add_argument("--wrapup", type=float, default=0.0, help="after-call work, seconds")
    parser.add_argument("--warmup", type=float, default=0.0,
                        help="seconds at the start left out of the figures")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    try:
        traffic = Traffic(
            agents=args.agents, rate=args.rate, aht=args.aht, hours=args.hours,
            strategy=args.strategy, seed=args.seed, patience=args.patience,
            sl_seconds=args.sl_seconds, wrapup=args.wrapup, warmup=args.warmup,
        )
    except ValueError as exc:
        raise CLIError(f"cti simulate: {exc}", 2) from None
    figures = simulate(traffic).figures
    if args.json:
        print(json.dumps(figures, sort_keys=True))
    else:
        for key, value in figures.items():
            print(f"{key:>18}: {value}")
    return 0
