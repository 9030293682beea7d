"""The model on tiny weeks whose optimum is known by hand; every schedule is validated."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import make
from ortools.sat.python import cp_model

from iopsched import SolverSettings, Status, solve, validate
from iopsched.model.build import build_model


def solved(data, **kw):
    inst = make(data)
    sol = solve(inst, time_limit=kw.pop("time_limit", 20), workers=kw.pop("workers", 2), **kw)
    report = validate(inst, sol)
    assert report.ok, report.render()
    return inst, sol, report


def test_tiny_optimum(tiny):
    # Both join G1 (2 x 1.5 h) and P1 gets 1 h individual: every plan met.
    # Cost: 4 attendance days x 60 + T1 at 40% of 10 h x 2 + P2's Wednesday
    # meeting (90 min) outside her Monday-only preferred window x 1 = 410.
    _, sol, report = solved(tiny)
    assert sol.status is Status.OPTIMAL
    assert sol.objective == 410
    assert sol.unmet == []
    assert report.objective == sol.objective
    assert sol.stats.cost_by_rule == {
        "attendance_day": 240,
        "therapist_peak_load": 80,
        "outside_preferred": 90,
    }
    days = {s.day for s in sol.sessions if s.group == "G1"}
    assert days == {"mon", "wed"}


def test_therapist_share_is_rounded_down(tiny):
    # The same week with a cap of 11 h: 4 h is 36.4 % of it, counted as 36 (x 2 = 72).
    tiny["therapists"][0]["max_hours_per_week"] = 11
    _, sol, report = solved(tiny)
    assert sol.status is Status.OPTIMAL
    assert sol.stats.cost_by_rule["therapist_peak_load"] == 72
    assert sol.objective == report.objective == 402


def test_cost_terms_add_up_to_objective(tiny):
    _, sol, _ = solved(tiny)
    assert sum(t.cost for t in sol.stats.cost_terms) == sol.objective
    assert {t.subject for t in sol.stats.cost_terms if t.rule == "attendance_day"} == {"P1", "P2"}
    assert [t.subject for t in sol.stats.cost_terms if t.rule == "therapist_peak_load"] == ["T1"]


def test_participant_availability_leaves_plan_short(tiny):
    # P2 is free only Monday: she cannot attend a group meeting twice a week.
    tiny["participants"][1]["availability"] = [{"day": "mon", "start": "17:00", "end": "21:00"}]
    _, sol, _ = solved(tiny)
    # G1 needs 2 members, so it cannot run; P1 gets only the individual session.
    assert not any(s.group for s in sol.sessions)
    short = {(r.participant, r.requirement): r.short for r in sol.unmet}
    assert short == {("P1", "min_hours"): 3.0, ("P2", "min_hours"): 3.0}


def test_therapist_weekly_cap_limits_sessions(tiny):
    tiny["therapists"][0]["max_hours_per_week"] = 3  # the group alone takes 3 h
    _, sol, _ = solved(tiny)
    assert {(r.participant, r.requirement) for r in sol.unmet} == {
        ("P1", "min_hours"),
        ("P1", "individual"),
    }


def test_therapist_daily_cap(tiny):
    tiny["therapists"][0]["max_hours_per_day"] = 1.5
    _, sol, _ = solved(tiny)
    # 1.5 h a day: the group fills both days, the individual session cannot fit.
    assert len([s for s in sol.sessions if s.group]) == 2
    assert ("P1", "individual") in {(r.participant, r.requirement) for r in sol.unmet}


def test_room_too_small_keeps_group_from_running(tiny):
    tiny["rooms"] = [{"id": "R2", "capacity": 1}]
    _, sol, _ = solved(tiny)
    assert not any(s.group for s in sol.sessions)


def test_virtual_group_needs_no_room(tiny):
    tiny["rooms"] = [{"id": "R2", "capacity": 1}]
    tiny["groups"][0]["virtual"] = True
    _, sol, _ = solved(tiny)
    meetings = [s for s in sol.sessions if s.group]
    assert len(meetings) == 2 and all(s.room is None for s in meetings)


def test_avoid_pair_never_shares_a_group(tiny):
    tiny["participants"][0]["avoid"] = ["P2"]
    _, sol, _ = solved(tiny)
    assert not any(s.group for s in sol.sessions)  # G1 would need both


def test_tags_keep_people_out(tiny):
    tiny["groups"][0]["tags_required"] = ["adolescent"]
    tiny["participants"][0]["tags"] = ["adolescent"]
    _, sol, _ = solved(tiny)
    assert not any(s.group for s in sol.sessions)


def test_max_days(tiny):
    tiny["participants"][0]["max_days"] = 1
    _, sol, _ = solved(tiny)
    p1_days = {s.day for s in sol.sessions if "P1" in s.participants}
    assert len(p1_days) <= 1


def test_min_hours_per_day(tiny):
    # P1 may come only on days that give her at least 2.5 h: group 1.5 + individual 1.
    tiny["participants"][0]["min_hours_per_day"] = 2.5
    _, sol, _ = solved(tiny)
    hours = {}
    for s in sol.sessions:
        if "P1" in s.participants:
            h = int(s.end[:2]) * 60 + int(s.end[3:]) - int(s.start[:2]) * 60 - int(s.start[3:])
            hours[s.day] = hours.get(s.day, 0) + h / 60
    assert all(h >= 2.5 for h in hours.values())


def test_max_hours_caps_care(tiny):
    tiny["participants"][0]["plan"]["max_hours"] = 3
    tiny["participants"][0]["plan"]["min_hours"] = 3
    _, sol, _ = solved(tiny)
    p1 = sum(1 for s in sol.sessions if "P1" in s.participants and s.kind == "individual")
    assert p1 == 0  # group 3 h already fills her 3 h cap


def test_fixed_times_are_kept(tiny):
    tiny["groups"][0]["fixed_times"] = [
        {"day": "mon", "start": "19:00"},
        {"day": "wed", "start": "17:30"},
    ]
    _, sol, _ = solved(tiny)
    got = sorted((s.day, s.start) for s in sol.sessions if s.group == "G1")
    assert got == [("mon", "19:00"), ("wed", "17:30")]


def test_pin_is_kept(tiny):
    tiny["pins"] = [{"participant": "P1", "kind": "individual", "day": "wed", "start": "20:00"}]
    _, sol, _ = solved(tiny)
    ind = [s for s in sol.sessions if s.kind == "individual"]
    assert [(s.day, s.start) for s in ind] == [("wed", "20:00")]


def test_family_session_in_family_window_and_big_room(tiny):
    p1 = tiny["participants"][0]
    p1["plan"]["family"] = {"sessions": 1, "minutes": 60}
    p1["plan"]["max_hours"] = 8
    p1["family_availability"] = [{"day": "wed", "start": "20:00", "end": "21:00"}]
    p1["family_size"] = 3  # needs a room seating 4
    tiny["rooms"].append({"id": "R4", "capacity": 4})
    _, sol, _ = solved(tiny)
    fam = [s for s in sol.sessions if s.kind == "family"]
    assert [(s.day, s.start) for s in fam] == [("wed", "20:00")]
    assert fam[0].room in {"R1", "R4"}  # R2 seats 3, too few for P1 and a family of 3


def test_telehealth_session_may_be_online(tiny):
    tiny["rooms"] = [{"id": "R1", "capacity": 8}]
    tiny["rooms"][0]["availability"] = [{"day": "mon", "start": "17:00", "end": "18:30"}]
    tiny["groups"][0]["virtual"] = True
    tiny["participants"][0]["telehealth"] = True
    tiny["participants"][0]["availability"] = [{"day": "wed", "start": "17:00", "end": "21:00"}]
    _, sol, _ = solved(tiny)
    ind = [s for s in sol.sessions if s.kind == "individual"]
    assert len(ind) == 1 and ind[0].room is None


def test_sites_keep_rooms_and_therapists_apart(tiny):
    tiny["rooms"] = [
        {"id": "N1", "capacity": 8, "site": "north"},
        {"id": "S1", "capacity": 8, "site": "south"},
    ]
    tiny["therapists"][0]["sites"] = ["south"]
    for p in tiny["participants"]:
        p["site"] = "south"
    _, sol, _ = solved(tiny)
    assert sol.sessions and all(s.room == "S1" for s in sol.sessions)


def test_infeasible_pin_is_named():
    from conftest import tiny_data

    data = tiny_data()
    data["pins"] = [{"participant": "P1", "kind": "individual", "day": "tue"}]
    inst = make(data)
    sol = solve(inst, time_limit=10, workers=1)
    assert sol.status is Status.INFEASIBLE
    assert sol.sessions == []
    assert any(reason.startswith("pin 0") for reason in sol.stats.infeasible_because)
    assert validate(inst, sol).ok


def test_mandatory_group_that_cannot_run_is_explained():
    from conftest import tiny_data

    data = tiny_data()
    data["groups"][0]["optional"] = False
    data["groups"][0]["min_size"] = 3  # only two participants exist
    sol = solve(make(data), time_limit=10, workers=1)
    assert sol.status is Status.INFEASIBLE
    assert sol.stats.infeasible_because[0].startswith("group G1 must run: 2 participant(s)")


@pytest.mark.parametrize(
    ("fixed", "when"),
    [
        (True, "at all its fixed times"),
        (False, "to 2 of its meetings, each on its own day"),
    ],
)
def test_mandatory_group_too_few_can_come_to_is_explained(fixed, when):
    from conftest import tiny_data

    data = tiny_data()
    data["groups"][0]["optional"] = False
    if fixed:
        data["groups"][0]["fixed_times"] = [
            {"day": "mon", "start": "17:00"},
            {"day": "wed", "start": "17:00"},
        ]
    data["participants"][1]["availability"] = [{"day": "mon", "start": "17:00", "end": "21:00"}]
    sol = solve(make(data), time_limit=10, workers=1)
    assert sol.status is Status.INFEASIBLE
    assert sol.stats.infeasible_because == [
        "group G1 must run: 2 participant(s) fit its tags and site, but only 1 of them can "
        f"come {when}; it needs 2"
    ]


def test_conflicting_pins_name_both():
    from conftest import tiny_data

    data = tiny_data()
    data["pins"] = [
        {"participant": "P1", "kind": "individual", "day": "mon", "start": "17:00"},
        {"participant": "P1", "kind": "individual", "day": "wed", "start": "17:00"},
    ]
    sol = solve(make(data), time_limit=10, workers=1)
    assert sol.status is Status.INFEASIBLE
    named = " ".join(sol.stats.infeasible_because)
    assert "pin 0" in named and "pin 1" in named


def test_previous_week_stability(tiny):
    # Three participants, group of max 2: last week P1+P3 were together.
    tiny["groups"][0]["max_size"] = 2
    tiny["participants"].append(
        {
            "id": "P3",
            "availability": tiny["participants"][0]["availability"],
            "plan": {"min_hours": 0, "max_hours": 6},
        }
    )
    tiny["previous"] = {
        "instance": "tiny",
        "status": "optimal",
        "sessions": [
            {
                "id": "G1#1",
                "kind": "group",
                "group": "G1",
                "day": "mon",
                "start": "17:00",
                "end": "18:30",
                "therapist": "T1",
                "room": "R1",
                "participants": ["P1", "P3"],
            }
        ],
    }
    tiny["weights"] = {"left_previous_group": 10_000}  # above P2 short 3 h (3,600 + 2,400)
    _, sol, _ = solved(tiny)
    cohort = {tuple(s.participants) for s in sol.sessions if s.group == "G1"}
    assert cohort == {("P1", "P3")}


def test_weights_override_changes_the_optimum(tiny):
    # With attendance days free and preferred times expensive, P2 keeps to Monday.
    tiny["weights"] = {"attendance_day": 0, "outside_preferred": 1000}
    tiny["groups"][0]["meetings_per_week"] = 1
    tiny["participants"][1]["plan"]["min_hours"] = 1.5
    tiny["participants"][0]["plan"]["min_hours"] = 2.5
    _, sol, report = solved(tiny)
    assert sol.objective == report.objective
    assert [s.day for s in sol.sessions if s.group] == ["mon"]


def test_same_seed_single_worker_is_reproducible(tiny):
    inst = make(tiny)
    a = solve(inst, time_limit=20, workers=1, seed=7)
    b = solve(inst, time_limit=20, workers=1, seed=7)
    assert a.sessions == b.sessions


@pytest.mark.parametrize("slot", [15, 30])
def test_slot_size(tiny, slot):
    tiny["slot_minutes"] = slot
    _, sol, _ = solved(tiny)
    assert sol.status is Status.OPTIMAL


def test_serving_one_in_full_beats_spreading_the_same_shortfall():
    # One therapist with 3 h; two people who each ask for four 30-minute sessions
    # (2 h). Any split leaves 1 h and two sessions short in all (1,200 + 2,000),
    # but 4 + 2 sessions leave one person short and 3 + 3 leave two: the
    # participant_short term (2,400 each) makes the first the optimum.
    hour = [{"day": "mon", "start": "17:00", "end": "21:00"}]
    people = [
        {
            "id": pid,
            "availability": hour,
            "plan": {"min_hours": 2, "max_hours": 3, "individual": {"sessions": 4, "minutes": 30}},
            "telehealth": True,
        }
        for pid in ("P1", "P2")
    ]
    data = {
        "name": "spread",
        "program_hours": hour,
        "therapists": [
            {
                "id": "T1",
                "modalities": ["individual"],
                "availability": hour,
                "max_hours_per_week": 3,
            }
        ],
        "participants": people,
        "weights": {"therapist_peak_load": 0},
    }
    _, sol, report = solved(data)
    assert sol.status is Status.OPTIMAL
    assert len({r.participant for r in sol.unmet}) == 1
    # 1 h short (1,200) + 2 sessions (2,000) + one person (2,400) + 2 days (120)
    assert sol.objective == 1200 + 2000 + 2400 + 120 == report.objective


def _one_hour_rush(rooms: int) -> dict:
    """Three people, three therapists, one hour all of them can meet, ``rooms`` alike rooms."""
    hour = [{"day": "mon", "start": "17:00", "end": "18:00"}]
    return {
        "name": "rush",
        "program_hours": hour,
        "rooms": [{"id": f"R{i}", "capacity": 2} for i in range(rooms)],
        "therapists": [
            {
                "id": f"T{i}",
                "modalities": ["individual"],
                "availability": hour,
                "max_hours_per_week": 5,
            }
            for i in range(3)
        ],
        "groups": [],
        "participants": [
            {
                "id": f"P{i}",
                "availability": hour,
                "plan": {
                    "min_hours": 1,
                    "max_hours": 2,
                    "individual": {"sessions": 1, "minutes": 60},
                },
            }
            for i in range(3)
        ],
    }


@pytest.mark.parametrize(("rooms", "served"), [(1, 1), (2, 2), (3, 3)])
def test_alike_rooms_hold_as_many_sessions_at_once_as_there_are_rooms(rooms, served):
    inst = make(_one_hour_rush(rooms))
    assert [len(pool) for pool in build_model(inst).cand.room_pools.values()] == [rooms]
    sol = solve(inst, time_limit=10, workers=1)
    assert sol.status is Status.OPTIMAL
    assert len(sol.sessions) == served
    assert len({s.room for s in sol.sessions}) == served  # each in a room of its own
    assert validate(inst, sol).ok


def _six_one_hour_groups() -> dict:
    """One person free 17:00-19:00 every day, needing 6 h: six weekly 1-h groups, 3 days."""
    days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    evenings = [{"day": d, "start": "17:00", "end": "19:00"} for d in days]
    one = {"kind": "group", "duration_minutes": 60, "meetings_per_week": 1, "min_size": 1}
    return {
        "name": "six-groups",
        "program_hours": evenings,
        "rooms": [{"id": f"R{i}", "capacity": 4 + i} for i in range(2)],
        "therapists": [
            {
                "id": f"T{i}",
                "modalities": ["group"],
                "availability": evenings,
                "max_hours_per_week": 20,
            }
            for i in range(2)
        ],
        "groups": [{"id": f"G{i}", "max_size": 8, **one} for i in range(6)],
        "participants": [
            {"id": "P1", "availability": evenings, "plan": {"min_hours": 6, "max_hours": 6}}
        ],
        "weights": {"therapist_peak_load": 0},
    }


def test_six_hours_in_two_hour_evenings_take_three_days():
    _, sol, report = solved(_six_one_hour_groups())
    assert sol.status is Status.OPTIMAL
    assert not sol.unmet and len({s.day for s in sol.sessions}) == 3
    assert sol.objective == report.objective == 3 * 60  # three attendance days


def test_lp_relaxation_knows_what_a_day_holds():
    """The daily cap written against the day's literal: the LP alone proves the three days.

    Without it the relaxation spreads the six meetings thinly over all seven days and
    bounds the days by one (60); with it no day holds more than its two free hours.
    The facilitator term needs "a running group has a lead" to stay at 0 here (103
    without it: six groups each seeing a seventh of a lead).
    """
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent.parent / "benchmarks"))
    from highs_baseline import lp_bound

    ctx = build_model(make(_six_one_hour_groups()))
    assert lp_bound(ctx.model) == pytest.approx(3 * 60)


MODEL_DIGEST = (
    "import hashlib, sys; from iopsched import load_instance; "
    "from iopsched.model.build import build_model; "
    "proto = build_model(load_instance(sys.argv[1])).model.proto; "
    "print(hashlib.sha256(str(proto).encode()).hexdigest())"
)


def test_the_model_is_the_same_whatever_pythons_hash_seed():
    """Sets of strings iterate in a new order in every process; the model must not follow."""
    week = Path(__file__).parent.parent / "instances" / "evening-weekend-80.json"  # avoid pairs
    digests = set()
    for seed in ("1", "2", "3"):
        run = subprocess.run(
            [sys.executable, "-c", MODEL_DIGEST, str(week)],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        )
        digests.add(run.stdout)
    assert len(digests) == 1


def test_candidate_starts_are_worked_out_once_and_cannot_be_changed_by_a_caller():
    from iopsched.generate import generate
    from iopsched.model.grid import Candidates

    cand = Candidates(generate(10, 1))
    spans = cand.participant_spans["P0001"]
    starts = cand.starts(spans, 60)
    assert len(starts) > 1
    assert starts is cand.starts(list(spans), 60)  # the same spans, asked again
    assert starts == set(cand.grid.starts_within(spans, cand.grid.slots(60)))
    with pytest.raises(AttributeError):
        starts.add(0)  # type: ignore[attr-defined]
    mine = starts
    mine &= {min(starts)}  # a caller narrowing what it was given gets its own set
    assert len(mine) == 1 and len(cand.starts(spans, 60)) > 1


@pytest.mark.parametrize("twin_order", [False, True])
def test_twins_cost_the_same_either_way_and_are_ordered_only_when_asked(tiny, twin_order):
    # G2 is G1 under another id. Either can hold the cohort of two (410, as in the tiny
    # optimum); with twin_order the first id runs, without it either may.
    tiny["groups"].append({**tiny["groups"][0], "id": "G2"})
    _, sol, _ = solved(tiny, settings=SolverSettings(twin_order=twin_order))
    assert sol.status is Status.OPTIMAL
    assert sol.objective == 410
    ctx = build_model(make(tiny), twin_order=twin_order)
    ctx.model.add(ctx.vars.groups["G2"].run == 1)
    ctx.model.add(ctx.vars.groups["G1"].run == 0)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    code = solver.solve(ctx.model)
    if twin_order:
        assert code == cp_model.INFEASIBLE
    else:
        assert code == cp_model.OPTIMAL and solver.objective_value == 410


def test_twins_are_ordered_where_the_whole_week_is_searched_first():
    from iopsched.search.start import twins_ordered

    small, large = 100, SolverSettings().whole_week_first_up_to + 1
    assert twins_ordered(SolverSettings(), small)
    assert not twins_ordered(SolverSettings(), large)
    assert twins_ordered(SolverSettings(twin_order=True), large)
    assert not twins_ordered(SolverSettings(twin_order=False), small)
    assert twins_ordered(SolverSettings(whole_week_first_up_to=None), large)
