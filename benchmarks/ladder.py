"""Benchmark ladder: how cost and quality grow with program size, against two baselines.

    python benchmarks/ladder.py                      # 25 50 100 200 400 800 2000@10, seeds 0 1 2
    python benchmarks/ladder.py --sizes 25 50 --seeds 0 --time-limit 20

Each size (``N`` or ``N@K`` for N participants over K sites) and seed is a
generated week (``iopsched.generate``), solved in a fresh process so its peak
memory is its own, then given to HiGHS (``highs_baseline.py``, the same model
as a MIP, same time limit and threads) in another fresh process, up to
``--mip-max`` participants (``--mip-warm``: HiGHS given the first-fit
schedule to start from, as iopsched has).  One CSV row per run (benchmarks/results/ladder.csv)
and a PNG of the medians per size (ladder.png): model size, build time, time to
first and best schedule, gap, plan compliance and unmet hours of iopsched, of
the first-fit baseline (a coordinator's spreadsheet method) and of HiGHS, peak
memory, and how many times sooner iopsched reached HiGHS's final objective
than HiGHS did (``times_sooner_than_mip``).
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import statistics
import time
from pathlib import Path
from queue import Empty

from bench_solve import write_rows  # same folder

DEFAULT_SIZES = ["25", "50", "100", "200", "400", "800", "2000@10"]
MIP_COLUMNS = (
    "mip_status",
    "mip_columns",
    "mip_rows",
    "mip_objective",
    "mip_bound",
    "mip_first_s",
    "mip_best_s",
    "mip_compliance",
    "mip_unmet_hours",
    "mip_valid",
    "mip_peak_mb",
)


def _size(text: str) -> tuple[int, int]:
    n, _, sites = text.partition("@")
    return int(n), int(sites or 1)


def _share(s, n: int) -> float:
    """Share of participants whose plan is fully met."""
    return round(1 - len({r.participant for r in s.unmet}) / max(1, n), 3)


def _hours(s) -> float:
    """Hours of min_hours left unmet, summed over participants."""
    return round(sum(r.short for r in s.unmet if r.requirement == "min_hours"), 2)


def run_one(size: str, seed: int, time_limit: float, workers: int) -> dict:
    """One generated week: the first-fit baseline, then the solver (in this process)."""
    from iopsched import solve, validate
    from iopsched.generate import generate
    from iopsched.greedy import first_fit_solution

    n, sites = _size(size)
    inst = generate(n, seed, sites=sites)
    t0 = time.perf_counter()
    base = first_fit_solution(inst)
    greedy_s = time.perf_counter() - t0
    sol = solve(inst, time_limit=time_limit, workers=workers, seed=seed)
    stats = sol.stats
    reach = next(
        (e["elapsed"] for e in stats.progress or [] if e["objective"] <= base.objective), None
    )

    return {
        "size": size,
        "participants": n,
        "sites": sites,
        "seed": seed,
        "variables": stats.variables,
        "constraints": stats.constraints,
        "build_s": getattr(stats, "build_seconds", None),
        "first_s": stats.time_to_first,
        "best_s": stats.time_to_best,
        "status": sol.status.value,
        "objective": sol.objective,
        "bound": sol.bound,
        "relaxation_bound": getattr(stats, "relaxation_bound", None),
        "gap": round(sol.gap, 4) if sol.gap is not None else None,
        "compliance": _share(sol, n),
        "unmet_hours": _hours(sol),
        "valid": validate(inst, sol).ok,
        "greedy_s": round(greedy_s, 3),
        "greedy_objective": base.objective,
        "greedy_compliance": _share(base, n),
        "greedy_unmet_hours": _hours(base),
        "greedy_valid": validate(inst, base).ok,
        "time_to_greedy_objective_s": reach,
        "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "progress": stats.progress or [],
    }


def run_mip(size: str, seed: int, time_limit: float, workers: int, warm: bool = False) -> dict:
    """The HiGHS baseline on the same generated week, same time limit and threads.

    ``warm``: HiGHS starts from the first-fit schedule, as iopsched does.
    """
    from highs_baseline import solve_with_highs

    from iopsched import Solution, validate
    from iopsched.generate import generate

    n, sites = _size(size)
    inst = generate(n, seed, sites=sites)
    res = solve_with_highs(inst, time_limit, workers, seed, warm=warm)
    sol: Solution = res.solution
    has = sol.status.has_schedule
    return {
        "mip_status": sol.status.value,
        "mip_columns": res.columns,
        "mip_rows": res.rows,
        "mip_objective": sol.objective,
        "mip_bound": sol.bound,
        "mip_first_s": sol.stats.time_to_first,
        "mip_best_s": sol.stats.time_to_best,
        "mip_compliance": _share(sol, n) if has else None,
        "mip_unmet_hours": _hours(sol) if has else None,
        "mip_valid": validate(inst, sol).ok if has else None,
        "mip_peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def _child(job, args: tuple, queue) -> None:
    queue.put(job(*args))


def isolated(job, *args, attempts: int = 2) -> dict:
    """``job(*args)`` in a fresh process (so peak memory is this run's alone).

    A run whose process dies without a row (CP-SAT has crashed on rare runs) is
    started once more, and said so; a second crash stops the ladder with the reason.
    """
    ctx = multiprocessing.get_context("spawn")
    for attempt in range(1, attempts + 1):
        queue = ctx.Queue()
        proc = ctx.Process(target=_child, args=(job, args, queue))
        proc.start()
        while True:
            try:
                row = queue.get(timeout=1.0)
                break
            except Empty:
                if not proc.is_alive() and queue.empty():
                    row = None
                    break
        proc.join()
        if row is not None:
            return row
        print(
            f"{job.__name__}{args}: its process ended without a result "
            f"(exit code {proc.exitcode}), attempt {attempt} of {attempts}",
            flush=True,
        )
    raise RuntimeError(f"{job.__name__}{args} crashed {attempts} times")


def with_mip(row: dict, mip: dict) -> dict:
    """Join the baseline's row, and how much sooner iopsched reached HiGHS's objective."""
    row = row | mip
    reach = None
    if mip["mip_objective"] is not None:
        reach = next(
            (e["elapsed"] for e in row.pop("progress") if e["objective"] <= mip["mip_objective"]),
            None,
        )
    else:
        row.pop("progress")
    row["time_to_mip_objective_s"] = reach
    best = mip["mip_best_s"]
    row["times_sooner_than_mip"] = round(best / reach, 1) if reach and best else None
    return row


PLOTS = [
    ("variables", "model variables"),
    ("build_s", "build time (s)"),
    ("first_s", "time to first schedule (s)"),
    ("gap", "gap"),
    ("compliance", "share fully served"),
    ("unmet_hours", "unmet min_hours (h)"),
    ("peak_mb", "peak memory (MB)"),
]


def medians(rows: list[dict]) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for size in dict.fromkeys(r["size"] for r in rows):
        mine = [r for r in rows if r["size"] == size]
        out[size] = {
            key: statistics.median(vals)
            for key in mine[0]
            if (vals := [r[key] for r in mine if isinstance(r[key], int | float)])
            and not isinstance(mine[0][key], bool)
        }
    return out


def plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    med = medians(rows)
    sizes = list(med)
    xs = [med[s]["participants"] for s in sizes]
    fig, axes = plt.subplots(2, 4, figsize=(16, 7))
    for ax, (key, title) in zip(axes.flat, PLOTS, strict=False):
        ax.plot(xs, [med[s].get(key) for s in sizes], "o-", label="iopsched")
        for prefix, label, style in (("greedy", "first fit", "s--"), ("mip", "HiGHS", "^:")):
            if any(f"{prefix}_{key}" in med[s] for s in sizes):
                ax.plot(xs, [med[s].get(f"{prefix}_{key}") for s in sizes], style, label=label)
                ax.legend()
        ax.set_title(title)
        ax.set_xlabel("participants")
    axes.flat[-1].axis("off")
    fig.suptitle("iopsched ladder: medians over seeds")
    fig.tight_layout()
    fig.savefig(path, dpi=90)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", default=DEFAULT_SIZES)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--mip-max",
        type=int,
        default=200,
        help="run the HiGHS baseline up to this many participants (its model grows fast)",
    )
    parser.add_argument(
        "--mip-warm",
        action="store_true",
        help="start HiGHS from the first-fit schedule (default: from nothing)",
    )
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/ladder.csv"))
    args = parser.parse_args(argv)
    rows = []
    for size in args.sizes:
        for seed in args.seeds:
            row = isolated(run_one, size, seed, args.time_limit, args.workers)
            n, _ = _size(size)
            mip = (
                isolated(run_mip, size, seed, args.time_limit, args.workers, args.mip_warm)
                if n <= args.mip_max
                else dict.fromkeys(MIP_COLUMNS)
            )
            row = with_mip(row, mip)
            rows.append(row)
            print(", ".join(f"{k}={v}" for k, v in row.items()), flush=True)
    write_rows(rows, args.out)
    plot(rows, args.out.with_suffix(".png"))
    for size, m in medians(rows).items():
        print(
            f"{size}: variables {m.get('variables')}, build {m.get('build_s')} s, "
            f"first {m.get('first_s')} s, gap {m.get('gap')}, compliance {m.get('compliance')} "
            f"(first fit {m.get('greedy_compliance')}, HiGHS {m.get('mip_compliance')}), "
            f"objective {m.get('objective')} (HiGHS {m.get('mip_objective')}, reached "
            f"{m.get('times_sooner_than_mip')}x sooner), peak {m.get('peak_mb')} MB"
        )
    print(f"wrote {args.out} and {args.out.with_suffix('.png')}")


if __name__ == "__main__":
    main()
