"""How many people can be fully served at once: the relaxed week proven, the real week searched.

    python benchmarks/most_served.py instances/evening-weekend-80.json --relaxed --seconds 60
    python benchmarks/most_served.py instances/evening-weekend-80.json --seconds 120 --passes 3
    python benchmarks/most_served.py instances/evening-weekend-80.json --seconds 40 --lift rooms

A diagnosis behind the solver's first window (``iopsched.model.served``).  With
``--relaxed`` each track of the week without staff and room limits
(``iopsched.relaxation``) is solved for the fewest people not fully served
alone, and CP-SAT says whether it proved that number.  Without it, the real
week is searched for that count from the first fit (CP-SAT hinted with it),
and every schedule CP-SAT finds is printed as it comes: elapsed seconds and
people not fully served.  ``--minutes`` adds the minutes short of
``min_hours`` to the count, as the solver's window does (each person then
weighs ``PERSON_MINUTES``).

On the 80-person example (2026-11-27, 2 workers, the solver's CP-SAT
parameters): ``--relaxed --seconds 60 --passes 3`` proved each of the three
tracks (13, 31 and 36 people) to leave nobody short, in 1.4, 13.6 and 17.6 s;
``--seconds 40`` (one presolve pass) went from 56 people short at CP-SAT's
first schedule (14.4 s) to 11 at 27.1 s, where one minute of the solver's
search on the week's own objective leaves 16 to 20.

``--lift`` searches the whole week (not track by track) with its room limits,
its staff limits or both lifted as ``iopsched.relaxation`` lifts them.  On
2026-11-27 (``--seconds 40``) that left 7, 6 and 4 people short: the week
is hard to search whole even without staff and rooms, while each of its
tracks alone is proven quickly.
"""

from __future__ import annotations

import argparse
import time

from ortools.sat.python import cp_model

from iopsched import Instance, SolverSettings, load_instance
from iopsched.greedy import first_fit_solution
from iopsched.model.build import build_model
from iopsched.model.hints import hint_schedule
from iopsched.model.served import most_fully_served, not_fully_served
from iopsched.relaxation import track_ids, track_week, without_staff_and_rooms
from iopsched.search.run import configure


class _Seen(cp_model.CpSolverSolutionCallback):
    """Prints each schedule's time and objective as CP-SAT finds it."""

    def __init__(self, t0: float):
        super().__init__()
        self.t0 = t0

    def on_solution_callback(self) -> None:
        print(f"  {time.perf_counter() - self.t0:7.1f} s  {self.objective_value:g}", flush=True)


def fewest_short(
    week: Instance, seconds: float, passes: int, seed: int, minutes: bool, hint: bool
) -> None:
    """Search ``week`` for the fewest people not fully served and print what CP-SAT found."""
    t0 = time.perf_counter()
    ctx = build_model(week)
    if hint:
        hint_schedule(ctx, first_fit_solution(week).sessions)
    if minutes:  # the solver window's own objective
        model = most_fully_served(ctx)
    else:
        model = ctx.model
        model.minimize(sum(not_fully_served(ctx)))
    solver = cp_model.CpSolver()
    settings = SolverSettings(workers=2, seed=seed, presolve_passes=passes)
    configure(solver, settings, seconds, log=False)
    code = solver.solve(model, _Seen(t0))
    found = code in (cp_model.OPTIMAL, cp_model.FEASIBLE)
    print(
        f"{len(week.participants)} people: {solver.status_name(code)}, "
        f"objective {solver.objective_value if found else None}, "
        f"bound {solver.best_objective_bound}, {time.perf_counter() - t0:.1f} s",
        flush=True,
    )


def lifted(week: Instance, what: str) -> Instance:
    """The week with its room limits, its staff limits or both lifted, as the relaxation
    lifts them: rooms, by every group meeting online and every 1:1 session allowed online;
    staff, by every therapist free to lead anything in program hours without caps."""
    if what == "both":
        return without_staff_and_rooms(week)
    if what == "rooms":
        update = {
            "groups": [g.model_copy(update={"virtual": True, "site": None}) for g in week.groups],
            "participants": [p.model_copy(update={"telehealth": True}) for p in week.participants],
            "rooms": [],
        }
    else:
        update = {
            "therapists": without_staff_and_rooms(week).therapists,
            "groups": [g.model_copy(update={"facilitators": None}) for g in week.groups],
            "participants": [
                p.model_copy(update={"primary_therapist": None}) for p in week.participants
            ],
        }
    data = week.model_dump() | {k: [x.model_dump() for x in v] for k, v in update.items()}
    return Instance.model_validate(data)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("instance")
    parser.add_argument("--relaxed", action="store_true", help="each relaxed track, proven")
    parser.add_argument("--seconds", type=float, default=60.0, help="per track, or for the week")
    parser.add_argument("--passes", type=int, default=1, help="CP-SAT presolve passes")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--minutes", action="store_true", help="the solver window's objective")
    parser.add_argument(
        "--lift", choices=["rooms", "staff", "both"], help="the whole week with these limits lifted"
    )
    args = parser.parse_args()
    week = load_instance(args.instance)
    if args.relaxed:
        for ids in track_ids(week):
            fewest_short(
                track_week(week, ids), args.seconds, args.passes, args.seed, args.minutes, False
            )
    else:
        if args.lift:
            week = lifted(week, args.lift)
        fewest_short(week, args.seconds, args.passes, args.seed, args.minutes, True)


if __name__ == "__main__":
    main()
