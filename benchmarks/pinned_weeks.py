"""Does the first schedule keep pins?  Pins copied from a valid schedule of the week.

    python benchmarks/pinned_weeks.py instances/evening-weekend-80.json \\
        solutions/evening-weekend-80.json --pins 8 --seeds 0 1 2 3 4 5 --solve 30

Each seed copies ``--pins`` random sessions of the given schedule into pins:
the session's day and start, its group (for a group meeting), and by chance
one of its participants and its therapist (a 1:1 pin always names its
participant).  The schedule keeps every such pin, so the pinned week is
feasible.  For each seed the script reports whether the first fit breaks a
hard rule (and the first rule it breaks) and, with ``--solve``, what a solve
of that many seconds returns: its status, when the first schedule came, its
objective, whether it passes the validator, and how many rounds repaired a
first fit that broke a rule (``iopsched.model.repair``).  ``--settings`` passes
solver settings as JSON, e.g. ``'{"served_first_share": 0.5}'``, to compare two.
"""

from __future__ import annotations

import argparse
import json
import random

from iopsched import Instance, SolverSettings, load_instance, solve, validate
from iopsched.greedy import first_fit_solution
from iopsched.io import load_solution
from iopsched.solution import Solution


def pinned(week: Instance, schedule: Solution, pins: int, seed: int) -> Instance:
    """The week with ``pins`` sessions of ``schedule`` copied into pins (seeded)."""
    rng = random.Random(seed)
    out = []
    for s in rng.sample(schedule.sessions, pins):
        shape = rng.choice(["full", "person", "time"])
        pin: dict[str, str] = {"kind": s.kind, "day": s.day, "start": s.start}
        if s.group:
            pin["group"] = s.group
        if shape in ("full", "person") or not s.group:
            pin["participant"] = rng.choice(s.participants)
        if shape == "full" or rng.random() < 0.3:
            pin["therapist"] = s.therapist
        out.append(pin)
    data = week.model_dump(mode="json")
    data["pins"] = out
    return Instance.model_validate(data)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("instance")
    ap.add_argument("solution", help="a valid schedule of the week to copy pins from")
    ap.add_argument("--pins", type=int, default=8)
    ap.add_argument("--seeds", type=int, nargs="+", default=list(range(10)))
    ap.add_argument("--solve", type=float, default=0.0, help="also solve for this many seconds")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--settings", default="{}", help="solver settings as a JSON object")
    args = ap.parse_args()
    settings = SolverSettings.model_validate(json.loads(args.settings))
    week, schedule = load_instance(args.instance), load_solution(args.solution)
    broken = found = 0
    for seed in args.seeds:
        inst = pinned(week, schedule, args.pins, seed)
        report = validate(inst, first_fit_solution(inst))
        broken += not report.ok
        line = f"seed={seed} pins={args.pins} first_fit_valid={report.ok}"
        if not report.ok:
            line += f" first_broken=[{report.violations[0]}]"
        if args.solve:
            sol = solve(inst, settings, time_limit=args.solve, workers=args.workers, seed=0)
            ok = validate(inst, sol).ok if sol.sessions else None
            found += bool(sol.sessions)
            first = sol.stats.time_to_first if sol.stats else None
            line += f" status={sol.status.value} first_s={first} objective={sol.objective}"
            repairs = getattr(sol.stats, "repair_rounds", None) if sol.stats else None
            line += f" valid={ok} repair_rounds={repairs}"
        print(line, flush=True)
    summary = f"first fit broke a hard rule on {broken} of {len(args.seeds)} pinned weeks"
    if args.solve:
        summary += f"; a {args.solve:g} s solve found a schedule on {found}"
    print(summary)


if __name__ == "__main__":
    main()
