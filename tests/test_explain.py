"""Explain: a computed reason for each kind, on tiny hand-made weeks."""

from __future__ import annotations

import copy

import pytest
from conftest import MON_WED, make

from iopsched import solve
from iopsched.explain import REASON_KINDS, explain

MON = [{"day": "mon", "start": "17:00", "end": "21:00"}]


def _reasons(data, requirement=None, participant=None):
    inst = make(data)
    sol = solve(inst, time_limit=10, workers=1)
    assert sol.status.has_schedule
    out = explain(inst, sol)
    assert len(out) == len(sol.unmet), "one reason per unmet row"
    assert all(r.kind in REASON_KINDS for r in out)
    return [
        r
        for r in out
        if (requirement is None or r.requirement == requirement)
        and (participant is None or r.participant == participant)
    ]


def test_nothing_to_explain_when_every_plan_is_met(tiny):
    inst = make(tiny)
    assert explain(inst, solve(inst, time_limit=10, workers=1)) == []


def test_availability_below_the_plan(tiny):
    tiny["participants"][0]["availability"] = [{"day": "mon", "start": "17:00", "end": "19:30"}]
    (r,) = _reasons(tiny, "min_hours", "P1")
    assert r.kind == "availability"
    assert "available 2.5 h" in r.text and "needs 4 h" in r.text


def test_no_group_accepts_them(tiny):
    tiny["groups"][0]["tags_required"] = ["adult"]
    tiny["participants"][1]["plan"]["group_hours"] = 3
    (r,) = _reasons(tiny, "group_hours", "P2")
    assert r.kind == "no_group" and "no group group accepts P2" in r.text


def test_group_times_they_cannot_make(tiny):
    tiny["participants"][1]["availability"] = copy.deepcopy(MON)
    tiny["participants"][1]["plan"]["group_hours"] = 3
    (r,) = _reasons(tiny, "group_hours", "P2")
    assert r.kind == "group_times"


@pytest.mark.parametrize("kind", ["individual", "family"])
def test_no_therapist_when_they_or_family_are_free(tiny, kind):
    p1 = tiny["participants"][0]
    p1["plan"][kind] = {"sessions": 1, "minutes": 60}
    tiny["therapists"][0]["availability"] = [{"day": "wed", "start": "17:00", "end": "21:00"}]
    if kind == "individual":
        p1["availability"] = copy.deepcopy(MON)
    else:
        p1["family_availability"] = copy.deepcopy(MON)
    (r,) = _reasons(tiny, kind, "P1")
    assert r.kind == "no_therapist"
    assert ("P1's family" in r.text) == (kind == "family")


def test_own_limits(tiny):
    tiny["participants"][0]["max_days"] = 1  # the group meets on two days
    (r,) = _reasons(tiny, "min_hours", "P1")
    assert r.kind == "own_limits" and "max_days 1" in r.text


def test_group_full(tiny):
    tiny["groups"][0]["max_size"] = 2
    tiny["participants"].append(
        {
            "id": "P3",
            "availability": copy.deepcopy(MON_WED),
            "plan": {"min_hours": 3, "max_hours": 6},
        }
    )
    reasons = _reasons(tiny, "min_hours")
    (r,) = [r for r in reasons if "G1 2/2" in r.text]
    assert r.kind == "groups_taken" and "full: G1 2/2" in r.text


def test_kept_apart_from_a_member(tiny):
    tiny["groups"][0]["min_size"] = 1
    tiny["participants"][1]["avoid"] = ["P1"]
    reasons = _reasons(tiny, "min_hours")
    (r,) = reasons
    assert r.kind == "groups_taken" and "kept apart from a member" in r.text


def _one_to_one_week(**therapist):
    hour = [{"day": "mon", "start": "17:00", "end": "18:00"}]
    people = [
        {
            "id": f"P{i}",
            "availability": copy.deepcopy(hour),
            "plan": {"min_hours": 1, "max_hours": 2, "individual": {"sessions": 1, "minutes": 60}},
        }
        for i in (1, 2)
    ]
    staff = [
        {
            "id": f"T{i}",
            "modalities": ["individual"],
            "availability": copy.deepcopy(hour),
            "max_hours_per_week": 10,
        }
        | therapist
        for i in (1, 2)
    ]
    return {
        "name": "one-to-one",
        "program_hours": copy.deepcopy(hour),
        "rooms": [{"id": "R1", "capacity": 2}, {"id": "R2", "capacity": 2}],
        "therapists": staff,
        "groups": [],
        "participants": people,
    }


def test_therapist_booked_or_at_cap():
    data = _one_to_one_week()
    data["therapists"] = data["therapists"][:1]
    (r,) = _reasons(data, "individual")
    assert r.kind == "therapist_busy" and "T1" in r.text


def test_no_room_free():
    data = _one_to_one_week()
    data["rooms"] = data["rooms"][:1]
    (r,) = _reasons(data, "individual")
    assert r.kind == "no_room"


def test_cli_explain_points_from_the_summary(tmp_path):
    import json

    from click.testing import CliRunner
    from conftest import tiny_data

    from iopsched.cli import main

    data = tiny_data()
    data["participants"][0]["availability"] = [{"day": "mon", "start": "17:00", "end": "19:30"}]
    week = tmp_path / "week.json"
    week.write_text(json.dumps(data))
    out = tmp_path / "sol.json"
    r = CliRunner().invoke(main, ["solve", str(week), "-o", str(out), "--time-limit", "10"])
    assert "iopsched explain" in r.output
    r = CliRunner().invoke(main, ["explain", str(week), str(out)])
    assert r.exit_code == 0 and "[availability]" in r.output


def test_infeasible_week_names_the_conflicting_rules():
    data = _one_to_one_week()
    data["pins"] = [
        {"participant": "P1", "kind": "individual", "day": "tue"},  # nobody works on Tuesday
    ]
    inst = make(data)
    sol = solve(inst, time_limit=10, workers=1)
    assert sol.status.value == "infeasible"
    (r,) = explain(inst, sol)
    assert r.kind == "infeasible" and "pin 0" in r.text


def test_a_group_with_fixed_times_they_are_busy_at(tiny):
    """One more group like a fixed-time group is offered at times of its own, not the fixed
    ones (which crashed explain when no one waiting was free at them)."""
    tiny["groups"][0] |= {
        "min_size": 1,
        "fixed_times": [{"day": "mon", "start": "17:00"}, {"day": "wed", "start": "17:00"}],
    }
    tiny["therapists"].append(
        {
            "id": "T2",
            "modalities": ["individual"],
            "availability": copy.deepcopy(MON_WED),
            "max_hours_per_week": 10,
        }
    )
    tiny["participants"].append(
        {
            "id": "P3",
            "availability": copy.deepcopy(MON_WED),
            "plan": {"min_hours": 4, "max_hours": 6, "individual": {"sessions": 1, "minutes": 60}},
            "primary_therapist": "T2",
        }
    )
    pin = {"participant": "P3", "kind": "individual", "therapist": "T2"}
    tiny["pins"] = [pin | {"day": "mon", "start": "17:00"}]
    (r,) = _reasons(tiny, "min_hours", "P3")
    assert r.kind == "groups_taken"
    assert "meet when P3 is unavailable or busy: G1" in r.text
    assert "One more group like G1 at Mon 18:00" in r.text, r.text
