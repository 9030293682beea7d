"""The first-fit schedule: valid on generated weeks, and the solver never does worse."""

from __future__ import annotations

import copy
import random
import time

import pytest
from conftest import tiny_data

from iopsched import Instance, SolverSettings, solve, validate
from iopsched.generate import generate
from iopsched.greedy import completed, first_fit_solution, greedy_schedule
from iopsched.solution import Solution, Status
from iopsched.timegrid import format_hhmm, parse_hhmm
from iopsched.validator import assess


@pytest.mark.parametrize(
    ("n", "seed", "profile"),
    [(10, 1, "small"), (25, 2, "evening"), (60, 3, "evening"), (30, 4, "understaffed")],
)
def test_first_fit_schedule_breaks_no_hard_rule(n, seed, profile):
    inst = generate(n, seed, profile=profile)
    sol = first_fit_solution(inst)
    assert sol.sessions, "the first-fit schedule places nothing"
    report = validate(inst, sol)
    assert report.ok, report.render()


def test_first_fit_is_deterministic():
    inst = generate(40, 9)
    assert greedy_schedule(inst) == greedy_schedule(inst)


def test_solver_never_returns_worse_than_first_fit():
    inst = generate(30, 6)
    sol = solve(inst, time_limit=3, workers=2)
    assert sol.stats.first_fit_objective is not None
    assert sol.objective <= sol.stats.first_fit_objective
    assert sol.stats.progress[0]["objective"] == sol.stats.first_fit_objective


def test_validator_cost_terms_equal_the_solvers():
    inst = generate(20, 5, profile="small")
    sol = solve(inst, time_limit=5, workers=2)
    report = validate(inst, sol)
    assert report.ok, report.render()
    key = lambda t: (t.rule, t.subject)  # noqa: E731
    assert sorted(report.cost_terms, key=key) == sorted(sol.stats.cost_terms, key=key)


def test_a_one_to_one_session_goes_where_it_keeps_a_day_at_the_daily_minimum():
    """Topping up a day that stays below min_hours_per_day wastes the session: the day is
    emptied at the end.  Here Tuesday holds 1 h of education and Monday a 2.5 h group;
    a 45-minute individual session lifts neither Tuesday to 2.5 h, so it goes on Monday."""
    evenings = [
        {"day": "mon", "start": "17:00", "end": "21:00"},
        {"day": "tue", "start": "17:00", "end": "21:00"},
    ]
    person = {
        "availability": evenings,
        "min_hours_per_day": 2.5,
        "plan": {"min_hours": 4.25, "max_hours": 6, "individual": {"sessions": 1, "minutes": 45}},
    }
    inst = Instance.model_validate(
        {
            "name": "daily-minimum",
            "program_hours": evenings,
            "rooms": [{"id": "R1", "capacity": 4}, {"id": "R2", "capacity": 2}],
            "therapists": [
                {
                    "id": "T1",
                    "modalities": ["group", "education", "individual"],
                    "availability": evenings,
                    "max_hours_per_week": 20,
                }
            ],
            "groups": [
                {
                    "id": "G",
                    "kind": "group",
                    "duration_minutes": 150,
                    "meetings_per_week": 1,
                    "min_size": 2,
                    "max_size": 4,
                    "fixed_times": [{"day": "mon", "start": "17:00"}],
                },
                {
                    "id": "E",
                    "kind": "education",
                    "duration_minutes": 60,
                    "meetings_per_week": 1,
                    "min_size": 2,
                    "max_size": 4,
                    "fixed_times": [{"day": "tue", "start": "17:00"}],
                },
            ],
            "participants": [{"id": "P1", **person}, {"id": "P2", **person}],
        }
    )
    sol = first_fit_solution(inst)
    assert validate(inst, sol).ok
    individual = [s for s in sol.sessions if s.kind == "individual"]
    assert sorted(s.participants[0] for s in individual) == ["P1", "P2"]
    assert {s.day for s in individual} == {"mon"}
    assert not [row for row in sol.unmet if row.requirement == "individual"]


def test_first_fit_variants_break_no_hard_rule_and_repeat_with_their_seed():
    inst = generate(40, 9)
    variants = [greedy_schedule(inst, random.Random(k)) for k in range(4)]
    assert greedy_schedule(inst, random.Random(2)) == variants[2]
    assert any(v != greedy_schedule(inst) for v in variants), "no variant differs"
    for sessions in variants:
        unmet, _ = assess(inst, sessions)
        sol = Solution(instance=inst.name, status=Status.FEASIBLE, sessions=sessions, unmet=unmet)
        report = validate(inst, sol)
        assert report.ok, report.render()


def test_variants_of_the_first_fit_are_offered_only_when_better():
    from iopsched.search.start import first_fit_found, first_fit_variants

    inst = generate(60, 2)
    _, plain = first_fit_found(inst)
    found = list(first_fit_variants(inst, SolverSettings(), plain, time.monotonic() + 1.5))
    assert found, "no variant beat the first fit in 1.5 s: the test would prove nothing"
    objectives = [plain.objective] + [f.objective for f in found]
    assert objectives == sorted(set(objectives), reverse=True)


def test_the_first_schedule_is_the_first_fit_and_its_variants_come_after():
    inst = generate(60, 2)
    settings = SolverSettings(time_limit=4, workers=2, first_fit_share=0.4, relaxation_share=0)
    sol = solve(inst, settings)
    progress = [p["objective"] for p in sol.stats.progress]
    assert progress[0] == sol.stats.first_fit_objective
    assert sol.objective <= min(progress) < sol.stats.first_fit_objective
    assert validate(inst, sol).ok


def test_each_schedule_reaches_the_caller_before_its_progress_line():
    """A caller that stops at a progress line (as an isolated solve's parent does) must
    already hold that schedule: before this order the parent could end with none."""
    inst = generate(25, 2)
    seen: list[tuple[str, float]] = []
    settings = SolverSettings(
        time_limit=3, workers=2, first_fit_share=0.3, relaxation_share=0, whole_week_first_up_to=0
    )
    solve(
        inst,
        settings,
        on_progress=lambda p: seen.append(("progress", p.objective)),
        on_schedule=lambda s: seen.append(("schedule", s.objective)),
    )
    assert len(seen) >= 4, seen  # the first fit, then variants or rounds
    assert seen[0][0] == "schedule"
    for i, (kind, objective) in enumerate(seen):
        if kind == "progress":  # first fit, variants and rounds here (no whole-week search)
            assert seen[i - 1] == ("schedule", objective), seen


def test_ctrl_c_among_the_variants_keeps_the_best_schedule_so_far(monkeypatch):
    from iopsched import solver as solver_module
    from iopsched.search import start as start_module

    real, calls = solver_module.first_fit_found, []

    def interrupted(instance, rng=None):
        calls.append(rng)
        if len(calls) > 3:
            raise KeyboardInterrupt
        return real(instance, rng)

    for module in (solver_module, start_module):  # the plain first fit and its variants
        monkeypatch.setattr(module, "first_fit_found", interrupted)
    inst = generate(60, 2)
    sol = solve(inst, SolverSettings(time_limit=30, workers=2, first_fit_share=0.5))
    assert sol.status is Status.FEASIBLE and sol.solve_seconds < 10
    assert sol.objective <= sol.stats.first_fit_objective
    assert validate(inst, sol).ok


def test_a_deterministic_solve_tries_no_variants(monkeypatch):
    """How many variants fit in a share of the limit depends on the machine."""
    from iopsched import solver as solver_module
    from iopsched.search import start as start_module

    real, calls = solver_module.first_fit_found, []

    def counting(instance, rng=None):
        calls.append(rng)
        return real(instance, rng)

    for module in (solver_module, start_module):  # the plain first fit and its variants
        monkeypatch.setattr(module, "first_fit_found", counting)
    settings = SolverSettings(time_limit=0.5, workers=1, first_fit_share=0.5, deterministic=True)
    solve(generate(30, 6), settings)
    assert calls == [None]


def _filled(change=None, second: str | None = None) -> tuple[Instance, list]:
    """The tiny week with G1 running Mon and Wed 17:00 for P2 alone (and, with ``second``,
    a like group G2 at that time); P1 is then looked at again (``fill_gaps``).  ``change``
    edits the week's data first."""
    from iopsched.greedy import Greedy
    from iopsched.solution import Session

    data = tiny_data()
    running = [("G1", "17:00")]
    if second is not None:
        data["groups"].append({**data["groups"][0], "id": "G2"})
        running.append(("G2", second))
    if change is not None:
        change(data)
    inst = Instance.model_validate(data)
    greedy = Greedy(inst)
    greedy.load(
        [
            Session(
                id=f"{gid}#{k}",
                kind="group",
                group=gid,
                day=day,
                start=start,
                end=format_hhmm(parse_hhmm(start) + 90),
                therapist="T1",
                room="R1",
                participants=["P2"],
            )
            for gid, start in running
            for k, day in enumerate(("mon", "wed"), start=1)
        ]
    )
    greedy.fill_gaps()
    return inst, greedy.sessions()


def test_people_left_short_join_a_running_group_with_a_place():
    inst, sessions = _filled()
    meetings = [s for s in sessions if s.group == "G1"]
    assert [s.participants for s in meetings] == [["P1", "P2"], ["P1", "P2"]]
    individual = [s for s in sessions if s.kind == "individual"]
    assert [s.participants for s in individual] == [["P1"]]  # and the 1:1 session they lack
    unmet, _ = assess(inst, sessions)
    sol = Solution(instance=inst.name, status=Status.FEASIBLE, sessions=sessions, unmet=unmet)
    report = validate(inst, sol)  # G1 ran below its min_size of 2 before P1 joined
    assert report.ok, report.render()


def _set(*edits):
    """A change of the week's data: (dotted path, value) pairs."""

    def change(data):
        for path, value in zip(edits[::2], edits[1::2], strict=True):
            *keys, last = path.split(".")
            node = data
            for key in keys:
                node = node[int(key)] if key.isdigit() else node[key]
            node[last] = value

    return change


@pytest.mark.parametrize(
    ("why", "change"),
    [
        ("the group is full", _set("groups.0.min_size", 1, "groups.0.max_size", 1)),
        ("its room is full", _set("rooms.0.capacity", 1)),
        ("kept apart from a member", _set("participants.0.avoid", ["P2"])),
        ("away on Wednesday", _set("participants.0.availability.1.day", "tue")),
        ("a day would stay below the daily minimum", _set("participants.0.min_hours_per_day", 2)),
        (
            "over their weekly maximum",
            _set("participants.0.plan.min_hours", 2, "participants.0.plan.max_hours", 3.5),
        ),
        ("the tags keep them out", _set("groups.0.tags_required", ["adolescent"])),
    ],
)
def test_nobody_joins_a_running_group_against_a_rule(why, change):
    _, sessions = _filled(change)
    meetings = [s for s in sessions if s.group == "G1"]
    assert [s.participants for s in meetings] == [["P2"], ["P2"]], why


_DAILY_THREE_HOURS = _set("participants.0.min_hours_per_day", 3, "participants.0.plan.max_hours", 8)


def test_with_a_daily_minimum_two_groups_that_hold_it_together_are_joined_together():
    """G1 or G2 alone gives P1 1.5 h a day, below their 3 h; the two back to back give 3 h."""
    inst, sessions = _filled(_DAILY_THREE_HOURS, second="18:30")
    for gid in ("G1", "G2"):
        assert [s.participants for s in sessions if s.group == gid] == [["P1", "P2"]] * 2
    unmet, _ = assess(inst, sessions)
    sol = Solution(instance=inst.name, status=Status.FEASIBLE, sessions=sessions, unmet=unmet)
    report = validate(inst, sol)
    assert report.ok, report.render()


def test_two_groups_that_meet_at_once_are_not_joined_together():
    _, sessions = _filled(_DAILY_THREE_HOURS, second="17:30")
    for gid in ("G1", "G2"):
        assert [s.participants for s in sessions if s.group == gid] == [["P2"]] * 2


def test_a_one_to_one_session_without_a_place_is_looked_for_again_once_time_is_given_back():
    """The second look skips a session that found no place only while nothing was freed."""
    from iopsched.greedy import Greedy
    from iopsched.solution import Session

    inst = Instance.model_validate(tiny_data())
    greedy = Greedy(inst)
    greedy.load(  # T1 busy all of Monday and Wednesday evening
        [
            Session(
                id=f"G1#{k}",
                kind="group",
                group="G1",
                day=day,
                start="17:00",
                end="21:00",
                therapist="T1",
                room="R1",
                participants=["P2"],
            )
            for k, day in enumerate(("mon", "wed"), start=1)
        ]
    )
    p1 = inst.participant_by_id["P1"]
    assert greedy.place_missing(p1, "individual", 0) == 0
    assert greedy.place_missing(p1, "individual", 0) == 0
    greedy.unplace(greedy.placed[0])  # Monday's booking given back
    assert greedy.place_missing(p1, "individual", 0) == 1


def _announced_week(extra_group: dict | None = None) -> Instance:
    """Four people free Mon and Wed 17:00-21:00 and two groups the program announced."""
    data = tiny_data()
    data["participants"] = [
        {
            "id": f"P{i}",
            "availability": copy.deepcopy(data["program_hours"]),
            "plan": {"min_hours": 6, "max_hours": 10, "group_hours": 6},
        }
        for i in range(1, 5)
    ]
    data["therapists"][0]["max_hours_per_week"] = 20
    data["therapists"].append(data["therapists"][0] | {"id": "T2"})
    fixed = {
        "kind": "group",
        "duration_minutes": 90,
        "meetings_per_week": 2,
        "min_size": 2,
        "max_size": 8,
        "optional": False,
    }
    data["groups"] = [
        fixed | {"id": "A", "fixed_times": [{"day": d, "start": "17:00"} for d in ("mon", "wed")]},
        fixed | {"id": "B", "fixed_times": [{"day": d, "start": "18:30"} for d in ("mon", "wed")]},
    ]
    if extra_group is not None:
        data["groups"].append(fixed | extra_group)
    return Instance.model_validate(data)


def test_a_block_partner_does_not_take_the_place_of_a_group_that_must_run():
    # C may follow A as its block partner, at B's times, with all of A's people
    week = _announced_week({"id": "C", "optional": True})
    report = validate(week, first_fit_solution(week))
    assert report.ok, report.render()


def test_a_group_that_must_run_leaves_people_for_another_at_the_same_times():
    week = _announced_week()
    data = week.model_dump()
    data["groups"][1]["fixed_times"] = data["groups"][0]["fixed_times"]  # B meets with A
    week = Instance.model_validate(data)
    sol = first_fit_solution(week)
    assert validate(week, sol).ok
    sizes = {s.group: len(s.participants) for s in sol.sessions}
    assert sizes == {"A": 2, "B": 2}


# ---------------------------------------------------------------- pins in the first fit
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"]


def _evenings(days: list[str], start: str = "17:00", end: str = "21:00") -> list[dict]:
    return [{"day": d, "start": start, "end": end} for d in days]


def _pinned_week(pins: list[dict], **person: object) -> dict:
    """Five evenings, two therapists (T2 works Tuesdays only), a twice-weekly group G and a
    weekly education group E, six participants free every evening."""
    plan = {"min_hours": 3, "max_hours": 8, "individual": {"sessions": 1, "minutes": 60}}
    staff = ["group", "education", "individual"]
    return {
        "name": "pins",
        "program_hours": _evenings(WEEKDAYS),
        "rooms": [{"id": "R1", "capacity": 8}, {"id": "R2", "capacity": 2}],
        "therapists": [
            {
                "id": "T1",
                "modalities": staff,
                "availability": _evenings(WEEKDAYS),
                "max_hours_per_week": 20,
            },
            {
                "id": "T2",
                "modalities": staff,
                "availability": _evenings(["tue"]),
                "max_hours_per_week": 20,
            },
        ],
        "groups": [
            {
                "id": "G",
                "kind": "group",
                "duration_minutes": 90,
                "meetings_per_week": 2,
                "min_size": 2,
                "max_size": 8,
            },
            {
                "id": "E",
                "kind": "education",
                "duration_minutes": 60,
                "meetings_per_week": 1,
                "min_size": 2,
                "max_size": 8,
            },
        ],
        "participants": [
            {"id": f"P{i}", "availability": _evenings(WEEKDAYS), "plan": plan, **person}
            for i in range(1, 7)
        ],
        "pins": pins,
    }


def _kept(inst: dict, pin: dict) -> list:
    """The first fit's sessions that keep ``pin``, after checking the schedule is valid."""
    week = Instance.model_validate(inst)
    sol = first_fit_solution(week)
    report = validate(week, sol)
    assert report.ok, report.render()
    return [
        s
        for s in sol.sessions
        if all(
            getattr(s, key) == value if key != "participant" else value in s.participants
            for key, value in pin.items()
        )
    ]


def test_a_pinned_group_meets_at_its_pinned_time_with_its_pinned_member():
    """An announced meeting at a late hour on Thursday, not where the most people are free
    first; the group must run then, with P6 in it."""
    pin = {"group": "G", "participant": "P6", "day": "thu", "start": "19:30"}
    assert _kept(_pinned_week([pin]), pin)


def test_a_pinned_facilitator_leads_the_pinned_meeting_even_if_not_the_others():
    """T2 works Tuesdays only: the pinned Tuesday meeting is theirs, the other one T1's."""
    pin = {"group": "G", "therapist": "T2", "day": "tue", "start": "17:00"}
    inst = _pinned_week([pin])
    assert _kept(inst, pin)
    sessions = first_fit_solution(Instance.model_validate(inst)).sessions
    leads = {s.day: s.therapist for s in sessions if s.group == "G"}
    assert leads["tue"] == "T2" and set(leads.values()) == {"T1", "T2"}


def test_a_pinned_one_to_one_session_stays_for_someone_with_a_daily_minimum():
    """A booked 1 h session on Friday, for people whose every day must hold 2.5 h and whose
    plans ask for no education: first fit keeps it and puts P1 in Friday's 90-minute
    education group as well, which is what lifts that day to the minimum."""
    pin = {"participant": "P1", "kind": "individual", "day": "fri", "start": "17:00"}
    data = _pinned_week([pin], min_hours_per_day=2.5)
    data["groups"][1].update(duration_minutes=90, fixed_times=[{"day": "fri", "start": "18:00"}])
    assert _kept(data, pin)
    sessions = first_fit_solution(Instance.model_validate(data)).sessions
    assert "P1" in next(s for s in sessions if s.group == "E").participants


def test_first_fit_completes_a_week_around_the_sessions_it_is_given():
    """Last week's sessions carried forward stay as they are; a group that must run and is
    not among them is placed again, and someone new is fitted in around them."""
    data = generate(30, 7, profile="small").model_dump(mode="json", exclude_none=True)
    gid = data["groups"][0]["id"]
    data["groups"][0]["optional"] = False
    inst = Instance.model_validate(data)
    first = greedy_schedule(inst, random.Random(3))  # a variant: not what a first fit does
    served = {
        pid for s in first if s.group is not None and s.group != gid for pid in s.participants
    }
    new = sorted(served)[0]  # in a group other than gid: the first fit fits them in somewhere
    keep = [
        s.model_copy(update={"participants": [p for p in s.participants if p != new]})
        for s in first
        if s.group != gid and s.participants != [new]
    ]
    keep = [s for s in keep if s.participants]
    week = completed(inst, keep)
    where = lambda s: (s.kind, s.group, s.day, s.start, s.therapist, s.room)  # noqa: E731
    have = {where(s): set(s.participants) for s in week}
    assert all(set(s.participants) <= have.get(where(s), set()) for s in keep)
    plain = {where(s): set(s.participants) for s in greedy_schedule(inst)}
    assert not all(set(s.participants) <= plain.get(where(s), set()) for s in keep)
    assert any(s.group == gid for s in week)  # placed again: it must run
    assert any(new in s.participants for s in week)
    report = validate(inst, Solution(instance=inst.name, status=Status.FEASIBLE, sessions=week))
    assert not report.broken, report.render()
