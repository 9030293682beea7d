"""Sum of per-participant bounds: each person's cost with the program to themselves.

    python benchmarks/personal_bounds.py instances/evening-weekend-80.json --seconds 2

Each participant's relaxed week (``iopsched.explain.alone``: everyone else
removed, groups with them only and online, no pins) is solved with the shared
terms (facilitator changes, therapist load, last week's groups) weighted 0.
Every schedule, seen from one person, is a schedule of their relaxed week, so
the sum of the proven bounds is a lower bound on the whole objective: the
yardstick for a stronger solver bound (issue 2).  It prints the cost floor
(``iopsched.bounds``, what a solve reports when its search proves less) next
to it: the floor reasons about each person without solving anything.
"""

from __future__ import annotations

import argparse
import time

from iopsched import SolverSettings, load_instance, solve
from iopsched.bounds import cost_floor
from iopsched.explain import alone

SHARED = {"facilitator_change": 0, "therapist_peak_load": 0, "left_previous_group": 0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("instance")
    parser.add_argument("--seconds", type=float, default=2.0, help="per participant")
    args = parser.parse_args()
    inst = load_instance(args.instance)
    settings = SolverSettings(time_limit=args.seconds, workers=1, neighbourhood_search=False)
    t0 = time.perf_counter()
    total, proven = 0.0, 0
    for p in inst.participants:
        sol = solve(alone(inst, p, weights=SHARED), settings)
        total += sol.bound or 0.0
        proven += sol.status.value == "optimal"
    n = len(inst.participants)
    print(
        f"sum of per-participant bounds {total:.0f} ({proven}/{n} proven) "
        f"in {time.perf_counter() - t0:.1f} s; cost floor {cost_floor(inst)}"
    )


if __name__ == "__main__":
    main()
