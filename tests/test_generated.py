"""Generated weeks of several sizes: every returned schedule passes the validator."""

from __future__ import annotations

import pytest

from iopsched import Status, solve, validate
from iopsched.bounds import cost_floor
from iopsched.generate import generate


@pytest.mark.parametrize(
    ("n", "seed", "profile"),
    [
        (8, 1, "small"),
        (15, 2, "small"),
        (25, 3, "evening"),
        (40, 4, "evening"),
        (30, 5, "understaffed"),
    ],
)
def test_generated_schedules_validate(n, seed, profile):
    inst = generate(n, seed, profile=profile)
    sol = solve(inst, time_limit=8, workers=2)
    assert sol.status in (Status.OPTIMAL, Status.FEASIBLE)
    report = validate(inst, sol)
    assert report.ok, report.render()
    assert report.objective == sol.objective
    assert sum(t.cost for t in sol.stats.cost_terms) == sol.objective
    assert cost_floor(inst) <= sol.bound <= sol.objective


def test_generated_with_fixed_times_and_pins_validate():
    inst = generate(20, 7, profile="small", pins=4, fixed_groups=2)
    assert inst.pins and any(g.fixed_times for g in inst.groups)
    sol = solve(inst, time_limit=8, workers=2)
    assert sol.status.has_schedule, sol.stats.infeasible_because
    assert validate(inst, sol).ok


def test_generator_is_deterministic():
    assert generate(30, 3) == generate(30, 3)
    assert generate(30, 3) != generate(30, 4)


def test_multi_site_week_keeps_sites_apart():
    inst = generate(36, 8, profile="small", sites=2)
    sol = solve(inst, time_limit=8, workers=2)
    report = validate(inst, sol)
    assert report.ok, report.render()
    rooms = inst.room_by_id
    people = inst.participant_by_id
    for s in sol.sessions:
        if s.room is not None:
            assert all(people[p].site == rooms[s.room].site for p in s.participants)
