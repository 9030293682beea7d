"""Regenerate the shipped example weeks and their solved schedules.

    python -m iopsched.examples             # instances/ (with roster workbooks) and solutions/
    python -m iopsched.examples --solutions-only --time-limit 300 --keep-better
    python -m iopsched.examples --solutions-only --only evening-weekend-80 --time-limit 300
    python -m iopsched.examples --solutions-only --time-limit 300 --continue
    python -m iopsched.examples --rosters-only  # instances/roster-template.xlsx, small-clinic.xlsx

Instances come from the seeded generator, so they are the same on every
machine; solutions depend on the time limit and the machine's speed, and each
one is checked by the validator before it is written.  With ``--keep-better`` a
schedule already in ``solutions/`` stays when it is valid for its week and costs no
more than the new one, so a rerun on a busy machine never makes a shipped example
worse.  With ``--continue`` each search starts from the schedule already shipped (when
it is valid for its week), so reruns keep improving the examples.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from iopsched.generate import follow_on, generate
from iopsched.instance import Instance
from iopsched.io import (
    InputError,
    dump_model,
    load_instance,
    load_solution,
    write_bytes_atomic,
    write_json_atomic,
)
from iopsched.roster import roster_bytes
from iopsched.solution import Solution
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

# Weeks that follow a shipped example: its shipped schedule is their ``previous``
# (iopsched.generate.follow_on: discharges, as many new intakes, their first sessions booked).
FOLLOW_ONS = {
    "evening-weekend-80-week2": {
        "after": "evening-weekend-80",
        "seed": 1,
        "turnover": 9,
        "pins": 9,
    },
}

ROSTER_EXAMPLE = "small-clinic"  # also shipped as a filled roster workbook


def write_instances(root: Path) -> None:
    for name, args in EXAMPLES.items():
        inst = generate(name=name, **args)
        write_json_atomic(root / "instances" / f"{name}.json", dump_model(inst))
    for name, args in FOLLOW_ONS.items():
        write_follow_on(root, name, **args)
    write_rosters(root)


def write_follow_on(root: Path, name: str, after: str, seed: int, turnover: int, pins: int) -> None:
    """The week after example ``after``, with its shipped schedule as last week's."""
    week = load_instance(root / "instances" / f"{after}.json")
    previous = shipped(week, root / "solutions" / f"{after}.json")
    if previous is None:
        print(f"{name}: not written, {after} has no valid shipped schedule to follow")
        return
    inst = follow_on(week, previous, seed, turnover=turnover, pins=pins, name=name)
    write_json_atomic(root / "instances" / f"{name}.json", dump_model(inst))


def write_rosters(root: Path) -> None:
    """The blank roster template and one filled roster (the small clinic)."""
    write_bytes_atomic(root / "instances" / "roster-template.xlsx", roster_bytes(None))
    inst = load_instance(root / "instances" / f"{ROSTER_EXAMPLE}.json")
    write_bytes_atomic(root / "instances" / f"{ROSTER_EXAMPLE}.xlsx", roster_bytes(inst))


def shipped(inst: Instance, path: Path) -> Solution | None:
    """The schedule already at ``path``, if it is there, valid for ``inst`` and has a cost."""
    try:
        sol = load_solution(path)
    except InputError:
        return None
    if sol.objective is None or not validate(inst, sol).ok:
        return None
    return sol


def write_solutions(
    root: Path,
    time_limit: float,
    workers: int,
    names: list[str] | None = None,
    keep_better: bool = False,
    resume: bool = False,
) -> None:
    """Solve each example week (``names``, or all) and write its schedule; with
    ``keep_better`` a valid schedule already shipped that costs no more is kept; with
    ``resume`` the search starts from it."""
    for name in names or [*EXAMPLES, *FOLLOW_ONS]:
        inst = load_instance(root / "instances" / f"{name}.json")
        path = root / "solutions" / f"{name}.json"
        start = shipped(inst, path) if resume else None
        sol = solve(inst, time_limit=time_limit, workers=workers, start=start)
        report = validate(inst, sol)
        if not report.ok:
            raise SystemExit(f"{name}: the solver's schedule fails validation:\n{report.render()}")
        old = shipped(inst, path) if keep_better else None
        if old is not None and sol.objective is not None and old.objective <= sol.objective:
            print(f"{name}: kept the shipped schedule ({old.objective}), not {sol.objective}")
            continue
        write_json_atomic(path, dump_model(sol))
        print(f"{name}: {sol.status.value}, objective {sol.objective}, bound {sol.bound}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path("."))
    parser.add_argument("--solutions-only", action="store_true")
    parser.add_argument("--rosters-only", action="store_true")
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--only", nargs="+", choices=[*EXAMPLES, *FOLLOW_ONS], help="these examples alone"
    )
    parser.add_argument(
        "--keep-better",
        action="store_true",
        help="keep a shipped schedule that is valid and costs no more than the new one",
    )
    parser.add_argument(
        "--continue",
        dest="resume",
        action="store_true",
        help="start each search from the shipped schedule, where it is valid for its week",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    if args.rosters_only:
        write_rosters(args.root)
        return
    if not args.solutions_only:
        write_instances(args.root)
    write_solutions(
        args.root, args.time_limit, args.workers, args.only, args.keep_better, args.resume
    )


if __name__ == "__main__":
    main()
