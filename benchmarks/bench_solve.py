"""Solve benchmark: model size, time to first and best schedule, objective, bound, gap.

    python benchmarks/bench_solve.py instances/evening-weekend-80.json --runs 3 --time-limit 60

Runs the instance several times side by side in one process (seeds 0..runs-1),
for each solver variant (``--variants``: ``default``; ``whole-week``, the
plain CP-SAT search from an empty week without first-fit start or
neighbourhood search; ``whole-week-first``, that search before any round
whatever the model's size; ``isolated``, the search in a child process as the
command line runs it), writes one CSV row per run to benchmarks/results/, and
prints medians per variant.  For
every participant left with unmet rows it also checks whether they could be
fully served *alone* (everyone else removed, groups allowed to run with just
them): those are the participants whose own availability allows their plan.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import statistics
import time
from pathlib import Path

from iopsched import Instance, SolverSettings, load_instance, solve, validate
from iopsched.explain import alone
from iopsched.io import write_bytes_atomic

VARIANTS = {
    "default": {},
    "whole-week": {"warm_start": False, "neighbourhood_search": False},
    # the whole-week search first whatever the model's size (the default before 2026-11-26)
    "whole-week-first": {"whole_week_first_up_to": None},
    # every kind of neighbourhood equally often (the default before 2026-11-26)
    "uniform-kinds": {"adaptive_neighbourhoods": False},
    # CP-SAT's own number of presolve passes (the default until 2026-11-26)
    "presolve-3": {"presolve_passes": 3},
    # two presolve passes with CP-SAT's local search (never run after a single pass)
    "presolve-2-local-search": {"presolve_passes": 2, "local_search": True},
    # large weeks without limits: every copy open to everyone, every therapist to every session
    "no-limits": {"copies_per_person": None, "therapists_per_session": None},
    # the search in a child process, as the command line runs it (iopsched.isolate)
    "isolated": {"isolated": True},
    # the window for the most people fully served (iopsched.model.served) at most half the
    # limit, ending after 10 % of it without a gain (the defaults until 2026-11-27's second
    # change, when 90 % and 15 % were measured better against them)
    "served-half": {"served_first_share": 0.5, "served_first_stall": 0.1},
    # that window with CP-SAT's default portfolio, its full-problem worker included (the
    # default until 2026-11-27's third change)
    "served-full-portfolio": {"served_first_lns_only": False},
    # that window's presolve probing at CP-SAT's default work limit (1.0 units; the default
    # until 2026-11-27's fourth change, when 0.05 was measured better)
    "served-full-probing": {"served_first_probing": 1.0},
    # interchangeable groups run and filled in order of their ids in every week (the default
    # until 2026-11-27, when weeks that start with neighbourhoods left it out)
    "twin-order": {"twin_order": True},
    "no-twin-order": {"twin_order": False},
    # that window on the whole week at once (the default until 2026-11-27's track turns)
    "served-whole-week": {"served_by_track": False},
    # experiment: one track's turn in that window at most a tenth, a third or half the limit
    "served-turn-tenth": {"served_track_share": 0.1},
    "served-turn-third": {"served_track_share": 1 / 3},
    "served-turn-half": {"served_track_share": 0.5},
    "served-turn-twentieth": {"served_track_share": 0.05},
    # experiment: that window never ends for want of a gain, only at its share or its wait
    "served-no-stall": {"served_first_stall": 1.0},
    # a track's turn ends only as the window does (9 s of 60 without a gain), the default
    # until 2026-11-29; today a turn ends after 5 % of the limit without a gain (3 s of 60)
    "served-turn-no-stall": {"served_turn_stall": None},
    # that window on weeks of at most 30,000 variables (the default until 2026-11-28, when the
    # window was measured better on 200-person weeks); served-any-size is today's default
    "served-up-to-30000": {"served_first_up_to": 30000},
    "served-any-size": {"served_first_up_to": None},
    # that window skipped on weeks searched with candidate limits (300 people or more), the
    # default until 2026-11-29; or on those weeks at any size, with whole tracks as turns
    # (today a track of more than 400 people turns site by site, and a limited week with a
    # larger turn skips the window)
    "served-not-limited": {"served_turn_up_to": 0},
    "served-limited-any-size": {"served_turn_up_to": None},
    "no-blocks": {},  # experiment: first fit and LNS without their block moves (patched below)
    # experiment: participant_short weighted 0 in the week solved (objectives not comparable)
    "minutes-only": {},
    # no bound from the week without staff and room limits (the default before 2026-11-26)
    "no-relaxation": {"relaxation_share": 0.0},
    # rounds free everyone in their groups (the default before 2026-11-26's people cap)
    "no-people-cap": {"round_people": None},
    "people-cap-50": {"round_people": 50},
    "people-cap-20": {"round_people": 20},
    # the first fit alone, without its variants (the default before 2026-11-26)
    "no-first-fit-variants": {"first_fit_share": 0.0},
    # experiment: variants of the first fit for a tenth of the limit instead of 3 %
    "first-fit-tenth": {"first_fit_share": 0.1},
    "full-probing": {"probing_work": None},  # CP-SAT's default probing in every week
    "probing-cut-everywhere": {"probing_cut_above": None},
    "no-staffing": {"staffing_rounds": False},
    "old-rounds": {"staffing_rounds": False, "probing_work": None},  # before 2026-11-27 evening
    "no-blocking": {},  # rounds without the "blocking" kind (before 2026-11-28; patched below)
    # the most-served window at most 90 % of the limit (the default from 2026-11-27 until
    # 2026-11-28, when half was measured better), or at most 30 % or 70 %
    "served-share-0.9": {"served_first_share": 0.9},
    "served-share-0.3": {"served_first_share": 0.3},
    "served-share-0.7": {"served_first_share": 0.7},
    # blocking rounds free a therapist drawn from all who may see the person one to one, and a
    # random few of that therapist's sessions (before 2026-11-28's aim; patched below)
    "blocking-unaimed": {},
    # experiment: neighbourhood rounds of 6 or 10 s instead of 3 (larger parts settle in them)
    # no start from last week's schedule carried forward (the default before 2026-11-29)
    "no-carry-forward": {"carry_forward": False},
    "rounds-6s": {"round_seconds": 6.0},
    "rounds-10s": {"round_seconds": 10.0},
}


@contextlib.contextmanager
def _variant(name: str):
    """Switch off the block moves (``no-blocks``) or the blocking rounds (``no-blocking``),
    or the blocking rounds' aim (``blocking-unaimed``), for those experiments, then restore
    them."""
    from iopsched.greedy import Greedy
    from iopsched.model.lns import Neighbourhoods

    place_block, kinds, pick = Greedy.place_block, Neighbourhoods.KINDS, Neighbourhoods.pick
    if name == "no-blocks":
        Greedy.place_block = lambda self, g, cohort, todo: None  # type: ignore[method-assign]
        Neighbourhoods.KINDS = tuple(k for k in kinds if k != "block")
    elif name == "no-blocking":
        Neighbourhoods.KINDS = tuple(k for k in kinds if k != "blocking")
    elif name == "blocking-unaimed":  # rounds are not told what people lack
        Neighbourhoods.pick = lambda self, sessions, short, size, cap=None, lacking=None: pick(  # type: ignore[method-assign]
            self, sessions, short, size, cap
        )
    try:
        yield
    finally:
        Greedy.place_block, Neighbourhoods.KINDS = place_block, kinds
        Neighbourhoods.pick = pick  # type: ignore[method-assign]


def searched_week(inst: Instance, variant: str) -> Instance:
    """The week a variant solves: for ``minutes-only``, without the per-person shortfall cost."""
    if variant != "minutes-only":
        return inst
    return inst.model_copy(update={"weights": {**inst.weights, "participant_short": 0}})


def served_alone(inst: Instance, pid: str, seconds: float) -> bool:
    """True if the participant's plan can be fully met with nobody else in the week."""
    relaxed = alone(inst, inst.participant_by_id[pid])  # only plan minimums cost anything
    sol = solve(relaxed, time_limit=seconds, workers=1)
    return sol.status.has_schedule and not sol.unmet


def run_once(
    inst: Instance,
    variant: str,
    seed: int,
    time_limit: float,
    workers: int,
    alone_check: bool = True,
    deterministic: bool = False,
    round_seconds: float | None = None,
    isolated: bool = False,
) -> dict:
    extra: dict = {} if round_seconds is None else {"round_seconds": round_seconds}
    if isolated:
        extra["isolated"] = True
    settings = SolverSettings(
        time_limit=time_limit,
        workers=workers,
        seed=seed,
        deterministic=deterministic,
        **extra,
        **VARIANTS[variant],
    )
    t0 = time.perf_counter()
    seen: list[float] = []  # when the caller got the first schedule (a child's start-up included)

    def first(progress) -> None:
        if not seen:
            seen.append(time.perf_counter() - t0)

    week = searched_week(inst, variant)
    with _variant(variant):
        sol = solve(week, settings, on_progress=first)
    wall = time.perf_counter() - t0
    report = validate(week, sol)
    stats = sol.stats
    unmet_people = sorted({r.participant for r in sol.unmet})
    could = [p for p in unmet_people if served_alone(inst, p, 10)] if alone_check else None
    return {
        "instance": inst.name,
        "variant": variant,
        "seed": seed,
        "participants": len(inst.participants),
        "variables": stats.variables,
        "constraints": stats.constraints,
        "build_s": getattr(stats, "build_seconds", None),
        "first_s": stats.time_to_first,
        "first_wall_s": round(seen[0], 3) if seen else None,
        "best_s": stats.time_to_best,
        "wall_s": round(wall, 2),
        "status": sol.status.value,
        "objective": sol.objective,
        "bound": sol.bound,
        "cost_floor": getattr(stats, "cost_floor", None),
        "relaxation_bound": getattr(stats, "relaxation_bound", None),
        "gap": round(sol.gap, 4) if sol.gap is not None else None,
        "fully_served": len(inst.participants) - len(unmet_people),
        "fully_served_share": round(1 - len(unmet_people) / max(1, len(inst.participants)), 3),
        "unmet_hours": round(sum(r.short for r in sol.unmet if r.requirement == "min_hours"), 2),
        "unmet_but_servable_alone": len(could) if could is not None else None,
        "first_fit_objective": getattr(stats, "first_fit_objective", None),
        # where the search began, and what of last week's schedule (previous) it kept
        "started_from": getattr(stats, "started_from", None),
        "last_week_kept": getattr(stats, "last_week_kept", None),
        "lns_rounds": getattr(stats, "lns_rounds", None),
        "search_exit_code": getattr(stats, "search_exit_code", None),  # a crashed child search
        "valid": report.ok,
    }


def write_rows(rows: list[dict], path: Path) -> None:
    """One CSV row per run (written atomically: a reader never sees half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    write_bytes_atomic(path, text.getvalue().encode())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("instances", nargs="+", type=Path)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seeds", nargs="+", type=int, help="these seeds instead of 0..runs-1")
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--variants", nargs="+", choices=list(VARIANTS), default=["default"])
    parser.add_argument(
        "--no-alone-check",
        action="store_true",
        help="skip solving each short participant alone (slow on large weeks)",
    )
    parser.add_argument(
        "--deterministic",
        action="store_true",
        help="time limits counted in CP-SAT's work: runs repeat exactly, so A/B tests see no noise",
    )
    parser.add_argument("--round-seconds", type=float, help="time limit of one LNS round")
    parser.add_argument(
        "--isolated",
        action="store_true",
        help=(
            "every variant searches in a child process: a crash ends only its run "
            "(the no-blocks experiment's patch does not reach the child)"
        ),
    )
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/solve.csv"))
    args = parser.parse_args()
    rows = []
    for path in args.instances:
        inst = load_instance(path)
        for seed in args.seeds if args.seeds is not None else range(args.runs):
            for variant in args.variants:  # interleaved, so both see the same machine load
                row = run_once(
                    inst,
                    variant,
                    seed,
                    args.time_limit,
                    args.workers,
                    not args.no_alone_check,
                    args.deterministic,
                    args.round_seconds,
                    args.isolated,
                )
                rows.append(row)
                print(", ".join(f"{k}={v}" for k, v in row.items()), flush=True)
                write_rows(rows, args.out)  # after every run: a crash loses only the run

    for name, variant in dict.fromkeys((r["instance"], r["variant"]) for r in rows):
        mine = [r for r in rows if r["instance"] == name and r["variant"] == variant]
        print(
            f"\n{name} [{variant}]: median of {len(mine)} runs, {args.workers} workers, "
            f"{args.time_limit:g} s{' of work (deterministic)' if args.deterministic else ''}"
        )
        for key in (
            "variables",
            "constraints",
            "build_s",
            "first_s",
            "first_wall_s",
            "best_s",
            "objective",
            "bound",
            "cost_floor",
            "relaxation_bound",
            "gap",
            "fully_served_share",
            "unmet_but_servable_alone",
            "first_fit_objective",
            "lns_rounds",
        ):
            values = [r[key] for r in mine if r[key] is not None]
            if values:
                print(f"  {key:<26} {statistics.median(values):g}")
        print(f"  all schedules valid: {all(r['valid'] for r in mine)}")
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
