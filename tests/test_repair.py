"""Repairing a first fit that breaks a daily minimum or a pin (iopsched/model/repair.py)."""

from __future__ import annotations

from ortools.sat.python import cp_model

from iopsched import Instance, SolverSettings, solve, validate
from iopsched.greedy import first_fit_solution
from iopsched.model.build import BROKEN_PIN_MINUTES, build_model
from iopsched.model.lns import Neighbourhood, RoundModels
from iopsched.model.repair import RepairParts, debt

WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"]
NOTHING = Neighbourhood("repair", frozenset(), frozenset())


def _evenings(days: list[str]) -> list[dict]:
    return [{"day": d, "start": "17:00", "end": "21:00"} for d in days]


def _friday_week() -> dict:
    """P1 must get 2.5 h on any day they come in and has a 1 h session booked on Friday;
    the weekly 90-minute group G suits most people on Monday (P3 to P6 come Monday and
    Tuesday only), so the first fit holds it then.  Only G on Friday, with P1 and P2,
    lifts P1's Friday to 2.5 h."""
    plan = {"min_hours": 2, "max_hours": 8}
    people = [
        {
            "id": "P1",
            "availability": _evenings(WEEKDAYS),
            "min_hours_per_day": 2.5,
            "plan": {**plan, "individual": {"sessions": 1, "minutes": 60}},
        },
        {"id": "P2", "availability": _evenings(WEEKDAYS), "plan": plan},
    ]
    people += [
        {"id": f"P{i}", "availability": _evenings(["mon", "tue"]), "plan": plan}
        for i in range(3, 7)
    ]
    return {
        "name": "friday",
        "program_hours": _evenings(WEEKDAYS),
        "rooms": [{"id": "R1", "capacity": 8}],
        "therapists": [
            {
                "id": "T1",
                "modalities": ["group", "individual"],
                "availability": _evenings(WEEKDAYS),
                "max_hours_per_week": 20,
            }
        ],
        "groups": [
            {
                "id": "G",
                "kind": "group",
                "duration_minutes": 90,
                "meetings_per_week": 1,
                "min_size": 2,
                "max_size": 8,
            }
        ],
        "participants": people,
        "pins": [{"participant": "P1", "kind": "individual", "day": "fri", "start": "17:00"}],
    }


def _owed(week: Instance, sessions) -> object:
    """What ``sessions`` break, read from the repair model with every decision fixed."""
    ctx = build_model(week, repair=True)
    solver = cp_model.CpSolver()
    assert solver.solve(RoundModels(ctx).model(sessions, NOTHING)) == cp_model.OPTIMAL
    return debt(ctx, solver.value)


def test_the_first_fit_breaks_the_daily_minimum_the_pin_holds():
    """The premise of the tests below: P1 is left with the booked hour alone on Friday."""
    week = Instance.model_validate(_friday_week())
    report = validate(week, first_fit_solution(week))
    assert [str(v) for v in report.violations] == ["rule 5: P1 gets 1 h on fri, min 2.5"]


def test_the_repair_model_owes_the_minutes_below_the_minimum():
    """1 h of Friday's 2.5 h minimum: 90 minutes owed, by P1 alone, no pin broken."""
    week = Instance.model_validate(_friday_week())
    owed = _owed(week, first_fit_solution(week).sessions)
    assert (owed.amount, owed.people, owed.pins) == (90, {"P1"}, frozenset())


def test_a_broken_pin_is_owed_as_an_hour():
    """The same week with the booked session left out: the pin is broken, nobody is short."""
    week = Instance.model_validate(_friday_week())
    sessions = [s for s in first_fit_solution(week).sessions if s.kind != "individual"]
    owed = _owed(week, sessions)
    assert (owed.amount, owed.people, owed.pins) == (BROKEN_PIN_MINUTES, frozenset(), {0})


def test_a_valid_schedule_owes_nothing():
    week = Instance.model_validate(_friday_week())
    sol = solve(week, SolverSettings(time_limit=10, workers=1))
    assert validate(week, sol).ok
    assert _owed(week, sol.sessions).paid


def test_a_repair_part_frees_the_people_owed_and_groups_open_to_them():
    week = Instance.model_validate(_friday_week())
    ctx = build_model(week, repair=True)
    sessions = first_fit_solution(week).sessions
    owed = _owed(week, sessions)
    part = RepairParts(ctx, seed=0).pick(sessions, owed, size=1, cap=3)
    assert part.groups == {"G"}
    assert "P1" in part.participants and len(part.participants) == 3


def test_solve_repairs_the_first_fit_and_returns_a_valid_schedule():
    """G moves to Friday with P1 and P2; the first schedule is the repaired one."""
    week = Instance.model_validate(_friday_week())
    sol = solve(week, SolverSettings(time_limit=10, workers=1, relaxation_share=0))
    assert validate(week, sol).ok
    assert sol.stats.repair_rounds >= 1
    g = next(s for s in sol.sessions if s.group == "G")
    assert g.day == "fri" and {"P1", "P2"} <= set(g.participants)


def test_without_repair_the_search_starts_from_scratch():
    """The switch: no repair rounds, and the whole-week search still solves a week this
    small."""
    week = Instance.model_validate(_friday_week())
    settings = SolverSettings(time_limit=10, workers=1, repair=False, relaxation_share=0)
    sol = solve(week, settings)
    assert validate(week, sol).ok and sol.stats.repair_rounds == 0


def test_a_week_presolve_refutes_is_not_repaired():
    """Two booked sessions for P1's one individual session a week: no schedule exists, and
    CP-SAT's presolve says so at once, so no repair round is spent before the week is
    reported infeasible with the pins named."""
    data = _friday_week()
    data["pins"].append({"participant": "P1", "kind": "individual", "day": "mon", "start": "17:00"})
    week = Instance.model_validate(data)
    assert not validate(week, first_fit_solution(week)).ok
    sol = solve(week, SolverSettings(time_limit=10, workers=1))
    assert sol.status.value == "infeasible" and sol.stats.repair_rounds == 0
    assert {r.split(" ")[1] for r in sol.stats.infeasible_because if r.startswith("pin")} == {
        "0",
        "1",
    }
