"""The most-served window alone: its objective at fixed times, arms side by side.

    python benchmarks/window_trace.py instances/evening-weekend-80.json --seconds 45 \\
        --seeds 0 1 2 3 4 5 --arm default --arm probing_deterministic_time_limit=0.05

On the 80-person example the solver spends most of a one-minute solve in its
first window, the search for the most people fully served
(``iopsched.model.served``), and the one-minute result spreads so widely from
run to run that only large changes show in it. This measures the window on its
own, as one search of the whole week (the solver's ``served_by_track=False``;
it now gives the window to one track at a time): each arm builds the week's
model, hints it completely with the first fit (as the solver hints the window
with its best schedule), and searches the window's objective with the solver's
CP-SAT parameters for ``--seconds``, with the arm's changes on top. It prints,
per arm and seed, when the window's first schedule came (CP-SAT's, once
presolved), the window's objective (1,000 per person not fully served plus the
minutes short of ``min_hours``) at each checkpoint, the people left short at
the end and the least week's objective among the window's schedules (what the
solver keeps); then each arm's medians and on how many seeds it was lower than
the first arm. Arms run one after another seed by seed, so they share the
machine's load.

An arm is ``default`` or comma-separated ``NAME=VALUE`` pairs: CP-SAT
parameters (``use_lns_only=false``; a list as ``a+b``:
``ignore_subsolvers=graph_arc_lns+rnd_var_lns``), ``hint=decisions`` to hint the
decisions alone instead of every variable, or ``twin_order=true`` to build the model with
interchangeable groups run and filled in order (the solver's ``twin_order``, which it leaves
off on weeks large enough for the window).
"""

from __future__ import annotations

import argparse
import csv
import io
import statistics
import time
from pathlib import Path

from ortools.sat import sat_parameters_pb2
from ortools.sat.python import cp_model

from iopsched import Instance, Solution, SolverSettings, load_instance, validate
from iopsched.greedy import first_fit_solution
from iopsched.io import write_bytes_atomic
from iopsched.model import extract
from iopsched.model.build import build_model
from iopsched.model.context import Ctx
from iopsched.model.hints import hint_every_variable, hint_schedule
from iopsched.model.served import not_fully_served
from iopsched.search.window import most_served_search

_FIELDS = sat_parameters_pb2.SatParameters.DESCRIPTOR.fields
PARAMETERS = {f.name for f in _FIELDS}
LISTS = {f.name for f in _FIELDS if f.is_repeated}  # written a+b+c


def _value(text: str) -> bool | int | float | str:
    """A parameter's value as written: true/false, a number, or text."""
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


Change = bool | int | float | str | list[str]
MODEL_CHANGES = ("hint", "twin_order")  # arm keys that change the model, not CP-SAT


def parse_arm(text: str) -> dict[str, Change]:
    """``default`` or ``NAME=VALUE,...``; raises ValueError naming what is wrong."""
    if text == "default":
        return {}
    changes: dict[str, Change] = {}
    for pair in text.split(","):
        name, sep, value = pair.partition("=")
        name = name.strip()
        if not sep or not name:
            raise ValueError(f"arm {text!r}: {pair!r} is not NAME=VALUE")
        if name == "hint":
            if value not in ("every", "decisions"):
                raise ValueError(f"arm {text!r}: hint is 'every' or 'decisions', not {value!r}")
        elif name == "twin_order":
            if value.lower() not in ("true", "false"):
                raise ValueError(f"arm {text!r}: twin_order is true or false, not {value!r}")
        elif name not in PARAMETERS:
            raise ValueError(f"arm {text!r}: {name!r} is not a CP-SAT parameter")
        changes[name] = value.split("+") if name in LISTS else _value(value)
    return changes


class Trace(cp_model.CpSolverSolutionCallback):
    """Each schedule of the window: seconds since the search began and its objective; the
    people short in the latest and the least week's objective among them."""

    def __init__(self, ctx: Ctx, t0: float):
        super().__init__()
        self.ctx, self.t0 = ctx, t0
        self.points: list[tuple[float, float]] = []
        self.kept = float("inf")
        self.short: int | None = None

    def on_solution_callback(self) -> None:
        self.points.append((time.perf_counter() - self.t0, self.objective_value))
        week = sum(t.cost for t in extract.cost_terms(self.ctx, self.value))
        self.kept = min(self.kept, week)
        self.short = sum(self.value(x) for x in not_fully_served(self.ctx))

    def at(self, seconds: float) -> float | None:
        """The window's objective at ``seconds`` (None before its first schedule)."""
        seen = [objective for elapsed, objective in self.points if elapsed <= seconds]
        return seen[-1] if seen else None


def window_run(
    week: Instance,
    start: Solution,
    arm: str,
    seconds: float,
    seed: int,
    workers: int,
    at: list[float],
) -> dict[str, object]:
    """One window search of ``week`` from the valid schedule ``start``, as ``arm`` changes it."""
    changes = parse_arm(arm)
    ctx = build_model(week, twin_order=changes.get("twin_order") is True)
    if changes.get("hint") == "decisions":
        hint_schedule(ctx, start.sessions)
    elif not hint_every_variable(ctx, start.sessions):
        raise SystemExit("the first fit could not be hinted completely")
    settings = SolverSettings(workers=workers, seed=seed)
    model, solver = most_served_search(ctx, settings, seconds)
    for name, value in changes.items():
        if name not in MODEL_CHANGES:
            if isinstance(value, list):
                getattr(solver.parameters, name).extend(value)
            else:
                setattr(solver.parameters, name, value)
    trace = Trace(ctx, time.perf_counter())
    solver.solve(model, trace)
    row: dict[str, object] = {
        "arm": arm,
        "seed": seed,
        "first_s": round(trace.points[0][0], 2) if trace.points else None,
        "schedules": len(trace.points),
    }
    row |= {f"at_{t:g}s": trace.at(t) for t in at}
    row |= {"short_at_end": trace.short, "week_objective_kept": trace.kept}
    return row


def summary(rows: list[dict[str, object]], arms: list[str], at: list[float]) -> str:
    """Each arm's medians, and on how many seeds it was lower than the first arm."""
    out = io.StringIO()
    first = {r["seed"]: r for r in rows if r["arm"] == arms[0]}
    for arm in arms:
        mine = [r for r in rows if r["arm"] == arm]
        out.write(f"\n[{arm}] {len(mine)} runs\n")
        for key in ["first_s", *(f"at_{t:g}s" for t in at), "short_at_end"]:
            values = [float(r[key]) for r in mine if r[key] is not None]  # type: ignore[arg-type]
            med = statistics.median(values) if values else None
            line = f"  {key:<14} median {med}"
            if arm != arms[0] and key != "first_s":
                pairs = [
                    (r[key], first[r["seed"]][key])
                    for r in mine
                    if r[key] is not None and first[r["seed"]][key] is not None
                ]
                lower = sum(a < b for a, b in pairs)  # type: ignore[operator]
                line += f", lower than [{arms[0]}] on {lower} of {len(pairs)}"
            out.write(line + "\n")
    return out.getvalue()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("instance")
    parser.add_argument("--seconds", type=float, default=45.0)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--arm", action="append", help="default, or NAME=VALUE,... (repeat)")
    parser.add_argument("--at", type=float, nargs="+", help="checkpoints (default: quarters)")
    parser.add_argument("--out", type=Path, help="also write the rows as CSV")
    args = parser.parse_args(argv)
    arms = args.arm or ["default"]
    for arm in arms:
        try:
            parse_arm(arm)
        except ValueError as err:
            parser.error(str(err))
    at = args.at or [args.seconds * q / 4 for q in (1, 2, 3, 4)]
    week = load_instance(args.instance)
    start = first_fit_solution(week)  # the same for every arm and seed
    if not validate(week, start).ok:
        raise SystemExit("the first fit breaks a hard rule: the solver repairs it first")
    rows = []
    for seed in args.seeds:
        for arm in arms:  # interleaved, so every arm sees the same machine load
            row = window_run(week, start, arm, args.seconds, seed, args.workers, at)
            rows.append(row)
            print(", ".join(f"{k}={v}" for k, v in row.items()), flush=True)
    print(summary(rows, arms, at))
    if args.out:
        text = io.StringIO()
        writer = csv.DictWriter(text, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
        write_bytes_atomic(args.out, text.getvalue().encode())


if __name__ == "__main__":
    main()
