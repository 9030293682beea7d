"""The cost floor read from the instance: worked out by hand, and never above an optimum."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import make

from iopsched import SolverSettings, Status, load_instance, solve, validate
from iopsched.bounds import (
    cost_floor,
    minutes_for_full_plan,
    participant_floor,
    therapist_minutes,
)
from iopsched.generate import generate
from iopsched.io import load_solution
from iopsched.timegrid import parse_hhmm
from iopsched.weights import Weights


def floor_of(data, pid: str) -> int:
    inst = make(data)
    p = inst.participant_by_id[pid]
    return participant_floor(inst, p, Weights.resolve(inst.weights))


def test_the_tiny_week_floor_is_one_day_each(tiny):
    # P1 needs 4 h, P2 3 h; Monday alone holds 4 h: one day each, 60 apiece.
    tiny["weights"] = {"therapist_peak_load": 0}
    assert cost_floor(make(tiny)) == 120


def test_serving_people_loads_the_busiest_therapist(tiny):
    # T1 has 600 min a week. P1's 60-min session is all T1's; their other 180 min and
    # P2's 180 are group minutes shared by up to 8: 60 + 45 = 105 min at least, 17.5
    # points of T1's cap, so the peak costs more than 2 x 16.5 = 33: 120 + 34 = 154.
    # (The optimum, 410, puts T1 at 40 points.)
    assert therapist_minutes(make(tiny), make(tiny).participant_by_id["P1"]) == 82.5
    assert cost_floor(make(tiny)) == 154
    tiny["therapists"][0]["max_hours_per_week"] = 20  # 8.75 points: more than 2 x 7.75
    assert cost_floor(make(tiny)) == 120 + 16


def test_a_peak_dearer_than_leaving_people_short_leaves_them_short(tiny):
    # At 1000 a point, serving P1 (13.75 points) or P2 (3.75) costs more than the 2400
    # of leaving them short: 4800, less the point the rounding of the peak may take.
    tiny["weights"] = {"therapist_peak_load": 1000}
    assert cost_floor(make(tiny)) == 4800 - 1000 + 1


def test_groups_open_to_nobody_share_no_minutes(tiny):
    tiny["groups"][0]["tags_required"] = ["adolescent"]  # nobody here carries it
    p2 = make(tiny).participant_by_id["P2"]
    assert therapist_minutes(make(tiny), p2) == 0


def test_a_plan_that_needs_two_days_costs_two(tiny):
    tiny["participants"][0]["plan"].update(min_hours=7, max_hours=8)  # 420 min > one evening
    assert floor_of(tiny, "P1") == 120


def test_the_plan_parts_count_when_they_ask_more_than_min_hours(tiny):
    plan = tiny["participants"][1]["plan"]
    plan.update(min_hours=1, group_hours=3, individual={"sessions": 1, "minutes": 90})
    assert minutes_for_full_plan(make(tiny).participant_by_id["P2"]) == 270
    # 270 min: more than one 240-min evening, and 90 more than Monday's preferred 180
    assert floor_of(tiny, "P2") == 120 + 90


def test_a_daily_cap_that_cannot_hold_the_plan_leaves_them_short(tiny):
    p1 = tiny["participants"][0]
    p1["plan"].update(min_hours=7, max_hours=8)
    p1["max_hours_per_day"] = 2.5  # two days of 150 min hold 300 of the 420
    assert floor_of(tiny, "P1") == 2400 + 20 * 120


def test_max_days_cuts_the_days_that_count(tiny):
    p1 = tiny["participants"][0]
    p1["plan"].update(min_hours=7, max_hours=8)
    p1["max_days"] = 1  # one evening of 240 min
    assert floor_of(tiny, "P1") == 2400 + 20 * 180


def test_only_free_minutes_inside_program_hours_count(tiny):
    p1 = tiny["participants"][0]
    p1["availability"] = [{"day": "mon", "start": "15:00", "end": "19:00"}]  # 2 h in hours
    p1["plan"]["min_hours"] = 2
    assert floor_of(tiny, "P1") == 60
    p1["plan"]["min_hours"] = 3
    assert floor_of(tiny, "P1") == 2400 + 20 * 60


def test_a_day_that_cannot_hold_the_daily_minimum_is_not_a_day_they_come(tiny):
    p1 = tiny["participants"][0]
    p1["plan"].update(min_hours=7, max_hours=8)  # 420 min: Monday's 240 and Wednesday's
    assert floor_of(tiny, "P1") == 120
    p1["availability"][1]["end"] = "19:00"  # Wednesday now holds 120 min
    p1["min_hours_per_day"] = 3  # and a day they come gives at least 180
    assert floor_of(tiny, "P1") == 2400 + 20 * (420 - 240)


def test_minutes_the_preferred_windows_cannot_hold_cost_outside_preferred(tiny):
    # P2 asks for 180 min and prefers Monday 18:00-20:00 (120 min): on Monday alone 60
    # minutes fall outside (60 + 60); adding Wednesday moves them, not the cost, and
    # adds a day (120 + 60).
    tiny["participants"][1]["preferred"] = [{"day": "mon", "start": "18:00", "end": "20:00"}]
    assert floor_of(tiny, "P2") == 60 + 60
    tiny["weights"] = {"outside_preferred": 5}
    assert floor_of(tiny, "P2") == 60 + 5 * 60


def test_a_daily_minimum_outside_the_preferred_windows_costs_on_every_day(tiny):
    # At least 180 min on a day they come, preferring Monday 17:00-19:00: Monday
    # spills 60 outside; Wednesday, with nothing preferred, would spill all 180.
    p2 = tiny["participants"][1]
    p2["preferred"] = [{"day": "mon", "start": "17:00", "end": "19:00"}]
    p2["min_hours_per_day"] = 3
    assert floor_of(tiny, "P2") == 60 + 60
    p2["plan"].update(min_hours=5, max_hours=6)  # two days now: 60 + 180 outside
    assert floor_of(tiny, "P2") == 120 + 240


def test_without_preferred_windows_no_minute_is_outside(tiny):
    tiny["participants"][1]["preferred"] = None
    tiny["participants"][1]["plan"].update(min_hours=7, max_hours=8)
    assert floor_of(tiny, "P2") == 120


def test_the_floor_follows_the_weeks_weights(tiny):
    tiny["weights"] = {"attendance_day": 0, "therapist_peak_load": 0}
    assert cost_floor(make(tiny)) == 0
    tiny["participants"][0]["plan"].update(min_hours=7, max_hours=8)
    tiny["participants"][0]["max_days"] = 1
    tiny["weights"] = {"participant_short": 100, "min_hours_short": 1}
    assert floor_of(tiny, "P1") == 100 + 180


def test_a_solved_week_reports_a_bound_no_lower_than_the_floor(tiny):
    # P1 alone, free on Monday for 2 h only, asks for 3 h: short whatever happens.
    tiny["participants"] = [tiny["participants"][0]]
    tiny["participants"][0]["availability"] = [{"day": "mon", "start": "17:00", "end": "19:00"}]
    tiny["participants"][0]["plan"] = {"min_hours": 3, "max_hours": 6}
    inst = make(tiny)
    sol = solve(inst, SolverSettings(time_limit=5, workers=1, neighbourhood_search=False))
    assert sol.bound >= cost_floor(inst) == 2400 + 20 * 60
    assert sol.stats.cost_floor == cost_floor(inst)
    assert sol.bound <= sol.objective


@pytest.mark.parametrize(
    ("n", "seed", "profile"),
    [
        (4, 1, "small"),
        (5, 2, "small"),
        (6, 3, "small"),
        (5, 4, "small"),
        (5, 1, "evening"),  # evening weeks: their groups meet on 3 days
        (8, 3, "evening"),
        (10, 4, "evening"),
    ],
)
def test_the_floor_never_exceeds_a_proven_optimum(n, seed, profile):
    inst = generate(n, seed, profile=profile)
    sol = solve(inst, time_limit=20, workers=2)
    assert sol.status is Status.OPTIMAL
    assert validate(inst, sol).ok
    assert cost_floor(inst) <= sol.objective
    assert sol.bound >= cost_floor(inst)


def test_group_hours_take_as_many_days_as_their_groups_meet(tiny):
    # G1 meets twice a week (2 x 90 min): 3 group hours take both days, though one
    # evening would hold P1's 4 h.
    tiny["participants"][0]["plan"]["group_hours"] = 3
    assert floor_of(tiny, "P1") == 120


def test_groups_meeting_fewer_times_count_only_if_they_hold_the_hours(tiny):
    tiny["groups"].append(
        {
            "id": "G2",
            "kind": "group",
            "duration_minutes": 60,
            "meetings_per_week": 1,
            "min_size": 2,
            "max_size": 8,
        }
    )
    tiny["participants"][0]["plan"]["group_hours"] = 1  # G2 alone: one day
    assert floor_of(tiny, "P1") == 60
    tiny["participants"][0]["plan"]["group_hours"] = 2  # more than G2 holds: G1's two days
    assert floor_of(tiny, "P1") == 120


def test_group_hours_no_open_group_can_give_leave_them_short(tiny):
    tiny["participants"][0]["plan"]["group_hours"] = 4  # G1 holds 3 h a week
    assert floor_of(tiny, "P1") == 2400
    tiny["participants"][0]["plan"]["group_hours"] = 1
    tiny["groups"][0]["tags_required"] = ["adult"]  # P1 carries no tags
    assert floor_of(tiny, "P1") == 2400
    tiny["groups"][0]["tags_required"] = []
    tiny["participants"][0]["max_days"] = 1  # G1's two meetings need two days
    assert floor_of(tiny, "P1") == 2400


def one_education_meeting(tiny, p2_days: list[str]) -> dict:
    """The tiny week with one psychoeducation meeting a week and two people who each need
    its hour: P1 free on Monday, P2 on ``p2_days``."""
    tiny["groups"] = [
        {
            "id": "E",
            "kind": "education",
            "duration_minutes": 60,
            "meetings_per_week": 1,
            "min_size": 1,
            "max_size": 8,
        }
    ]
    for p, days in zip(tiny["participants"], (["mon"], p2_days), strict=True):
        p["availability"] = [{"day": d, "start": "17:00", "end": "21:00"} for d in days]
        p["plan"] = {"min_hours": 1, "max_hours": 2, "education_hours": 1}
        p.pop("preferred", None)
    return tiny


def test_people_who_share_one_meeting_share_its_day(tiny):
    # Each alone: one day, 60.  Together: the one meeting is on Monday or on Wednesday,
    # so one of them is short (participant_short; no min_hours short, a day holds 240).
    inst = make(one_education_meeting(tiny, ["wed"]))
    w = Weights.resolve(inst.weights)
    assert [participant_floor(inst, p, w) for p in inst.participants] == [60, 60]
    # and the one served takes at least 60 / 8 min of T1's 600: 1.25 points, so the
    # peak costs more than 2 x 0.25
    assert cost_floor(inst) == 60 + 2400 + 1
    # the optimum also prices the hour and the minutes the other goes without, and the
    # busiest therapist's hour (20)
    sol = solve(inst, time_limit=10, workers=1)
    assert sol.status is Status.OPTIMAL
    assert sol.objective == 60 + 2400 + 10 * 60 + 20 * 60 + 20
    assert sol.bound >= cost_floor(inst)


def test_people_who_can_meet_on_a_common_day_cost_what_they_cost_alone(tiny):
    inst = make(one_education_meeting(tiny, ["mon", "wed"]))
    # with 2 x 60 / 8 min of T1's 600: 2.5 points, so the peak costs more than 2 x 1.5
    assert cost_floor(inst) == 60 + 60 + 4
    sol = solve(inst, time_limit=10, workers=1)
    assert sol.status is Status.OPTIMAL and sol.objective == 120 + 20


@pytest.mark.parametrize("name", ["small-clinic", "pinned-week", "evening-weekend-80"])
def test_people_served_take_no_more_therapist_minutes_than_their_week_gives(name):
    # The peak term's premise, on the shipped schedules: the therapist minutes the floor
    # counts for the people served in full are no more than the sessions' minutes.
    root = Path(__file__).resolve().parent.parent
    week = load_instance(root / "instances" / f"{name}.json")
    sol = load_solution(root / "solutions" / f"{name}.json")
    short = {row.participant for row in sol.unmet}
    counted = sum(therapist_minutes(week, p) for p in week.participants if p.id not in short)
    given = sum(parse_hhmm(s.end) - parse_hhmm(s.start) for s in sol.sessions)
    assert 0 < counted <= given
    assert cost_floor(week) <= sol.objective
