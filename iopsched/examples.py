"""Regenerate the shipped example weeks and their solved schedules.

    python -m iopsched.examples             # instances/ (with roster workbooks) and solutions/
    python -m iopsched.examples --solutions-only --time-limit 60
    python -m iopsched.examples --rosters-only  # instances/roster-template.xlsx, small-clinic.xlsx

Instances come from the seeded generator, so they are the same on every
machine; solutions depend on the time limit and the machine's speed, and each
one is checked by the validator before it is written.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from iopsched.generate import generate
from iopsched.io import dump_model, load_instance, write_bytes_atomic, write_json_atomic
from iopsched.roster import roster_bytes
from iopsched.solver import solve
from iopsched.validator import validate

log = logging.getLogger("iopsched")

EXAMPLES = {
    "small-clinic": {"participants": 25, "seed": 11, "profile": "small"},
    "evening-weekend-80": {"participants": 80, "seed": 12, "profile": "evening"},
    "pinned-week": {
        "participants": 30,
        "seed": 13,
        "profile": "small",
        "pins": 6,
        "fixed_groups": 2,
    },
}


ROSTER_EXAMPLE = "small-clinic"  # also shipped as a filled roster workbook


def write_instances(root: Path) -> None:
    for name, args in EXAMPLES.items():
        inst = generate(name=name, **args)
        write_json_atomic(root / "instances" / f"{name}.json", dump_model(inst))
    write_rosters(root)


def write_rosters(root: Path) -> None:
    """The blank roster template and one filled roster (the small clinic)."""
    write_bytes_atomic(root / "instances" / "roster-template.xlsx", roster_bytes(None))
    inst = load_instance(root / "instances" / f"{ROSTER_EXAMPLE}.json")
    write_bytes_atomic(root / "instances" / f"{ROSTER_EXAMPLE}.xlsx", roster_bytes(inst))


def write_solutions(root: Path, time_limit: float, workers: int) -> None:
    for name in EXAMPLES:
        inst = load_instance(root / "instances" / f"{name}.json")
        sol = solve(inst, time_limit=time_limit, workers=workers)
        report = validate(inst, sol)
        if not report.ok:
            raise SystemExit(f"{name}: the solver's schedule fails validation:\n{report.render()}")
        write_json_atomic(root / "solutions" / f"{name}.json", dump_model(sol))
        print(f"{name}: {sol.status.value}, objective {sol.objective}, bound {sol.bound}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path("."))
    parser.add_argument("--solutions-only", action="store_true")
    parser.add_argument("--rosters-only", action="store_true")
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    if args.rosters_only:
        write_rosters(args.root)
        return
    if not args.solutions_only:
        write_instances(args.root)
    write_solutions(args.root, args.time_limit, args.workers)


if __name__ == "__main__":
    main()
