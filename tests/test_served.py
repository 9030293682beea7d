"""The first window's search for the most people fully served (iopsched/model/served.py)."""

from __future__ import annotations

import logging
import time

import pytest
from ortools.sat.python import cp_model

import iopsched.search.window as window_module
import iopsched.solver as solver_module
from iopsched import Instance, SolverSettings, solve, validate
from iopsched.generate import generate
from iopsched.model.build import build_model
from iopsched.model.grid import Limits, one_to_one_key
from iopsched.model.lns import Neighbourhood, track_parts
from iopsched.model.served import PERSON_MINUTES, most_fully_served, not_fully_served
from iopsched.search.found import Found
from iopsched.search.run import (
    WORK_PER_SECOND,
    WORK_PER_SECOND_TAKING_TURNS,
    Clock,
    Run,
    configure,
)
from iopsched.search.window import (
    most_served_search,
    next_track,
    serve_most,
    served_stall,
    turn_parts,
    turns_fit,
    window_over,
)
from iopsched.validator import assess


def _one_therapist_two_hours() -> Instance:
    """Three people each need a 1 h individual session (their whole plan); the one
    therapist works two hours: two of them can be fully served, never three."""
    evening = [{"day": "mon", "start": "17:00", "end": "21:00"}]
    plan = {"min_hours": 1, "max_hours": 2, "individual": {"sessions": 1, "minutes": 60}}
    return Instance.model_validate(
        {
            "name": "two-hours",
            "program_hours": evening,
            "rooms": [{"id": "R1", "capacity": 1}],
            "therapists": [
                {
                    "id": "T1",
                    "modalities": ["individual"],
                    "availability": [{"day": "mon", "start": "17:00", "end": "19:00"}],
                    "max_hours_per_week": 10,
                }
            ],
            "groups": [],
            "participants": [
                {"id": f"P{i}", "availability": evening, "plan": plan} for i in (1, 2, 3)
            ],
        }
    )


def test_the_count_is_of_people_not_fully_served():
    """By hand: one of the three is left short, with all 60 minutes of their plan minimum
    unmet, and the model's optimum says so."""
    week = _one_therapist_two_hours()
    ctx = build_model(week)
    assert len(not_fully_served(ctx)) == 3
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    assert solver.solve(most_fully_served(ctx)) == cp_model.OPTIMAL
    assert solver.objective_value == PERSON_MINUTES + 60
    unmet, _ = assess(week, Found.read(ctx, solver.value).sessions)
    assert len({row.participant for row in unmet}) == 1


def test_a_turn_ends_sooner_than_the_window():
    """The window stalls after served_first_stall of the limit (9 s of 60, at least 3 s);
    a track's turn after served_turn_stall of it (by default 3 s of 60, at least 2 s)."""
    for limit, window, turn in ((60, 9.0, 3.0), (10, 3.0, 2.0)):
        settings = SolverSettings(time_limit=limit)
        assert served_stall(settings) == window
        assert served_stall(settings, settings.served_turn_stall) == turn


def test_the_window_hands_on_schedules_that_cost_less_by_the_weeks_objective():
    """From an empty week the window finds the schedule serving two, which costs less by the
    week's own objective: it is handed on as found and returned, and it is valid."""
    week = _one_therapist_two_hours()
    ctx = build_model(week)
    unmet, terms = assess(week, [])
    empty = Found([], unmet, terms)
    settings = SolverSettings(time_limit=10, workers=1)
    handed: list[int] = []
    found = serve_most(
        ctx,
        empty,
        settings,
        Clock(settings, time.monotonic()),
        Run(),
        lambda f: handed.append(f.objective),
    )
    assert handed and handed[-1] == found.objective < empty.objective
    assert len({row.participant for row in found.unmet}) == 1
    solution = solve(week, SolverSettings(time_limit=5, workers=1, served_first_share=0))
    assert found.objective == solution.objective  # the week's optimum: serve two
    report = validate(week, solution)
    assert report.ok, report.render()


def test_the_window_is_for_weeks_too_large_to_search_whole_first(caplog):
    """The window runs where neighbourhood rounds would come first (here forced by a
    threshold of 0 variables), and not on a week the whole-week search takes first, nor
    with a share of 0."""
    week = _one_therapist_two_hours()
    runs = {
        "rounds first": ({"whole_week_first_up_to": 0}, True),
        "whole week first": ({}, False),
        "share 0": ({"whole_week_first_up_to": 0, "served_first_share": 0}, False),
        "above its own threshold": (
            {"whole_week_first_up_to": 0, "served_first_up_to": 1},
            False,
        ),
    }
    for name, (extra, expected) in runs.items():
        caplog.clear()
        with caplog.at_level(logging.DEBUG, logger="iopsched"):
            solution = solve(week, SolverSettings(time_limit=2, workers=1, **extra))
        assert ("most-served search" in caplog.text) is expected, name
        assert validate(week, solution).ok, name


@pytest.mark.parametrize(
    ("up_to", "by_track", "expected"),
    [
        (400, True, True),  # the default
        (None, True, True),
        (1, True, True),  # three tracks of one person each
        (0, True, False),  # weeks with candidate limits skip the window
        (3, False, True),  # the whole week at once: a turn of three
        (2, False, False),
    ],
)
def test_a_week_with_candidate_limits_gets_the_window_when_its_turns_are_small(
    up_to, by_track, expected, monkeypatch, caplog
):
    """A week searched with candidate limits (a large one) runs the window on its limited
    model when no turn frees more than ``served_turn_up_to`` people.  The limits here are
    truthy but offer the only therapist there is, so the week stays the same."""
    week = _one_therapist_two_hours()
    limits = Limits(leads={one_to_one_key("P1", "individual"): frozenset({"T1"})})
    monkeypatch.setattr(solver_module, "candidate_limits", lambda *args: limits)
    settings = SolverSettings(
        time_limit=2,
        workers=1,
        whole_week_first_up_to=0,
        served_turn_up_to=up_to,
        served_by_track=by_track,
    )
    with caplog.at_level(logging.DEBUG, logger="iopsched"):
        solution = solve(week, settings)
    assert "large week" in caplog.text  # the limits were taken
    assert ("most-served search" in caplog.text) is expected
    assert validate(week, solution).ok
    assert solution.stats.participants_fully_served == 2  # the week's optimum: two of three


def test_the_window_turns_site_by_site_on_tracks_above_the_most():
    week = generate(40, 1, sites=3)  # tracks of 10, 11 and 19 people, each at three sites
    ctx = build_model(week)
    tracks = track_parts(ctx)
    assert turn_parts(ctx, SolverSettings(served_turn_up_to=None)) == tracks
    assert turn_parts(ctx, SolverSettings(served_turn_up_to=19)) == tracks
    turns = turn_parts(ctx, SolverSettings(served_turn_up_to=10))
    assert len(turns) == 1 + 3 + 3, "the 10-person track whole, the others by site"
    for turn in turns:
        sites = {week.participant_by_id[p].site for p in turn.participants}
        assert turn in tracks or len(sites) == 1
    assert turn_parts(ctx, SolverSettings(served_by_track=False)) == []


def test_turns_fit_when_none_frees_more_than_the_most():
    one = Neighbourhood("track", frozenset(), frozenset({"a"}))
    two = Neighbourhood("track", frozenset(), frozenset({"b", "c"}))
    settings = SolverSettings(served_turn_up_to=2)
    assert turns_fit(settings, [one, two], participants=3)
    assert not turns_fit(settings.model_copy(update={"served_turn_up_to": 1}), [one, two], 3)
    assert not turns_fit(settings, [two], participants=3), "one turn: the whole week"
    assert not turns_fit(settings, [], participants=3)
    assert turns_fit(settings, [], participants=2)
    assert turns_fit(settings.model_copy(update={"served_turn_up_to": None}), [], 10**6)


def test_the_window_gives_up_without_a_schedule_of_its_own_or_once_it_stalls():
    """Without its own schedule it ends after ``wait``; with one, ``stall`` after its latest
    (before the wait, a 12 s solve of a 60-person week spent 90 % here and found nothing)."""
    assert not window_over(now=5, started=0, last=None, wait=6, stall=3)
    assert window_over(now=7, started=0, last=None, wait=6, stall=3)
    assert not window_over(now=9, started=0, last=7, wait=6, stall=3), "a schedule at 7 s"
    assert window_over(now=11, started=0, last=7, wait=6, stall=3)


def test_ctrl_c_while_hinting_ends_the_window_with_the_schedule_in_hand():
    """The complete hint's solve runs through the interruptible runner: a Ctrl-C there
    ends the window at once, keeping the schedule it started from."""
    week = _one_therapist_two_hours()
    ctx = build_model(week)
    unmet, terms = assess(week, [])
    empty = Found([], unmet, terms)
    settings = SolverSettings(time_limit=10, workers=1)

    class Interrupted(Run):
        calls = 0

        def solve(self, solver, model, callback=None, stalled=None):
            self.calls += 1
            self.interrupted = True
            return cp_model.UNKNOWN

    run = Interrupted()
    clock = Clock(settings, time.monotonic())
    found = serve_most(ctx, empty, settings, clock, run, lambda f: None)
    assert found is empty
    assert run.calls == 1, "the window searched after Ctrl-C"


def test_the_window_searches_neighbourhoods_only_after_a_short_probe():
    ctx = build_model(_one_therapist_two_hours())
    model, solver = most_served_search(ctx, SolverSettings(time_limit=10, workers=2), 5.0)
    assert solver.parameters.use_lns_only
    assert solver.parameters.probing_deterministic_time_limit == 0.05
    assert solver.parameters.max_time_in_seconds == 5.0
    full = SolverSettings(served_first_lns_only=False, served_first_probing=1.0)
    _, solver = most_served_search(ctx, full, 5.0)
    assert not solver.parameters.use_lns_only
    assert solver.parameters.probing_deterministic_time_limit == 1.0
    exact = cp_model.CpSolver()  # the window's objective (test_the_count_is_of_people_...)
    assert exact.solve(model) == cp_model.OPTIMAL
    assert exact.objective_value == PERSON_MINUTES + 60


@pytest.mark.parametrize(
    ("workers", "deterministic", "taking_turns"),
    [
        (1, False, True),  # alone, CP-SAT runs no neighbourhood search unless it takes turns
        (1, True, True),
        (2, False, False),  # two workers search neighbourhoods side by side
        (2, True, True),  # deterministic workers always share their work in batches
    ],
)
def test_one_worker_takes_turns_between_neighbourhood_searches(
    workers, deterministic, taking_turns
):
    """The window's CP-SAT runs neighbourhoods only; one worker interleaves them, and its
    deterministic limit counts the work one worker taking turns does in a second."""
    ctx = build_model(_one_therapist_two_hours())
    settings = SolverSettings(workers=workers, deterministic=deterministic)
    _, solver = most_served_search(ctx, settings, 10.0)
    p = solver.parameters
    assert p.use_lns_only and p.interleave_search is taking_turns
    if deterministic:
        rate = WORK_PER_SECOND_TAKING_TURNS if workers == 1 else WORK_PER_SECOND
        assert p.max_deterministic_time == pytest.approx(10.0 * rate)
    whole = cp_model.CpSolver()  # any other search of one worker stays one tree search
    configure(whole, settings, 10.0)
    assert not whole.parameters.use_lns_only
    assert whole.parameters.interleave_search is (deterministic and workers > 1)


def test_a_deterministic_window_of_one_worker_repeats(caplog):
    """One worker taking turns in the window still gives the same schedule twice."""
    week = generate(30, 2)
    settings = SolverSettings(
        time_limit=6, workers=1, deterministic=True, seed=4, whole_week_first_up_to=0
    )
    with caplog.at_level(logging.DEBUG, logger="iopsched"):
        runs = [solve(week, settings) for _ in range(2)]
    assert caplog.text.count("most-served search:") >= 2, "the test needs the window to run"
    assert runs[0].sessions == runs[1].sessions
    assert runs[0].objective == runs[1].objective
    assert validate(week, runs[0]).ok


def _cap_of_two_hours() -> Instance:
    """As :func:`_one_therapist_two_hours`, but the therapist is free all evening and capped
    at two hours a week: wherever one session goes, a second still fits, a third never."""
    week = _one_therapist_two_hours().model_dump()
    week["therapists"][0]["availability"] = week["program_hours"]
    week["therapists"][0]["max_hours_per_week"] = 2
    return Instance.model_validate(week)


@pytest.mark.parametrize("by_track", [True, False])
def test_tracks_take_turns_and_reach_the_weeks_optimum(by_track, caplog):
    """With no groups each person is a track of their own. From an empty week the turns
    serve one person each, twice; the third person's turn gains nothing, and as no other
    track has anyone short, the window ends: three turns, two served, the week's optimum.
    Without turns (``served_by_track=False``) the whole week is searched at once."""
    week = _cap_of_two_hours()
    ctx = build_model(week)
    unmet, terms = assess(week, [])
    empty = Found([], unmet, terms)
    settings = SolverSettings(time_limit=10, workers=1, served_by_track=by_track)
    with caplog.at_level(logging.DEBUG, logger="iopsched"):
        found = serve_most(
            ctx, empty, settings, Clock(settings, time.monotonic()), Run(), lambda f: None
        )
    assert caplog.text.count("most-served turn") == (3 if by_track else 0)
    assert len({row.participant for row in found.unmet}) == 1
    solution = solve(week, SolverSettings(time_limit=5, workers=1, served_first_share=0))
    assert solution.status.value == "optimal"
    assert found.objective == solution.objective
    unmet, _ = assess(week, found.sessions)
    assert len({row.participant for row in unmet}) == 1


@pytest.mark.parametrize("turn_stall", [0.05, None])
def test_each_turn_ends_by_the_turn_stall(turn_stall, monkeypatch):
    """Every track's turn is a window ended by served_turn_stall (None: by the window's
    own stall), and the turns still serve two of the three."""
    shares = []
    window = window_module.served_window

    def recorded(*args, stall_share=None):
        shares.append(stall_share)
        return window(*args, stall_share=stall_share)

    monkeypatch.setattr(window_module, "served_window", recorded)
    week = _cap_of_two_hours()
    ctx = build_model(week)
    unmet, terms = assess(week, [])
    settings = SolverSettings(time_limit=10, workers=1, served_turn_stall=turn_stall)
    found = serve_most(
        ctx,
        Found([], unmet, terms),
        settings,
        Clock(settings, time.monotonic()),
        Run(),
        lambda f: None,
    )
    assert shares == [turn_stall] * 3
    assert len({row.participant for row in found.unmet}) == 1


def test_the_next_turn_goes_to_the_track_with_most_people_short():
    a = Neighbourhood("track", frozenset(), frozenset({"a1", "a2"}))
    b = Neighbourhood("track", frozenset(), frozenset({"b1"}))
    c = Neighbourhood("track", frozenset(), frozenset({"c1", "c2", "c3"}))
    parts, short = [a, b, c], {"a1", "a2", "b1"}
    assert next_track(parts, short, set(), None) == 0, "most short"
    assert next_track(parts, short, set(), 0) == 1, "the track just searched goes last"
    assert next_track(parts, short, {1}, 0) == 0, "unless it is the only one left"
    assert next_track(parts, short, {0, 1}, None) is None, "all tried since the last gain"
    assert next_track(parts, set(), set(), None) is None, "nobody short"
