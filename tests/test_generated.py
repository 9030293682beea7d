"""Generated weeks of several sizes: every returned schedule passes the validator."""

from __future__ import annotations

import datetime as dt

import pytest

from iopsched import Status, solve, validate
from iopsched.bounds import cost_floor
from iopsched.generate import follow_on, generate, track_of
from iopsched.greedy import first_fit_solution
from iopsched.search.start import carried_forward
from iopsched.solution import Solution
from iopsched.timegrid import parse_hhmm


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


@pytest.mark.parametrize(
    ("n", "seed", "profile", "fixed", "pins", "sites"),
    [
        (4, 2, "small", 1, 0, 1),  # two people fit the first fixed group: it needs three
        (3, 1, "small", 1, 2, 1),  # a pinned 1:1 session alone cannot reach a daily minimum
        (12, 5, "evening", 2, 2, 1),  # the people free then have daily minimums
        (12, 4, "evening", 1, 2, 1),  # a pin books a needed member at the group's time
        (8, 0, "small", 2, 2, 2),  # two sites of four people
    ],
)
def test_small_generated_weeks_with_fixed_groups_and_pins_have_a_schedule(
    n, seed, profile, fixed, pins, sites
):
    """Each of these weeks was infeasible when every fixed group had to run."""
    inst = generate(n, seed, profile=profile, fixed_groups=fixed, pins=pins, sites=sites)
    assert any(g.fixed_times for g in inst.groups)
    sol = solve(inst, time_limit=3, workers=2)
    assert sol.status.has_schedule, sol.stats.infeasible_because
    assert validate(inst, sol).ok


def test_fixed_groups_must_run_where_enough_people_can_come():
    inst = generate(30, 13, profile="small", pins=6, fixed_groups=2)  # the pinned-week example
    fixed = [g for g in inst.groups if g.fixed_times]
    assert len(fixed) == 2 and not any(g.optional for g in fixed)
    tiny = generate(4, 2, profile="small", fixed_groups=1)
    assert [g.optional for g in tiny.groups if g.fixed_times] == [True]


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


def test_a_follow_on_week_discharges_admits_and_books_first_sessions():
    week = generate(40, 5, week_of=dt.date(2026, 11, 2))
    previous = first_fit_solution(week)  # last week's schedule
    nxt = follow_on(week, previous, 2, turnover=6, pins=6)
    assert nxt == follow_on(week, previous, 2, turnover=6, pins=6)
    assert nxt != follow_on(week, previous, 3, turnover=6, pins=6)
    before, after = {p.id for p in week.participants}, {p.id for p in nxt.participants}
    assert len(after) == 40 and len(before - after) == 6
    admitted = after - before
    tracks = lambda people: sorted(track_of(p.model_dump()).key for p in people)  # noqa: E731
    left = [p for p in week.participants if p.id not in after]
    assert tracks(left) == tracks(p for p in nxt.participants if p.id in admitted)
    assert nxt.previous == previous and nxt.week_of == dt.date(2026, 11, 9)
    assert all(q in after for p in nxt.participants for q in p.avoid or [])
    assert nxt.pins and all(pin.participant in admitted for pin in nxt.pins)
    for pin in nxt.pins:  # booked where the therapist's calendar was free last week
        minutes = nxt.participant_by_id[pin.participant].plan.individual.minutes
        a = parse_hhmm(pin.start)
        assert not any(
            s.therapist == pin.therapist
            and s.day == pin.day
            and parse_hhmm(s.start) < a + minutes
            and a < parse_hhmm(s.end)
            for s in previous.sessions
        )
    with pytest.raises(ValueError, match="turnover"):
        follow_on(week, previous, turnover=41)


@pytest.mark.parametrize(
    ("n", "seed", "profile", "extra"),
    [
        (20, 0, "small", {}),
        (40, 1, "evening", {"pins": 4, "fixed_groups": 2}),
        (80, 2, "evening", {}),
        (30, 3, "understaffed", {"pins": 4, "fixed_groups": 2}),
    ],
)
def test_last_weeks_schedule_carries_into_a_generated_follow_on_week(n, seed, profile, extra):
    """Discharges, new intakes and their pinned first sessions: the carried and completed
    week breaks no hard rule."""
    week = generate(n, seed, profile=profile, **extra)
    nxt = follow_on(week, first_fit_solution(week), seed, turnover=max(1, n // 9), pins=3)
    carried = carried_forward(nxt)
    assert carried is not None and carried.found is not None, carried and carried.broken
    sessions = carried.found.sessions
    assert not validate(
        nxt, Solution(instance=nxt.name, status="feasible", sessions=sessions)
    ).broken
    assert 0 < carried.kept <= carried.of


def test_a_follow_on_week_over_sites_admits_each_new_intake_to_the_site_of_who_left():
    week = generate(36, 8, profile="small", sites=2)
    nxt = follow_on(week, first_fit_solution(week), 1, turnover=5)
    before = {p.id: p for p in week.participants}
    left = sorted(set(before) - {p.id for p in nxt.participants})
    admitted = [p for p in nxt.participants if p.id not in before]
    assert [p.site for p in admitted] == [before[pid].site for pid in left]
    assert all(p.id.startswith(f"{p.site}-P") for p in admitted)  # ids as the week's
    assert len({p.id for p in nxt.participants}) == 36
