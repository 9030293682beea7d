"""Command line: a thin layer over the library (load, solve, validate, write)."""

from __future__ import annotations

import json
import logging
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import click

from iopsched.explain import explain
from iopsched.export import FORMATS, export
from iopsched.generate import PROFILES, follow_on, generate
from iopsched.instance import Instance
from iopsched.io import (
    InputError,
    dump_model,
    load_instance,
    load_solution,
    write_bytes_atomic,
    write_json_atomic,
)
from iopsched.roster import read_roster, roster_bytes
from iopsched.solution import Solution, Stats, Status
from iopsched.solver import Progress, SolverSettings, solve
from iopsched.validator import validate

T = TypeVar("T")

EXIT_INVALID = 1  # validate: violations found; solve: no schedule
EXIT_BAD_INPUT = 2
SAVE_EVERY = 15.0  # seconds between saves of the best schedule so far while solving


def _fail_input(error: InputError) -> None:
    click.echo(error.render(), err=True)
    sys.exit(EXIT_BAD_INPUT)


def _load(loader: Callable[[str], T], path: str) -> T:
    """Read a contract file, or say what is wrong with it (exit 2)."""
    try:
        return loader(path)
    except InputError as error:
        _fail_input(error)
        raise  # unreachable


def _load_instance(path: str) -> Instance:
    return _load(load_instance, path)


def _load_solution(path: str) -> Solution:
    return _load(load_solution, path)


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.2f}%"


def _ways_out(reasons: list[str]) -> list[str]:
    """What a coordinator can change so that the rest of the week can be scheduled."""
    both = any("groups and pins" in r for r in reasons)
    fixes = []
    if both or any(r.startswith("group ") for r in reasons):
        fixes.append('mark those groups "optional": true or change their fixed times')
    if both or any(r.startswith("pin ") for r in reasons):
        fixes.append("remove or move those pins")
    if not fixes:
        return []
    return [f"to schedule the rest of the week: {' and '.join(fixes)}, then solve again"]


def summary(instance: Instance, solution: Solution, limit: int = 15) -> str:
    """A short account of a solve for a coordinator."""
    s = solution
    bound = "-" if s.bound is None else f"{s.bound}"
    floor = s.stats.cost_floor if s.stats else None
    relaxed = s.stats.relaxation_bound if s.stats else None
    if s.status is not Status.OPTIMAL and s.bound is not None:
        if floor is not None and s.bound == floor:
            bound += " (cost floor, read from the plans; the search proved no more)"
        elif relaxed is not None and s.bound == relaxed:
            bound += " (proven on the week without staff and room limits, track by track)"
    lines = [
        f"status: {s.status.value}   objective: {s.objective if s.objective is not None else '-'}"
        f"   bound: {bound}   gap: {_pct(s.gap)}"
        f"   time: {s.solve_seconds:.1f} s"
    ]
    if s.status.has_schedule:
        kinds = Counter(x.kind for x in s.sessions)
        detail = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
        lines.append(f"sessions: {len(s.sessions)} ({detail or 'none'})")
        served = len(instance.participants) - len({r.participant for r in s.unmet})
        lines.append(f"participants with their full plan: {served}/{len(instance.participants)}")
    lines += _last_week(s.stats)
    if s.status is Status.UNKNOWN:
        lines.append(
            "no schedule yet, and none proven impossible: the first fit could not keep every "
            "hard rule (most often a pin, or a daily minimum around one) and the search has "
            "found none in the time; a longer --time-limit may find one"
        )
    if _still_improving(s):
        lines.append(
            f"still improving: the last better schedule came at {s.stats.time_to_best:.1f} s of "
            f"{s.solve_seconds:.1f} s; a longer --time-limit, or solving again with --start "
            "and this solution, is likely to find a better week"
        )
    if s.stats and s.stats.infeasible_because:
        lines.append("the hard rules cannot all hold:")
        lines += [f"  - {reason}" for reason in s.stats.infeasible_because]
        lines += _ways_out(s.stats.infeasible_because)
    if s.unmet and s.status.has_schedule:
        lines.append(f"unmet ({len(s.unmet)}):")
        for row in s.unmet[:limit]:
            unit = "sessions" if row.requirement in ("individual", "family") else "h"
            lines.append(
                f"  {row.participant:<10} {row.requirement:<16} required {row.required:g} {unit}, "
                f"scheduled {row.scheduled:g}, short {row.short:g}"
            )
        if len(s.unmet) > limit:
            lines.append(f"  ... and {len(s.unmet) - limit} more (see the solution file)")
        lines.append("why each is unmet: iopsched explain INSTANCE SOLUTION")
    return "\n".join(lines)


def _last_week(stats: Stats | None) -> list[str]:
    """How last week's schedule (``previous``) was used: the start, or why not."""
    if stats is None or stats.last_week_sessions is None:
        return []
    kept = f"{stats.last_week_kept} of its {stats.last_week_sessions} sessions kept"
    if stats.started_from == "last_week":
        return [f"began from last week's schedule: {kept}, the rest placed by first fit"]
    why = {
        "nothing kept": "none of its sessions fit this week",
        "outside the model": "this week's model cannot take it (see the warning above)",
        "costs more than the first fit": f"{kept}, it cost more than the first fit",
    }.get(stats.last_week_unused or "", f"{kept}, the week completed around them")
    if stats.last_week_breaks:
        n = len(stats.last_week_breaks)
        why += f" still breaks {n} rule(s), first {stats.last_week_breaks[0]}"
    return [f"last week's schedule was not the start: {why}"]


def _still_improving(s: Solution) -> bool:
    """True when a stopped search found its best schedule in the last tenth of its time."""
    if s.status is not Status.FEASIBLE or s.stats is None or s.stats.time_to_best is None:
        return False
    return s.solve_seconds >= 1.0 and s.stats.time_to_best >= 0.9 * s.solve_seconds


@click.group()
@click.option(
    "-v", "--verbose", count=True, help="More log lines on stderr (-vv: each search round)."
)
@click.version_option(package_name="iopsched")
def main(verbose: int) -> None:
    """iopsched: exact weekly schedules for Intensive Outpatient Programs."""
    logging.basicConfig(
        level=[logging.WARNING, logging.INFO, logging.DEBUG][min(verbose, 2)],
        format="%(levelname)s %(message)s",
        stream=sys.stderr,
    )


@main.command("solve")
@click.argument("instance", type=click.Path(dir_okay=False))
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write the solution JSON.")
@click.option(
    "--time-limit",
    type=click.FloatRange(min=0, min_open=True),
    default=60.0,
    show_default=True,
    help="Seconds; the best schedule so far is returned then.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Search workers (0 = one per core, up to 8).",
)
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True)
@click.option(
    "--deterministic/--wall-clock",
    default=None,
    help=(
        "Count the time limit in CP-SAT's work (about what it does in that many seconds): "
        "the same schedule on every run and machine for the same seed and workers, while "
        "the wall time varies. Default: deterministic with --workers 1, else wall clock."
    ),
)
@click.option("--log-search", is_flag=True, help="Show CP-SAT's own search log.")
@click.option(
    "--in-process",
    is_flag=True,
    help=(
        "Search in this process, not in a child process (the default keeps the best "
        "schedule found should the search crash)."
    ),
)
@click.option("--quiet", is_flag=True, help="No live progress line.")
@click.option(
    "--start",
    "start_file",
    type=click.Path(dir_okay=False),
    help=(
        "Begin from this schedule of the week (an earlier solve's output, to search on "
        "from it, or an edited one); the result never costs more. A schedule that breaks "
        "a rule of the week gets a warning, and what breaks it is dropped and the week "
        "completed around the rest by first fit."
    ),
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Machine-readable: progress as JSON lines on stderr, the result as JSON on stdout.",
)
def solve_cmd(
    instance: str,
    output: str | None,
    time_limit: float,
    workers: int,
    seed: int,
    deterministic: bool | None,
    log_search: bool,
    in_process: bool,
    quiet: bool,
    start_file: str | None,
    as_json: bool,
) -> None:
    """Solve INSTANCE; Ctrl-C or the time limit keeps the best schedule found.

    On a terminal a live line shows elapsed time, objective, bound, gap and
    participants fully served; elsewhere it stays quiet unless --json.
    """
    inst = _load_instance(instance)
    start = _load_solution(start_file) if start_file else None
    settings = SolverSettings(
        time_limit=time_limit,
        workers=workers,
        seed=seed,
        deterministic=workers == 1 if deterministic is None else deterministic,
        log_search=log_search,
        isolated=not in_process,
    )
    live = _Live(len(inst.participants)) if not (quiet or as_json) and _on_terminal() else None

    def progress(event: Progress) -> None:
        if as_json:
            record = {"event": "progress", "elapsed": round(event.elapsed, 3)}
            record |= {"objective": event.objective, "bound": event.bound, "gap": event.gap}
            click.echo(json.dumps(record | {"fully_served": event.fully_served}), err=True)
        elif live is not None:
            live.update(event)

    saved = [float("-inf")]  # when the best schedule so far was last saved

    def save(best: Solution) -> None:
        """Keep the best schedule so far in the output file, so a crash loses little."""
        if output and time.monotonic() - saved[0] >= SAVE_EVERY and validate(inst, best).ok:
            saved[0] = time.monotonic()
            try:
                write_json_atomic(output, dump_model(best))
            except OSError as error:
                logging.getLogger("iopsched").warning("could not save the schedule: %s", error)

    if live is not None:
        live.start()
    try:
        solution = solve(inst, settings, on_progress=progress, on_schedule=save, start=start)
    except KeyboardInterrupt:
        click.echo("\ninterrupted before any schedule was found; nothing written", err=True)
        sys.exit(EXIT_INVALID)
    finally:
        if live is not None:
            live.stop()
    if output:
        write_json_atomic(output, dump_model(solution))
    if as_json:
        click.echo(json.dumps(_result_record(inst, solution, output)))
    else:
        click.echo(summary(inst, solution))
        if output:
            click.echo(f"wrote {output}")
    if not solution.status.has_schedule:
        sys.exit(EXIT_INVALID)


def _on_terminal() -> bool:
    return sys.stderr.isatty()


def _result_record(inst: Instance, s: Solution, output: str | None) -> dict:
    short = {row.participant for row in s.unmet}
    return {
        "event": "result",
        "status": s.status.value,
        "objective": s.objective,
        "bound": s.bound,
        "gap": s.gap,
        "solve_seconds": s.solve_seconds,
        "participants": len(inst.participants),
        "fully_served": len(inst.participants) - len(short) if s.status.has_schedule else None,
        "unmet": [row.model_dump() for row in s.unmet],
        "infeasible_because": s.stats.infeasible_because if s.stats else None,
        "output": output,
    }


class _Live:
    """One status line on the terminal, redrawn twice a second while the solver works."""

    def __init__(self, people: int):
        self.people = people
        self.t0 = time.monotonic()
        self.last: Progress | None = None
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._tick, daemon=True)

    def update(self, event: Progress) -> None:
        self.last = event

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.done.set()
        self.thread.join()
        self._draw()
        click.echo("", err=True)

    def _tick(self) -> None:
        while not self.done.wait(0.5):
            self._draw()

    def _draw(self) -> None:
        e = self.last
        line = f"{time.monotonic() - self.t0:7.1f}s  "
        if e is None:
            line += "looking for a first schedule"
        else:
            served = "-" if e.fully_served is None else f"{e.fully_served}/{self.people}"
            line += (
                f"objective {e.objective:>10g}  bound {e.bound:>10g}  gap {_pct(e.gap):>7}"
                f"  fully served {served}"
            )
        click.echo(f"\r{line}\x1b[K", err=True, nl=False)


@main.command("validate")
@click.argument("instance", type=click.Path(dir_okay=False))
@click.argument("solution", type=click.Path(dir_okay=False))
def validate_cmd(instance: str, solution: str) -> None:
    """Check SOLUTION against every hard rule of INSTANCE; exit 1 on any violation."""
    inst = _load_instance(instance)
    sol = _load_solution(solution)
    report = validate(inst, sol)
    click.echo(report.render())
    if not report.ok:
        sys.exit(EXIT_INVALID)


@main.command("explain")
@click.argument("instance", type=click.Path(dir_okay=False))
@click.argument("solution", type=click.Path(dir_okay=False))
@click.option(
    "--seconds",
    type=click.FloatRange(min=0, min_open=True),
    default=2.0,
    show_default=True,
    help="Time to solve each short participant's week alone.",
)
def explain_cmd(instance: str, solution: str, seconds: float) -> None:
    """Why each unmet row of SOLUTION is unmet: a computed reason per participant and need."""
    inst = _load_instance(instance)
    sol = _load_solution(solution)
    reasons = explain(inst, sol, seconds)
    if not reasons:
        click.echo("every plan is fully met" if sol.status.has_schedule else "no schedule")
    for r in reasons:
        who = f"{r.participant} {r.requirement}: " if r.participant else ""
        click.echo(f"- {who}{r.text}  [{r.kind}]")


@main.command("export")
@click.argument("solution", type=click.Path(dir_okay=False))
@click.option(
    "--instance",
    "instance_path",
    type=click.Path(dir_okay=False),
    help="The solved instance (default: instances/NAME.json for the solution's instance NAME).",
)
@click.option("--to", "folder", type=click.Path(file_okay=False), required=True)
@click.option(
    "--format",
    "formats",
    default=",".join(FORMATS),
    show_default=True,
    help="Comma-separated: " + ", ".join(FORMATS) + ".",
)
def export_cmd(solution: str, instance_path: str | None, folder: str, formats: str) -> None:
    """Write SOLUTION as a workbook, CSV tables, calendars and a web page into a folder."""
    wanted = tuple(f.strip() for f in formats.split(",") if f.strip())
    unknown = [f for f in wanted if f not in FORMATS]
    if unknown or not wanted:
        click.echo(f"--format: unknown {', '.join(unknown) or '(none)'}; use {FORMATS}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    sol = _load_solution(solution)
    if instance_path is None:
        instance_path = str(Path("instances") / f"{sol.instance}.json")
        if not Path(instance_path).is_file():
            click.echo(
                f"{solution}: solves instance '{sol.instance}', but {instance_path} does not "
                "exist; name the instance with --instance",
                err=True,
            )
            sys.exit(EXIT_BAD_INPUT)
    inst = _load_instance(instance_path)
    files = export(inst, sol, folder, wanted)
    click.echo(f"wrote {len(files)} file(s) to {folder}")


@main.command("import")
@click.argument("roster", type=click.Path())
@click.option("-o", "--output", type=click.Path(dir_okay=False), required=True)
def import_cmd(roster: str, output: str) -> None:
    """Read a ROSTER (.xlsx workbook or folder of .csv files) into an instance JSON."""
    try:
        inst = read_roster(roster)
    except InputError as error:
        _fail_input(error)
        raise
    write_json_atomic(output, dump_model(inst))
    click.echo(
        f"wrote {output}: {len(inst.participants)} participants, {len(inst.therapists)} "
        f"therapists, {len(inst.groups)} groups, {len(inst.rooms)} rooms"
    )


@main.command("template")
@click.option("-o", "--output", type=click.Path(dir_okay=False), required=True)
@click.option(
    "--instance",
    "instance_path",
    type=click.Path(dir_okay=False),
    help="Fill the roster from this instance instead of leaving it blank.",
)
def template_cmd(output: str, instance_path: str | None) -> None:
    """Write a roster workbook to fill in (blank, or filled from an instance)."""
    inst = _load_instance(instance_path) if instance_path else None
    write_bytes_atomic(output, roster_bytes(inst))
    click.echo(f"wrote {output}")


@main.command("generate")
@click.option("--participants", type=click.IntRange(min=1), required=True)
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--sites", type=click.IntRange(min=1), default=1, show_default=True)
@click.option(
    "--profile",
    type=click.Choice(sorted(PROFILES)),
    default="evening",
    show_default=True,
    help="small: 4 evenings and Saturday; evening: 5 evenings and the weekend, three tracks; "
    "understaffed: evening with about half the staff (not every plan can be met).",
)
@click.option(
    "--pins",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="book an individual session for up to P people (none with a daily minimum).",
)
@click.option(
    "--fixed-groups",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="fix the times of the first F therapy groups (weekday evenings); each must run "
    "where enough people and a facilitator are free then, else it stays optional.",
)
@click.option("--week-of", type=click.DateTime(formats=["%Y-%m-%d"]), default=None)
@click.option("-o", "--output", type=click.Path(dir_okay=False), required=True)
def generate_cmd(
    participants: int,
    seed: int,
    sites: int,
    profile: str,
    pins: int,
    fixed_groups: int,
    week_of,
    output: str,
) -> None:
    """Write a realistic synthetic week (the same file for the same arguments)."""
    inst = generate(
        participants,
        seed,
        profile=profile,
        pins=pins,
        fixed_groups=fixed_groups,
        sites=sites,
        week_of=week_of.date() if week_of else None,
    )
    write_json_atomic(output, dump_model(inst))
    click.echo(
        f"wrote {output}: {len(inst.participants)} participants, {len(inst.therapists)} "
        f"therapists, {len(inst.groups)} groups, {len(inst.rooms)} rooms"
    )


@main.command("next-week")
@click.argument("week_path", metavar="WEEK", type=click.Path(dir_okay=False))
@click.argument("solution_path", metavar="SOLUTION", type=click.Path(dir_okay=False))
@click.option(
    "--turnover",
    type=click.IntRange(min=0),
    required=True,
    help="discharge N people at random and admit as many new intakes of their tracks.",
)
@click.option(
    "--pins",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="book the first individual session of up to P new intakes, where the therapist's "
    "calendar of last week is free.",
)
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False), required=True)
def next_week_cmd(
    week_path: str, solution_path: str, turnover: int, pins: int, seed: int, output: str
) -> None:
    """Write a synthetic next week of a generated WEEK, with its SOLUTION as last week's
    schedule (the same file for the same arguments)."""
    week, previous = _load_instance(week_path), _load_solution(solution_path)
    if previous.instance != week.name:
        raise click.UsageError(
            f"{solution_path}: a schedule of {previous.instance!r}, not of {week.name!r} "
            f"({week_path})"
        )
    try:
        inst = follow_on(week, previous, seed, turnover=turnover, pins=pins)
    except ValueError as error:  # a turnover above the census, or someone in no track
        raise click.UsageError(f"{week_path}: {error}") from None
    write_json_atomic(output, dump_model(inst))
    click.echo(
        f"wrote {output}: {len(inst.participants)} participants ({turnover} new), "
        f"{len(inst.pins)} pins, last week's schedule of {len(previous.sessions)} sessions"
    )


@main.command("schema")
@click.argument("which", type=click.Choice(["instance", "solution"]), default="instance")
def schema_cmd(which: str) -> None:
    """Print the JSON Schema of the instance or solution format."""
    model = Instance if which == "instance" else Solution
    click.echo(json.dumps(model.model_json_schema(), indent=2))


if __name__ == "__main__":  # pragma: no cover
    main()
