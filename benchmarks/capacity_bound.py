"""Is the week short of staff, rooms or seats at the times people can come? An LP bound.

    python benchmarks/capacity_bound.py instances/evening-weekend-80.json [more weeks]

A linear relaxation that keeps only the week's capacity, slot by slot of the
grid: each participant spends each slot they are free in at most one of a
therapy group, an education group or a 1:1 session; the seats of a track's
groups at a slot are at most what its meetings then hold (in-person meetings
in distinct rooms, no more meetings than the track has groups, no more group
minutes in the week than its groups meet for); every session at a slot takes
a therapist free then (1:1 sessions one who gives them); therapists' weekly
hours bound the week's sessions.  What it drops: that a member attends every
meeting of a group, one meeting a day, at a start on the grid; pins, sites,
day counts and daily minimums; rooms for 1:1 sessions.  Each participant's
cost is priced as in ``iopsched.bounds``: their shortfalls at their weights,
``participant_short`` times the largest share of a plan line left short, and,
for the share served, the attendance days a full plan takes.  Every schedule,
read slot by slot, is a point of this LP at no higher cost, so its optimum
bounds the week's.

It answers where the gap lies.  Had it risen above the cost floor, the
weeks would be short of capacity in the evenings, and a bound that priced
that capacity would close part of the gap.  Measured on 2026-11-26 it equals
the floor of that day (before the floor priced the busiest therapist,
which this LP leaves out) on every week tried (the three shipped examples and generated weeks
of 50, 200 and 800 people): there is capacity for everyone in aggregate, and
what leaves people short is the combinatorics of who can meet when together.
It does see a lack of capacity where there is one: on an understaffed week
(``generate --participants 50 --seed 0 --profile understaffed``) it gives
42,002 against a floor of 9,060.  GLOP (in OR-Tools) solves it: 1.1 s at 80
people, 60 s at 800.
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict

from ortools.linear_solver import pywraplp

from iopsched import load_instance
from iopsched.bounds import cost_floor, participant_floor
from iopsched.instance import Group, Instance, Participant, Window, minutes_of
from iopsched.model.grid import eligible_for_group
from iopsched.relaxation import track_ids
from iopsched.timegrid import MINUTES_PER_DAY, intersect_spans, windows_union
from iopsched.weights import Weights

Var = pywraplp.Variable


class CapacityLP:
    """The LP of one week (see the module docstring)."""

    def __init__(self, inst: Instance):
        self.inst = inst
        self.slot = inst.slot_minutes
        self.program = windows_union(inst.program_hours)
        self.slots = [m for a, b in self.program for m in range(a, b, self.slot)]
        self.lp = pywraplp.Solver.CreateSolver("GLOP")
        self.sessions_at: dict[int, list[Var]] = defaultdict(list)  # slot -> sessions held
        self.one_to_one_at: dict[int, list[Var]] = defaultdict(list)
        self.room_at: dict[tuple[str, int], list[Var]] = defaultdict(list)
        self.busy: dict[tuple[str, int], list[Var]] = defaultdict(list)  # (person, slot)
        self.got: dict[tuple[str, str], list[Var]] = defaultdict(list)  # (person, kind)
        self.room_free: dict[str, set[int]] = {}  # room -> slots it is open

    def free(self, windows: list[Window] | None) -> set[int]:
        """Grid slots inside program hours that ``windows`` cover (all when None)."""
        if windows is None:
            return set(self.slots)
        spans = intersect_spans(windows_union(windows), self.program)
        return {m for a, b in spans for m in range(a, b - self.slot + 1, self.slot)}

    def meetings(self, groups: list[Group], people: list[Participant]) -> None:
        """Seats of these groups (one track, one kind, all in person or all online)."""
        lp, slot = self.lp, self.slot
        seats = max(g.max_size for g in groups)
        held: dict[int, list[tuple[Var, int]]] = {}  # slot -> (meetings, seats each)
        for m in self.slots:
            if groups[0].virtual:
                n = lp.NumVar(0, len(groups), "")
                held[m] = [(n, seats)]
            else:
                held[m] = []
                for r in self.inst.rooms:
                    if r.capacity >= min(g.min_size for g in groups) and m in self.room_free[r.id]:
                        u = lp.NumVar(0, 1, "")
                        held[m].append((u, min(seats, r.capacity)))
                        self.room_at[(r.id, m)].append(u)
            lp.Add(sum(v for v, _ in held[m]) <= len(groups))
            self.sessions_at[m] += [v for v, _ in held[m]]
        week = sum(g.duration_minutes * g.meetings_per_week for g in groups)
        lp.Add(sum(v for m in self.slots for v, _ in held[m]) * slot <= week)
        attend: dict[int, list[Var]] = defaultdict(list)
        for p in people:
            mine = [g for g in groups if eligible_for_group(p, g)]
            if not mine:
                continue
            xs = []
            for m in self.free(p.availability):
                x = lp.NumVar(0, 1, "")
                xs.append(x)
                attend[m].append(x)
                self.busy[(p.id, m)].append(x)
            lp.Add(sum(xs) * slot <= sum(g.duration_minutes * g.meetings_per_week for g in mine))
            self.got[(p.id, groups[0].kind)] += xs
        for m, xs in attend.items():
            lp.Add(sum(xs) <= sum(c * v for v, c in held[m]))

    def person(self, p: Participant, w: Weights) -> pywraplp.LinearExpr:
        """The participant's cost: their 1:1 sessions, limits and shortfalls."""
        lp, slot, plan = self.lp, self.slot, p.plan
        mine = self.free(p.availability)
        served = self.lp.NumVar(0, 1, "")  # 1 - the largest share of a plan line short
        cost = 0
        for kind, spec in (("individual", plan.individual), ("family", plan.family)):
            if spec is None or spec.sessions == 0:
                continue
            when = mine
            if kind == "family" and p.family_availability is not None:
                when = mine & self.free(p.family_availability)
            ys = []
            for m in when:
                y = lp.NumVar(0, 1, "")
                ys.append(y)
                self.busy[(p.id, m)].append(y)
                self.sessions_at[m].append(y)
                self.one_to_one_at[m].append(y)
            lp.Add(sum(ys) * slot <= spec.sessions * spec.minutes)
            short = lp.NumVar(0, spec.sessions, "")
            lp.Add(short >= spec.sessions - sum(ys) * (slot / spec.minutes))
            lp.Add(1 - served >= short * (1 / spec.sessions))
            cost += getattr(w, f"{kind}_short") * short
        by_day: dict[int, list[Var]] = defaultdict(list)
        for m in mine:
            if self.busy[(p.id, m)]:
                lp.Add(sum(self.busy[(p.id, m)]) <= 1)
                by_day[m // MINUTES_PER_DAY] += self.busy[(p.id, m)]
        total = sum(v for vs in by_day.values() for v in vs) * slot
        lp.Add(total <= minutes_of(plan.max_hours))
        if p.max_hours_per_day is not None:
            for vs in by_day.values():
                lp.Add(sum(vs) * slot <= minutes_of(p.max_hours_per_day))
        lines = [
            ("min_hours", total, w.min_hours_short),
            ("group_hours", sum(self.got[(p.id, "group")]) * slot, w.group_hours_short),
            ("education_hours", sum(self.got[(p.id, "education")]) * slot, w.education_hours_short),
        ]
        for field, got, weight in lines:
            need = minutes_of(getattr(plan, field) or 0)
            if need <= 0:
                continue
            short = lp.NumVar(0, need, "")
            lp.Add(short >= need - got)
            lp.Add(1 - served >= short * (1 / need))
            cost += weight * short
        # served in full, they come in on the days their plan takes (0 when it cannot be)
        floor = participant_floor(self.inst, p, w)
        days = floor if floor < w.participant_short else 0
        return cost + w.participant_short * (1 - served) + days * served

    def solve(self) -> float:
        """The LP optimum: a lower bound on every schedule's cost."""
        inst, lp, slot = self.inst, self.lp, self.slot
        w = Weights.resolve(inst.weights)
        self.room_free = {r.id: self.free(r.availability) for r in inst.rooms}
        staff = {t.id: self.free(t.availability) for t in inst.therapists}
        by_id = inst.participant_by_id
        for ids in track_ids(inst):
            people = [by_id[i] for i in ids]
            mine = [g for g in inst.groups if any(eligible_for_group(p, g) for p in people)]
            for kind in ("group", "education"):
                for online in (False, True):
                    same = [g for g in mine if g.kind == kind and g.virtual == online]
                    if same:
                        self.meetings(same, people)
        cost = sum(self.person(p, w) for p in inst.participants)
        gives = [t for t in inst.therapists if {"individual", "family"} & set(t.modalities)]
        for m in self.slots:
            lp.Add(sum(self.sessions_at[m]) <= sum(m in free for free in staff.values()))
            lp.Add(sum(self.one_to_one_at[m]) <= sum(m in staff[t.id] for t in gives))
        for uses in self.room_at.values():
            lp.Add(sum(uses) <= 1)
        hours = sum(
            min(minutes_of(t.max_hours_per_week), len(staff[t.id]) * slot) for t in inst.therapists
        )
        lp.Add(sum(v for vs in self.sessions_at.values() for v in vs) * slot <= hours)
        lp.Minimize(cost)
        if lp.Solve() != pywraplp.Solver.OPTIMAL:
            raise RuntimeError("the capacity LP was not solved to optimality")
        return lp.Objective().Value()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("instances", nargs="+")
    args = parser.parse_args()
    print("week,participants,cost_floor,capacity_bound,seconds")
    for path in args.instances:
        inst = load_instance(path)
        t0 = time.perf_counter()
        bound = CapacityLP(inst).solve()
        seconds = time.perf_counter() - t0
        row = [path, len(inst.participants), cost_floor(inst), round(bound, 1), round(seconds, 2)]
        print(",".join(str(x) for x in row), flush=True)


if __name__ == "__main__":
    main()
