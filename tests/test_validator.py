"""The validator rejects a hand-broken schedule for each rule, and accepts the solver's."""

from __future__ import annotations

import pytest
from conftest import make, tiny_data

from iopsched import Solution, Status, solve, validate
from iopsched.solution import Session, UnmetRow


@pytest.fixture(scope="module")
def solved():
    inst = make(tiny_data())
    sol = solve(inst, time_limit=20, workers=1)
    assert validate(inst, sol).ok
    return inst, sol


def _edit(sol: Solution, session_id: str | None = None, **changes) -> Solution:
    """A copy of the solution with one session changed (the first group meeting by default)."""
    sessions = list(sol.sessions)
    i = next(k for k, s in enumerate(sessions) if (s.id == session_id if session_id else s.group))
    sessions[i] = sessions[i].model_copy(update=changes)
    return sol.model_copy(update={"sessions": sessions})


def _rules(inst, sol) -> set[str]:
    return {v.rule for v in validate(inst, sol).violations}


def _group_meetings(sol):
    return [s for s in sol.sessions if s.group]


def test_solver_output_is_valid(solved):
    inst, sol = solved
    report = validate(inst, sol)
    assert report.ok and report.objective == sol.objective


BREAKS = [
    ("outside program hours", lambda s: _edit(s, day="tue"), "1"),
    ("off the grid", lambda s: _edit(s, start="17:05", end="18:35"), "1"),
    ("wrong length", lambda s: _edit(s, start="17:00", end="18:00"), "1"),
    ("unknown room", lambda s: _edit(s, room="R9"), "2"),
    ("in-person without room", lambda s: _edit(s, room=None), "2"),
    ("wrong modality", lambda s: _edit(s, kind="education"), "4"),
]


@pytest.mark.parametrize(("what", "breaker", "rule"), BREAKS, ids=[b[0] for b in BREAKS])
def test_break_is_caught(solved, what, breaker, rule):
    inst, sol = solved
    assert rule in _rules(inst, breaker(sol))


def test_room_capacity(solved):
    _inst, sol = solved
    data = tiny_data()
    data["rooms"][0]["capacity"] = 1
    assert "2" in _rules(make(data), sol)


def test_participant_unavailable(solved):
    _, sol = solved
    data = tiny_data()
    data["participants"][1]["availability"] = [{"day": "sat", "start": "09:00", "end": "12:00"}]
    assert "2" in _rules(make(data), sol)


def test_double_booked_therapist(solved):
    inst, sol = solved
    ind = next(s for s in sol.sessions if s.kind == "individual")
    g = _group_meetings(sol)[0]
    moved = _edit(sol, ind.id, day=g.day, start=g.start, end=_plus(g.start, 60))
    violations = validate(inst, moved).violations
    assert any("therapist T1 is also in" in v.message for v in violations)
    assert {v.session for v in violations if v.also} | {v.also for v in violations if v.also} == {
        ind.id,
        g.id,
    }  # both sessions named
    assert any("participant P1 is also in" in v.message for v in violations)


def _plus(hhmm: str, minutes: int) -> str:
    total = int(hhmm[:2]) * 60 + int(hhmm[3:]) + minutes
    return f"{total // 60:02d}:{total % 60:02d}"


def test_therapist_caps(solved):
    _, sol = solved
    data = tiny_data()
    data["therapists"][0]["max_hours_per_week"] = 2
    data["therapists"][0]["max_hours_per_day"] = 1
    msgs = [v.message for v in validate(make(data), sol).violations if v.rule == "3"]
    assert any("cap 2" in m for m in msgs) and any("cap 1" in m for m in msgs)


def test_therapist_without_modality(solved):
    _, sol = solved
    data = tiny_data()
    data["therapists"][0]["modalities"] = ["individual"]
    assert "3" in _rules(make(data), sol)


def test_group_rules(solved):
    inst, sol = solved
    first = _group_meetings(sol)[0]
    # cohort changes between meetings, and the group falls below min_size
    assert "4" in _rules(inst, _edit(sol, first.id, participants=["P1"]))
    # meets twice on one day
    second = _group_meetings(sol)[1]
    twice = _edit(sol, second.id, day=first.day, start=_plus(first.start, 0))
    assert any("twice on one day" in v.message for v in validate(inst, twice).violations)
    # missing meeting
    fewer = sol.model_copy(update={"sessions": [s for s in sol.sessions if s.id != second.id]})
    assert any("meets 1 times" in v.message for v in validate(inst, fewer).violations)


def test_avoid_tags_facilitators_fixed_times_mandatory(solved):
    _, sol = solved
    data = tiny_data()
    data["participants"][0]["avoid"] = ["P2"]
    data["groups"][0]["tags_required"] = ["adult"]
    data["groups"][0]["facilitators"] = ["T2"]
    data["therapists"].append({**data["therapists"][0], "id": "T2"})
    data["groups"][0]["fixed_times"] = [
        {"day": "mon", "start": "17:00"},
        {"day": "wed", "start": "17:00"},
    ]
    msgs = " | ".join(v.message for v in validate(make(data), sol).violations)
    assert "must not share" in msgs
    assert "tags do not allow" in msgs
    assert "not a facilitator" in msgs
    assert "fixed times" in msgs
    data = tiny_data()
    data["groups"][0]["optional"] = False
    empty = sol.model_copy(update={"sessions": [s for s in sol.sessions if not s.group]})
    assert any("not optional" in v.message for v in validate(make(data), empty).violations)


def test_participant_limits(solved):
    _, sol = solved
    data = tiny_data()
    p1 = data["participants"][0]
    p1["plan"]["max_hours"] = 3
    p1["plan"]["min_hours"] = 3
    p1["max_days"] = 1
    p1["max_hours_per_day"] = 1
    msgs = " | ".join(v.message for v in validate(make(data), sol).violations if v.rule == "5")
    assert "max 3" in msgs and "days, max 1" in msgs and "max 1" in msgs
    data = tiny_data()
    data["participants"][1]["min_hours_per_day"] = 2
    assert "5" in _rules(make(data), sol)
    data = tiny_data()
    data["participants"][0]["plan"]["individual"] = None
    assert "5" in _rules(make(data), sol)


def test_pins(solved):
    _, sol = solved
    data = tiny_data()
    data["pins"] = [{"participant": "P2", "kind": "individual"}]
    assert "6" in _rules(make(data), sol)


def test_sites(solved):
    _, sol = solved
    data = tiny_data()
    data["rooms"][0]["site"] = "north"
    data["participants"][0]["site"] = "south"
    data["therapists"][0]["sites"] = ["south"]
    msgs = [v.message for v in validate(make(data), sol).violations if v.rule == "7"]
    assert any("P1's site" in m for m in msgs) and any("site of therapist" in m for m in msgs)


def test_unmet_must_match_sessions(solved):
    inst, sol = solved
    lying = sol.model_copy(
        update={
            "unmet": [
                UnmetRow(
                    participant="P1", requirement="individual", required=1, scheduled=0, short=1
                )
            ]
        }
    )
    assert "unmet" in _rules(inst, lying)
    fewer = sol.model_copy(update={"sessions": [s for s in sol.sessions if s.kind != "individual"]})
    assert "unmet" in _rules(inst, fewer)  # P1 is now short but nothing says so


def test_objective_must_match(solved):
    inst, sol = solved
    assert "objective" in _rules(inst, sol.model_copy(update={"objective": sol.objective + 1}))


def test_status_without_schedule_lists_no_sessions(solved):
    inst, sol = solved
    bad = sol.model_copy(update={"status": Status.INFEASIBLE})
    assert "status" in _rules(inst, bad)


def test_unknown_references(solved):
    inst, sol = solved
    assert "3" in _rules(inst, _edit(sol, therapist="T9"))
    assert "2" in _rules(inst, _edit(sol, participants=["P1", "P9"]))
    stray = Session(
        id="x",
        kind="group",
        group="G9",
        day="mon",
        start="17:00",
        end="18:00",
        therapist="T1",
        room="R1",
        participants=[],
    )
    assert "4" in _rules(inst, sol.model_copy(update={"sessions": [*sol.sessions, stray]}))


def _subjects(inst, sol) -> set[tuple]:
    """What each rule broken by no one session is about, as (rule, subject, day, lacking)."""
    return {
        (v.rule, v.group or v.participant or v.therapist or v.pin, v.day, v.lacking)
        for v in validate(inst, sol).violations
        if v.session is None
    }


def test_a_rule_no_one_session_breaks_names_what_it_is_about(solved):
    """Last week's schedule is mended by what its broken rules name (search/start.py)."""
    inst, sol = solved
    g1 = _group_meetings(sol)[0]
    fewer = sol.model_copy(update={"sessions": [s for s in sol.sessions if s.id != g1.id]})
    assert ("4", "G1", None, False) in _subjects(inst, fewer)  # meets once, not twice
    data = tiny_data()
    data["therapists"][0]["max_hours_per_week"] = 2
    data["therapists"][0]["max_hours_per_day"] = 1
    data["participants"][0]["max_days"] = 1
    data["participants"][1]["min_hours_per_day"] = 2
    data["pins"] = [{"participant": "P2", "kind": "individual"}]
    got = _subjects(make(data), sol)
    assert ("3", "T1", None, False) in got
    assert ("3", "T1", g1.day, False) in got
    assert ("5", "P1", None, False) in got
    assert ("5", "P2", g1.day, True) in got  # a day below the minimum: something lacks
    assert ("6", 0, None, True) in got
    data = tiny_data()
    data["groups"][0]["optional"] = False
    empty = sol.model_copy(update={"sessions": [s for s in sol.sessions if not s.group]})
    assert ("4", "G1", None, True) in _subjects(make(data), empty)
