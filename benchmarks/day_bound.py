"""How much of the gap do days explain?  A bound from the week seen one day at a time.

    python benchmarks/day_bound.py instances/evening-weekend-80.json --seconds 30

A relaxation of the week, one track at a time (people linked by the groups open
to them, as in ``iopsched.relaxation``), that keeps who comes in on which day
and drops the time of day, staff and rooms:

* each person served in full comes in on one set of days, priced as the cost
  floor prices it (``iopsched.bounds.day_options``: the attendance days, and
  the minutes their preferred windows cannot hold); one not served in full
  costs what the floor says they cost short;
* each running group meets on ``meetings_per_week`` days, among those with a
  start it may have (``Candidates.group_starts``), and each member served in
  full comes in on each of them and can make it then;
* a served person's group and psychoeducation hours come from their groups,
  and their 1:1 sessions fall on days they come in, on which a therapist who
  may see them is free for the session;
* each day a served person comes in holds their daily minimum and no more than
  the day can hold, and their week at least ``min_hours`` and at most
  ``max_hours``; group sizes hold (people not served in full may fill places).

Every schedule of the week, read day by day, is a solution of it at no higher
cost, so its optimum bounds the week's.  CP-SAT solves each track; the bound
it proves, and the best solution it finds (above which no bound of this kind
can rise), are printed by track and in total, next to the cost floor.

Measured on 2026-11-28 on the 80-person example (30 s a track, 2 workers):
between 15,600 (proven) and 15,960 (found), against a floor of 15,480
(15,605 since the floor prices the busiest therapist, which this relaxation
leaves out) and a best schedule of 19,390 (18,852 since 2026-11-29).  Days and
who shares them explain little of the gap.
"""

from __future__ import annotations

import argparse
import time

from ortools.sat.python import cp_model

from iopsched import load_instance
from iopsched.bounds import daily_capacity, day_options, participant_floor
from iopsched.instance import Instance, minutes_of
from iopsched.model.grid import Candidates, eligible_for_group
from iopsched.relaxation import track_ids
from iopsched.timegrid import DAYS, intersect_spans
from iopsched.weights import Weights


def day_model(inst: Instance, cand: Candidates, ids: list[str]) -> cp_model.CpModel:
    """The track of ``ids``, one day at a time (see the module)."""
    w = Weights.resolve(inst.weights)
    grid = cand.grid
    week = range(len(DAYS))
    people = [inst.participant_by_id[i] for i in ids]
    groups = [g for g in inst.groups if any(eligible_for_group(p, g) for p in people)]
    m = cp_model.CpModel()
    cost = []
    runs, meets, members, starts = {}, {}, {}, {}
    for g in groups:
        starts[g.id] = set(cand.group_starts(g))
        days = {grid.day_of(t) for t in starts[g.id]}
        runs[g.id] = m.new_bool_var(f"run {g.id}")
        meets[g.id] = [m.new_bool_var(f"{g.id} on {d}") if d in days else 0 for d in week]
        m.add(sum(meets[g.id]) == g.meetings_per_week * runs[g.id])
        members[g.id] = []
    for p in people:
        short, options = day_options(inst, p, w)
        served = m.new_bool_var(f"served {p.id}")
        cost.append(short * (1 - served))
        chosen = [m.new_bool_var(f"{p.id} days {days:07b}") for _, days in options]
        m.add(sum(chosen) == served)
        cost += [c * x for (c, _), x in zip(options, chosen, strict=True)]
        comes = [
            sum(x for (_, days), x in zip(options, chosen, strict=True) if days >> d & 1)
            for d in week
        ]
        minutes: list[list] = [[] for _ in week]
        for kind, field in (("group", "group_hours"), ("education", "education_hours")):
            hours = []
            for g in groups:
                if g.kind != kind or not eligible_for_group(p, g):
                    continue
                member = m.new_bool_var(f"{p.id} in {g.id}")
                m.add_implication(member, runs[g.id])
                members[g.id].append(member)
                hours.append(g.duration_minutes * g.meetings_per_week * member)
                can = {
                    grid.day_of(t)
                    for t in starts[g.id]
                    & cand.starts(cand.participant_spans[p.id], g.duration_minutes)
                }
                for d in week:
                    if isinstance(meets[g.id][d], int):
                        continue
                    there = m.new_bool_var(f"{p.id} at {g.id} on {d}")
                    m.add_bool_or([member.Not(), meets[g.id][d].Not(), there])
                    m.add_implication(there, member)
                    m.add_implication(there, meets[g.id][d])
                    if d not in can:  # only someone not served in full may sit it out
                        m.add_implication(there, served.Not())
                        continue
                    m.add(comes[d] >= 1).only_enforce_if([there, served])
                    minutes[d].append(g.duration_minutes * there)
            need = minutes_of(getattr(p.plan, field) or 0)
            if need:
                m.add(sum(hours) >= need).only_enforce_if(served)
        for kind in ("individual", "family"):
            spec = getattr(p.plan, kind)
            if spec is None or spec.sessions == 0:
                continue
            spans = cand.one_to_one_spans(p, kind)
            can = set()
            for t in cand.one_to_one_therapists(p, kind):
                free = intersect_spans(spans, cand.therapist_spans[t.id])
                can |= {grid.day_of(s) for s in cand.starts(free, spec.minutes)}
            held = [
                m.new_int_var(0, spec.sessions, f"{p.id} {kind} on {d}") if d in can else 0
                for d in week
            ]
            m.add(sum(held) >= spec.sessions).only_enforce_if(served)
            for d in week:
                if d in can:
                    m.add(held[d] <= spec.sessions * comes[d])
                    minutes[d].append(spec.minutes * held[d])
        caps = daily_capacity(inst, p)
        low = minutes_of(p.min_hours_per_day or 0)
        for d in week:
            day = sum(minutes[d])
            m.add(day <= caps[d]).only_enforce_if(served)
            m.add(day >= low * comes[d])  # (comes is 0 unless served)
        total = sum(sum(minutes[d]) for d in week)
        m.add(total >= minutes_of(p.plan.min_hours)).only_enforce_if(served)
    for g in groups:
        m.add(sum(members[g.id]) <= g.max_size)
        m.add(sum(members[g.id]) >= g.min_size * runs[g.id])
    m.minimize(sum(cost))
    return m


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("instances", nargs="+")
    parser.add_argument("--seconds", type=float, default=30.0, help="per track")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    for path in args.instances:
        inst = load_instance(path)
        cand = Candidates(inst)
        w = Weights.resolve(inst.weights)
        proven = found = floor = 0.0
        for ids in track_ids(inst):
            own = sum(participant_floor(inst, inst.participant_by_id[i], w) for i in ids)
            began = time.monotonic()
            solver = cp_model.CpSolver()
            solver.parameters.max_time_in_seconds = args.seconds
            solver.parameters.num_workers = args.workers
            code = solver.solve(day_model(inst, cand, ids))
            seconds = time.monotonic() - began
            if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
                print(
                    f"{path}: a track of {len(ids)}: {solver.status_name(code)} in {seconds:.1f}s"
                )
                return
            bound = max(own, solver.best_objective_bound)
            print(
                f"{path}: a track of {len(ids)}: floor {own:.0f}, bound {bound:.0f}, "
                f"found {solver.objective_value:.0f} ({solver.status_name(code)}, {seconds:.1f}s)",
                flush=True,
            )
            floor += own
            proven += bound
            found += solver.objective_value
        print(
            f"{path}: floor {floor:.0f} (person by person), day bound {proven:.0f}, "
            f"found {found:.0f}"
        )


if __name__ == "__main__":
    main()
