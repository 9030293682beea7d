"""Large weeks: each participant is offered a few copies of a repeated group."""

from __future__ import annotations

from collections import Counter

from iopsched import Status, solve, validate
from iopsched.generate import generate
from iopsched.greedy import greedy_schedule
from iopsched.model.build import build_model
from iopsched.model.copies import copy_choices
from iopsched.model.grid import eligible_for_group, interchangeable_groups
from iopsched.solver import SolverSettings


def test_each_person_is_offered_at_most_k_copies_and_keeps_their_first_fit_groups():
    inst = generate(120, 1)
    guide = greedy_schedule(inst)
    allowed = copy_choices(inst, 3, guide)
    families = [f for f in interchangeable_groups(inst) if len(f) > 3]
    assert families, "the week must have a family with more than 3 copies"
    assert set(allowed) == {g.id for f in families for g in f}
    for family in families:
        ids = {g.id for g in family}
        offered = Counter(pid for gid in ids for pid in allowed[gid])
        in_guide = Counter(pid for s in guide if s.group in ids for pid in set(s.participants))
        eligible = {p.id for p in inst.participants if eligible_for_group(p, family[0])}
        assert set(offered) == eligible
        for pid, n in offered.items():
            assert n == max(3, len({s.group for s in guide if s.group in ids and pid in s.participants}))
        for s in guide:
            if s.group in ids:
                assert set(s.participants) <= allowed[s.group], "first fit stays reachable"
        assert all(allowed[gid] for gid in ids), "every copy is offered to someone"
        assert in_guide  # the first fit uses the family


def test_small_families_are_left_alone():
    inst = generate(25, 1)
    assert copy_choices(inst, 4, greedy_schedule(inst)) == {}


def test_the_limited_model_has_fewer_memberships():
    inst = generate(120, 1)
    allowed = copy_choices(inst, 3, greedy_schedule(inst))
    full = build_model(inst)
    limited = build_model(inst, allowed=allowed)
    count = lambda ctx: sum(len(gv.members) for gv in ctx.vars.groups.values())  # noqa: E731
    assert count(limited) < count(full)


def test_a_limited_week_is_never_called_optimal_and_reports_no_bound_beyond_zero():
    inst = generate(120, 1)
    sol = solve(inst, SolverSettings(time_limit=8, workers=2, copies_per_person=3))
    assert sol.stats.limited_groups > 0
    assert sol.status is Status.FEASIBLE
    assert sol.bound == 0.0
    assert all(e["bound"] == 0.0 for e in sol.stats.progress)
    report = validate(inst, sol)
    assert report.ok, report.render()
    exact = solve(inst, SolverSettings(time_limit=3, workers=2, copies_per_person=None))
    assert exact.stats.limited_groups == 0
