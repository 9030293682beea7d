"""Large weeks: a few copies of a repeated group per person, a few therapists per session."""

from __future__ import annotations

from collections import Counter

from iopsched import Status, solve, validate
from iopsched.bounds import cost_floor
from iopsched.generate import generate
from iopsched.greedy import greedy_schedule
from iopsched.model.build import build_model
from iopsched.model.grid import Limits, eligible_for_group, interchangeable_groups, one_to_one_key
from iopsched.model.limits import copy_choices, therapist_choices
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
            assert n == max(
                3, len({s.group for s in guide if s.group in ids and pid in s.participants})
            )
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
    limited = build_model(inst, limits=Limits(members=allowed))
    count = lambda ctx: sum(len(gv.members) for gv in ctx.vars.groups.values())  # noqa: E731
    assert count(limited) < count(full)


def test_a_limited_week_is_never_called_optimal_and_reports_only_the_cost_floor():
    inst = generate(120, 1)
    sol = solve(inst, SolverSettings(time_limit=8, workers=2, copies_per_person=3, limits_from=100))
    assert sol.stats.limited_groups > 0
    assert sol.status is Status.FEASIBLE
    floor = cost_floor(inst)  # its search's bound is not the week's; the floor is
    assert 0 < floor < sol.objective
    assert sol.bound == floor
    assert all(e["bound"] == floor for e in sol.stats.progress)
    report = validate(inst, sol)
    assert report.ok, report.render()
    settings = SolverSettings(
        time_limit=3,
        workers=2,
        copies_per_person=None,
        therapists_per_session=None,
        limits_from=100,
    )
    exact = solve(inst, settings)
    assert exact.stats.limited_groups == 0 and exact.stats.limited_leads == 0


def test_each_session_is_offered_at_most_k_therapists_and_keeps_its_first_fit_one():
    inst = generate(120, 1)
    guide = greedy_schedule(inst)
    leads = therapist_choices(inst, 2, guide)
    assert leads, "the week must have sessions more than 2 therapists may lead"
    used: dict[str, set[str]] = {}
    for s in guide:
        key = s.group if s.group is not None else one_to_one_key(s.participants[0], s.kind)
        used.setdefault(key, set()).add(s.therapist)
    for key, allowed in leads.items():
        assert used.get(key, set()) <= allowed
        assert len(allowed) == max(2, len(used.get(key, set())))
    ctx = build_model(inst, limits=Limits(leads=leads))
    for gv in ctx.vars.groups.values():
        if gv.group.id in leads:
            assert all(set(m.therapists) <= leads[gv.group.id] for m in gv.meetings)


def test_weeks_below_the_size_threshold_are_solved_exactly():
    inst = generate(120, 1)
    sol = solve(inst, SolverSettings(time_limit=3, workers=2, limits_from=121))
    assert sol.stats.limited_groups == 0 and sol.stats.limited_leads == 0
