"""Benchmark ladder: how cost and quality grow with program size, against the first-fit baseline.

    python benchmarks/ladder.py                      # 25 50 100 200 400 800 2000@10, seeds 0 1 2
    python benchmarks/ladder.py --sizes 25 50 --seeds 0 --time-limit 20

Each size (``N`` or ``N@K`` for N participants over K sites) and seed is a
generated week (``iopsched.generate``), solved in a fresh process so its peak
memory is its own.  One CSV row per run (benchmarks/results/ladder.csv) and a
PNG of the medians per size (ladder.png): model size, build time, time to first
and best schedule, gap, plan compliance and unmet hours of iopsched and of the
first-fit baseline (a coordinator's spreadsheet method), peak memory.
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import statistics
import time
from pathlib import Path

from bench_solve import write_rows  # same folder

DEFAULT_SIZES = ["25", "50", "100", "200", "400", "800", "2000@10"]


def _size(text: str) -> tuple[int, int]:
    n, _, sites = text.partition("@")
    return int(n), int(sites or 1)


def run_one(size: str, seed: int, time_limit: float, workers: int) -> dict:
    """One generated week: the first-fit baseline, then the solver (in this process)."""
    from iopsched import Solution, solve, validate
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

    def share(s: Solution) -> float:
        return round(1 - len({r.participant for r in s.unmet}) / max(1, n), 3)

    def hours(s: Solution) -> float:
        return round(sum(r.short for r in s.unmet if r.requirement == "min_hours"), 2)

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
        "gap": round(sol.gap, 4) if sol.gap is not None else None,
        "compliance": share(sol),
        "unmet_hours": hours(sol),
        "valid": validate(inst, sol).ok,
        "greedy_s": round(greedy_s, 3),
        "greedy_objective": base.objective,
        "greedy_compliance": share(base),
        "greedy_unmet_hours": hours(base),
        "greedy_valid": validate(inst, base).ok,
        "time_to_greedy_objective_s": reach,
        "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def _child(args: tuple, queue) -> None:
    queue.put(run_one(*args))


def run_isolated(size: str, seed: int, time_limit: float, workers: int) -> dict:
    """``run_one`` in a fresh process (so peak memory is this run's alone)."""
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=((size, seed, time_limit, workers), queue))
    proc.start()
    row = queue.get()
    proc.join()
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
        base = f"greedy_{key}"
        if any(base in med[s] for s in sizes):
            ax.plot(xs, [med[s].get(base) for s in sizes], "s--", label="first fit")
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
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/ladder.csv"))
    args = parser.parse_args(argv)
    rows = []
    for size in args.sizes:
        for seed in args.seeds:
            row = run_isolated(size, seed, args.time_limit, args.workers)
            rows.append(row)
            print(", ".join(f"{k}={v}" for k, v in row.items()), flush=True)
    write_rows(rows, args.out)
    plot(rows, args.out.with_suffix(".png"))
    for size, m in medians(rows).items():
        print(
            f"{size}: variables {m.get('variables')}, build {m.get('build_s')} s, "
            f"first {m.get('first_s')} s, gap {m.get('gap')}, compliance {m.get('compliance')} "
            f"(first fit {m.get('greedy_compliance')}), peak {m.get('peak_mb')} MB"
        )
    print(f"wrote {args.out} and {args.out.with_suffix('.png')}")


if __name__ == "__main__":
    main()
