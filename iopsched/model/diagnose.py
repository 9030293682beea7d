"""Why a week is infeasible: the smallest set of switchable hard rules found in conflict."""

from __future__ import annotations

import logging
import time

from ortools.sat.python import cp_model

from iopsched.instance import Group, Instance, Participant
from iopsched.model.build import build_model
from iopsched.model.grid import Candidates, eligible_for_group
from iopsched.model.pins import could_match, pin_label

log = logging.getLogger("iopsched")


def _why_group_cannot_run(cand: Candidates, group: Group) -> str | None:
    grid = cand.grid
    leads = cand.facilitators(group)
    if not leads:
        return "no therapist may facilitate it"
    starts = cand.group_starts(group)
    days = {grid.day_of(t) for t in starts}
    if len(days) < group.meetings_per_week:
        where = "at its fixed times" if group.fixed_times else "in program hours"
        return (
            f"a facilitator{'' if group.virtual else ' and a room'} are free {where} on "
            f"{len(days)} day(s), but it meets {group.meetings_per_week} times a week"
        )
    if not group.virtual and all(r.capacity < group.min_size for r in cand.group_rooms(group)):
        return f"no room seats its minimum of {group.min_size}"
    eligible = [p for p in cand.instance.participants if eligible_for_group(p, group)]
    if len(eligible) < group.min_size:
        return f"{len(eligible)} participant(s) fit its tags and site; it needs {group.min_size}"
    can = [p for p in eligible if _can_make_every_meeting(cand, group, p, starts)]
    if len(can) < group.min_size:
        when = (
            "at all its fixed times"
            if group.fixed_times
            else f"to {group.meetings_per_week} of its meetings, each on its own day"
        )
        return (
            f"{len(eligible)} participant(s) fit its tags and site, but only {len(can)} of "
            f"them can come {when}; it needs {group.min_size}"
        )
    return None


def _can_make_every_meeting(
    cand: Candidates, group: Group, p: Participant, starts: list[int]
) -> bool:
    """The participant is free for a whole meeting at every fixed time of the group, or,
    without fixed times, on as many days as it meets, at times it could meet."""
    mine = cand.starts(cand.participant_spans[p.id], group.duration_minutes) & set(starts)
    if group.fixed_times:
        return len(mine) == len(set(starts))
    return len({cand.grid.day_of(t) for t in mine}) >= group.meetings_per_week


def _solve(model: cp_model.CpModel, seconds: float) -> tuple[int, cp_model.CpSolver]:
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_time_in_seconds = max(0.1, seconds)
    return solver.solve(model), solver


def explain_infeasible(instance: Instance, time_limit: float = 20.0) -> list[str]:
    """Name a small set of mandatory groups and pins that cannot all hold, each with a reason."""
    deadline = time.monotonic() + time_limit
    ctx = build_model(instance, diagnose=True)
    names = list(ctx.switches)
    if not names:
        return ["the hard rules conflict although no group is mandatory and nothing is pinned"]
    status, solver = _solve(ctx.model, deadline - time.monotonic())
    if status != cp_model.INFEASIBLE:
        return [f"the mandatory groups and pins conflict: {', '.join(names)}"]
    index = {lit.Index(): name for name, lit in ctx.switches.items()}
    core = [index[i] for i in solver.sufficient_assumptions_for_infeasibility() if i in index]
    core = core or names
    # Shrink the core: drop every rule without which the rest is still infeasible.
    for name in list(core):
        if len(core) == 1 or time.monotonic() > deadline:
            break
        trial = [n for n in core if n != name]
        ctx.model.clear_assumptions()
        ctx.model.add_assumptions([ctx.switches[n] for n in trial])
        status, _ = _solve(ctx.model, min(5.0, deadline - time.monotonic()))
        if status == cp_model.INFEASIBLE:
            core = trial
    log.info("infeasible: %d rule(s) in conflict", len(core))
    reasons = []
    labels = {pin_label(i, pin): pin for i, pin in enumerate(instance.pins)}
    for name in core:
        why = None
        if name.startswith("group ") and name.endswith(" must run"):
            gid = name[len("group ") : -len(" must run")]
            why = _why_group_cannot_run(ctx.cand, instance.group_by_id[gid])
        elif name in labels and not any(could_match(s, labels[name]) for s in ctx.vars.sessions):
            why = "no session of that description is possible (times, availability, eligibility)"
        suffix = f": {why}" if why else ""
        reasons.append(f"{name}{suffix}")
    if len(core) > 1:
        reasons.append("these cannot all hold together")
    return reasons
