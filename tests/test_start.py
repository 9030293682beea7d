"""``solve(start=...)`` and ``iopsched solve --start``: searching on from a given schedule."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import make, tiny_data

from iopsched import Instance, SolverSettings, load_instance, solve, validate
from iopsched import solver as solver_module
from iopsched.cli import main, summary
from iopsched.examples import write_solutions
from iopsched.io import load_solution
from iopsched.search.start import carried_forward, from_start, mended
from iopsched.solution import Session, Solution, Status
from iopsched.timegrid import format_hhmm, parse_hhmm
from iopsched.validator import Violation, assess

ROOT = Path(__file__).resolve().parents[1]
WEEK = "pinned-week"  # its shipped schedule (a long solve) costs far less than a 1 s solve's


def _shipped() -> tuple[Instance, Solution]:
    return (
        load_instance(ROOT / "instances" / f"{WEEK}.json"),
        load_solution(ROOT / "solutions" / f"{WEEK}.json"),
    )


def _solve(inst: Instance, start: Solution | None, **settings) -> tuple[Solution, list[Solution]]:
    """A short solve from ``start``, with every schedule it reported kept."""
    seen: list[Solution] = []
    options = {"time_limit": 1.0, "workers": 1, "seed": 0} | settings
    sol = solve(inst, SolverSettings(**options), on_schedule=seen.append, start=start)
    return sol, seen


def test_a_short_solve_without_a_start_is_far_from_the_shipped_schedule():
    # what makes the tests below able to fail: without the start, 1 s does not get there
    inst, shipped = _shipped()
    sol = solve(inst, SolverSettings(time_limit=1.0, workers=1, seed=0))
    assert sol.objective > 1.2 * shipped.objective


def test_the_search_begins_from_a_start_cheaper_than_the_first_fit():
    inst, shipped = _shipped()
    sol, seen = _solve(inst, shipped)
    assert sol.stats.started_from == "start"
    assert any(s.sessions == shipped.sessions for s in seen)  # reported as it is taken
    assert sol.objective <= shipped.objective
    assert validate(inst, sol).ok
    assert sol.stats.first_fit_objective > shipped.objective  # the first fit came first


def test_a_start_taken_comes_right_after_the_first_fit_without_its_variants(monkeypatch):
    inst, shipped = _shipped()
    calls: list[int] = []

    def variants(*args):
        calls.append(1)
        return iter(())

    monkeypatch.setattr(solver_module, "first_fit_variants", variants)
    _, seen = _solve(inst, shipped, time_limit=2.0)
    assert seen[1].sessions == shipped.sessions  # the first fit, then the start
    assert not calls  # no time spent on variants of a first fit the start beats
    _solve(inst, shipped.model_copy(update={"sessions": []}), time_limit=2.0)
    assert calls  # an empty start costs more than the first fit: variants as usual


def test_an_isolated_solve_takes_the_start_to_its_child():
    inst, shipped = _shipped()
    sol, seen = _solve(inst, shipped, isolated=True)
    assert any(s.sessions == shipped.sessions for s in seen)
    assert sol.objective <= shipped.objective


def test_a_start_that_breaks_a_rule_is_mended_with_a_warning(caplog):
    """A coordinator's edit that breaks a rule (a 1:1 session moved onto a group meeting of
    the same person): that session goes, the rest of the start is kept, and the week is
    completed around it, as last week's schedule is."""
    inst, shipped = _shipped()
    one = next(s for s in shipped.sessions if s.group is None)
    meeting = next(s for s in shipped.sessions if s.group and one.participants[0] in s.participants)
    length = parse_hhmm(one.end) - parse_hhmm(one.start)
    moved = one.model_copy(
        update={
            "day": meeting.day,
            "start": meeting.start,
            "end": format_hhmm(parse_hhmm(meeting.start) + length),
        }
    )
    edited = shipped.model_copy(
        update={"sessions": [moved if s is one else s for s in shipped.sessions]}
    )
    assert validate(inst, edited).broken
    with caplog.at_level(logging.WARNING, logger="iopsched"):
        sol, seen = _solve(inst, edited)
    assert "the start schedule breaks" in caplog.text
    rest = [s for s in shipped.sessions if s is not one]
    assert any(_keeps(s.sessions, rest) and not _keeps(s.sessions, [moved]) for s in seen)
    assert sol.stats.started_from == "start"
    assert validate(inst, sol).ok


def test_a_start_that_cannot_be_mended_is_left_out_with_a_warning(caplog):
    """A start whose week cannot keep a pin (its therapist is away): the search begins from
    the first fit."""
    inst, shipped = _shipped()
    week = _with_pin_no_one_can_keep(inst, shipped)
    with caplog.at_level(logging.INFO, logger="iopsched"):
        assert from_start(week, shipped) is None
    assert "the start schedule breaks" in caplog.text
    assert "carried into this week, breaks" in caplog.text


def _with_pin_no_one_can_keep(inst: Instance, shipped: Solution) -> Instance:
    """The week with last week's schedule and a pin whose therapist is away all week."""
    staff = inst.model_dump(mode="json")["therapists"]
    away = {
        **staff[0],
        "id": "T-away",
        "availability": [{"day": "sun", "start": "09:00", "end": "10:00"}],
    }
    one = next(s for s in shipped.sessions if s.group is None)
    pin = {"participant": one.participants[0], "kind": one.kind, "therapist": "T-away"}
    pins = [p.model_dump(mode="json", exclude_none=True) for p in inst.pins]
    return _with_previous(inst, shipped, therapists=[*staff, away], pins=[*pins, pin])


def test_a_start_whose_unmet_rows_and_objective_are_stale_is_taken():
    """A coordinator who edits a schedule seldom rewrites its unmet rows and objective:
    they are recomputed from the sessions, and the start is taken."""
    inst, shipped = _shipped()
    stale = shipped.model_copy(update={"unmet": [], "objective": shipped.objective + 1000})
    assert shipped.unmet and not validate(inst, stale).ok  # the accounting does not match
    assert not validate(inst, stale).broken  # yet every hard rule holds
    sol, seen = _solve(inst, stale)
    assert any(s.sessions == shipped.sessions for s in seen)
    assert sol.objective <= shipped.objective
    assert validate(inst, sol).ok


def _with_previous(inst: Instance, previous: Solution, **changes) -> Instance:
    data = inst.model_dump(mode="json", exclude_none=True) | changes
    return Instance.model_validate(data | {"previous": previous.model_dump(mode="json")})


def test_last_weeks_schedule_is_carried_forward_when_no_start_is_given():
    """The week again, with its shipped schedule as last week's: the search begins from it."""
    inst, shipped = _shipped()
    week = _with_previous(inst, shipped)
    sol, seen = _solve(week, None)
    assert any(s.sessions == shipped.sessions for s in seen)
    assert sol.objective <= shipped.objective  # the same week: no one left a group
    assert validate(week, sol).ok
    n = len(shipped.sessions)
    assert (sol.stats.started_from, sol.stats.last_week_kept, sol.stats.last_week_sessions) == (
        "last_week",
        n,
        n,
    )
    assert "began from last week's schedule: " in summary(week, sol)
    sol, seen = _solve(week, None, carry_forward=False)
    assert all(s.sessions != shipped.sessions for s in seen)
    assert sol.objective > shipped.objective  # what makes the test above able to fail
    assert sol.stats.started_from == "first_fit" and sol.stats.last_week_sessions is None
    assert "last week" not in summary(week, sol)


def _keeps(sessions: list[Session], carried: list[Session]) -> bool:
    """Every carried session is in ``sessions`` at its time, with its therapist and room,
    and with at least its people (new people may have joined a group)."""
    where = lambda s: (s.kind, s.group, s.day, s.start, s.end, s.therapist, s.room)  # noqa: E731
    have: dict[tuple, list[set[str]]] = {}
    for s in sessions:
        have.setdefault(where(s), []).append(set(s.participants))
    return all(
        any(set(c.participants) <= people for people in have.get(where(c), [])) for c in carried
    )


def _without(sessions: list[Session], pid: str, one_to_one: bool = True) -> list[Session]:
    """The sessions with ``pid`` taken out (their 1:1 sessions dropped unless ``one_to_one``
    is False: then kept as they are)."""
    out = []
    for s in sessions:
        if pid not in s.participants:
            out.append(s)
        elif s.group is not None:
            out.append(
                s.model_copy(update={"participants": [p for p in s.participants if p != pid]})
            )
        elif not one_to_one:
            out.append(s)
    return out


def test_people_who_left_are_taken_out_of_last_weeks_schedule():
    """One person discharged: their 1:1 sessions go, their groups keep the others."""
    inst, shipped = _shipped()
    one_to_one = {s.participants[0] for s in shipped.sessions if s.group is None}
    grouped = {p for s in shipped.sessions if s.group is not None for p in s.participants}
    pinned = {pin.participant for pin in inst.pins}
    gone = sorted((one_to_one & grouped) - pinned)[0]
    stay = [p for p in inst.model_dump(mode="json")["participants"] if p["id"] != gone]
    for p in stay:
        p["avoid"] = [q for q in p.get("avoid") or [] if q != gone]
    week = _with_previous(inst, shipped, participants=stay)
    assert validate(week, shipped).broken, "last week's schedule names someone who left"
    found = carried_forward(week).found
    assert found is not None and _keeps(found.sessions, _without(shipped.sessions, gone))
    assert all(gone not in s.participants for s in found.sessions)
    sol, seen = _solve(week, None)
    assert any(s.sessions == found.sessions for s in seen)  # the search began from it
    assert validate(week, sol).ok


def test_sessions_that_break_a_rule_of_this_week_are_dropped_from_last_weeks():
    """A person no longer free on the day of their 1:1 session: it goes, the rest is carried."""
    inst, shipped = _shipped()
    people = inst.model_dump(mode="json")["participants"]
    for s in (s for s in shipped.sessions if s.group is None):
        pid, day = s.participants[0], s.day
        rest = [x for x in shipped.sessions if not (pid in x.participants and x.day == day)]
        if len(rest) != len(shipped.sessions) - 1:
            continue  # a group meets then too: keep to one session dropped
        person = next(p for p in people if p["id"] == pid)
        free = person["availability"]
        person["availability"] = [w for w in free if w["day"] != day]
        week = _with_previous(inst, shipped, participants=people)
        unmet, _ = assess(week, rest)
        kept = shipped.model_copy(update={"sessions": rest, "unmet": unmet, "objective": None})
        if not validate(week, kept).broken:
            break
        person["availability"] = free
    else:
        raise AssertionError("the test needs a 1:1 session that can go")
    assert validate(week, shipped).broken  # last week's schedule as it stands breaks a rule
    found = carried_forward(week).found
    assert found is not None and _keeps(found.sessions, rest)
    assert not _keeps(found.sessions, [s])  # not where it was
    assert not validate(week, _as_solution(week, found.sessions)).broken
    sol, _ = _solve(week, None)
    assert validate(week, sol).ok


def _attendance(sessions: list[Session]) -> dict[str, set[str]]:
    days: dict[str, set[str]] = {}
    for s in sessions:
        for pid in s.participants:
            days.setdefault(pid, set()).add(s.day)
    return days


def test_a_person_now_over_a_limit_is_taken_out_of_last_weeks_sessions_and_fitted_in_again():
    """A person now comes in on one day a week at most: they leave last week's sessions,
    which are kept for everyone else, and the first fit gives them what fits one day."""
    inst, shipped = _shipped()
    pinned = {pin.participant for pin in inst.pins}
    days = _attendance(shipped.sessions)
    busy = next(p for p, d in sorted(days.items()) if len(d) > 1 and p not in pinned)
    people = inst.model_dump(mode="json")["participants"]
    next(p for p in people if p["id"] == busy)["max_days"] = 1
    week = _with_previous(inst, shipped, participants=people)
    assert validate(week, shipped).broken
    found = carried_forward(week).found
    assert found is not None
    assert _keeps(found.sessions, _without(shipped.sessions, busy))
    assert len(_attendance(found.sessions).get(busy, set())) <= 1
    assert not validate(week, _as_solution(week, found.sessions)).broken


def _as_solution(week: Instance, sessions: list[Session]) -> Solution:
    return Solution(instance=week.name, status=Status.FEASIBLE, sessions=sessions)


def test_a_start_outside_the_model_is_returned_when_the_search_finds_nothing_better(
    monkeypatch, caplog
):
    inst, shipped = _shipped()
    monkeypatch.setattr(solver_module, "expressible", lambda *args: False)
    with caplog.at_level(logging.WARNING, logger="iopsched"):
        sol, _ = _solve(inst, shipped)
    assert "outside this week's model" in caplog.text
    assert sol.sessions == shipped.sessions
    assert sol.objective == shipped.objective
    assert sol.status is Status.FEASIBLE
    assert validate(inst, sol).ok


def test_interchangeable_groups_of_a_start_may_run_in_either_order(tiny, caplog):
    # G2 is G1 under another id; where the whole week is searched first, the model runs
    # twins in order of their ids (G1 first), which a coordinator's schedule need not do
    tiny["groups"].append({**tiny["groups"][0], "id": "G2"})
    inst = Instance.model_validate(tiny)
    first = solve(inst, SolverSettings(time_limit=5, workers=1))
    assert first.status is Status.OPTIMAL and {s.group for s in first.sessions} >= {"G1"}
    swapped = [
        Session(**(s.model_dump() | {"group": "G2"})) if s.group == "G1" else s
        for s in first.sessions
    ]
    start = first.model_copy(update={"sessions": swapped})
    assert validate(inst, start).ok
    with caplog.at_level(logging.WARNING, logger="iopsched"):
        sol, seen = _solve(inst, start, warm_start=False)  # no first fit: the start is first
    assert "outside this week's model" not in caplog.text
    assert seen[0].sessions == swapped
    assert sol.objective == first.objective


def test_cli_start_searches_on_from_the_given_schedule(tmp_path):
    inst_path = ROOT / "instances" / f"{WEEK}.json"
    start = ROOT / "solutions" / f"{WEEK}.json"
    out = tmp_path / "out.json"
    args = ["solve", str(inst_path), "--time-limit", "1", "--workers", "1", "--in-process"]
    result = CliRunner().invoke(main, [*args, "--start", str(start), "-o", str(out), "--json"])
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout.strip().splitlines()[-1])
    assert record["objective"] <= load_solution(start).objective
    assert load_solution(out).objective == record["objective"]


def test_cli_start_that_is_not_a_solution_file_is_an_input_error(tmp_path):
    bad = tmp_path / "start.json"
    bad.write_text('{"status": "feasible", "sessions": [{"day": "mon"}]}')
    inst_path = ROOT / "instances" / f"{WEEK}.json"
    result = CliRunner().invoke(main, ["solve", str(inst_path), "--start", str(bad)])
    assert result.exit_code == 2
    assert "start.json" in result.output and "sessions[0]" in result.output
    assert "Traceback" not in result.output


def test_examples_continue_from_the_shipped_schedule(tmp_path):
    for folder in ("instances", "solutions"):
        (tmp_path / folder).mkdir()
        shutil.copy(ROOT / folder / f"{WEEK}.json", tmp_path / folder)
    shipped = load_solution(tmp_path / "solutions" / f"{WEEK}.json").objective
    write_solutions(tmp_path, time_limit=1.0, workers=1, names=[WEEK], resume=True)
    assert load_solution(tmp_path / "solutions" / f"{WEEK}.json").objective <= shipped


def _moved_pin(inst: Instance, shipped: Solution) -> tuple[Instance, Session, Session]:
    """The week with a new pin on someone's 1:1 session at another time than last week's,
    a time where the moved session breaks no rule; with the session and where it moved."""
    pinned = {pin.participant for pin in inst.pins}
    for s in shipped.sessions:
        if s.group is not None or s.participants[0] in pinned:
            continue
        length = parse_hhmm(s.end) - parse_hhmm(s.start)
        for day in ("mon", "tue", "wed", "thu", "fri", "sat"):
            for start in range(parse_hhmm("09:00"), parse_hhmm("21:00"), 60):
                there = {"day": day, "start": format_hhmm(start)}
                if there == {"day": s.day, "start": s.start}:
                    continue
                moved = s.model_copy(update={**there, "end": format_hhmm(start + length)})
                pin = {"participant": s.participants[0], "kind": s.kind, **there}
                pins = [p.model_dump(mode="json", exclude_none=True) for p in inst.pins]
                week = _with_previous(inst, shipped, pins=[*pins, pin])
                sessions = [moved if x is s else x for x in shipped.sessions]
                if not validate(week, _as_solution(week, sessions)).broken:
                    return week, s, moved
    raise AssertionError("the test needs a 1:1 session that can move")


def test_a_pin_last_weeks_schedule_does_not_hold_is_placed_in_the_carried_week():
    """A 1:1 session booked this week at another time than last week's: last week's goes,
    the pinned one is placed, and everything else is carried."""
    inst, shipped = _shipped()
    week, was, moved = _moved_pin(inst, shipped)
    assert any("pin" in v.message for v in validate(week, shipped).broken)
    found = carried_forward(week).found
    assert found is not None
    assert _keeps(found.sessions, [x for x in shipped.sessions if x is not was])
    assert any(  # where the pin says (its room may differ)
        (x.kind, x.participants, x.day, x.start)
        == (moved.kind, moved.participants, moved.day, moved.start)
        for x in found.sessions
    )
    assert not validate(week, _as_solution(week, found.sessions)).broken


def test_a_therapist_whose_cap_fell_below_last_week_loses_their_one_to_one_sessions_first():
    """A therapist's weekly cap cut by an hour: their 1:1 sessions leave the carried week
    (the first fit gives back what fits the new cap), their groups and everyone else's stay."""
    inst, shipped = _shipped()
    hours: dict[str, float] = {}
    for s in shipped.sessions:
        hours[s.therapist] = (
            hours.get(s.therapist, 0) + (parse_hhmm(s.end) - parse_hhmm(s.start)) / 60
        )
    ones = {s.therapist for s in shipped.sessions if s.group is None}
    lead = max(sorted(ones), key=lambda t: hours[t])
    staff = inst.model_dump(mode="json")["therapists"]
    next(t for t in staff if t["id"] == lead)["max_hours_per_week"] = hours[lead] - 1
    week = _with_previous(inst, shipped, therapists=staff)
    assert validate(week, shipped).broken
    found = carried_forward(week).found
    assert found is not None
    kept = [s for s in shipped.sessions if s.therapist != lead or s.group is not None]
    assert _keeps(found.sessions, kept)
    assert not validate(week, _as_solution(week, found.sessions)).broken


def test_last_weeks_schedule_is_not_the_start_when_the_completed_week_still_breaks_a_rule(
    caplog,
):
    """A pin this week no schedule can keep (its therapist is away all week): the carried
    week cannot be completed, and the solve says why."""
    inst, shipped = _shipped()
    week = _with_pin_no_one_can_keep(inst, shipped)
    with caplog.at_level(logging.INFO, logger="iopsched"):
        carried = carried_forward(week)
    assert carried.found is None and any("pin" in str(v) for v in carried.broken)
    assert "carried into this week, breaks" in caplog.text
    assert "pin" in caplog.text


def _session(
    sid: str, day: str, span: str, therapist: str, people: list[str], group: str | None = None
) -> Session:
    """A group meeting in room R1 (with ``group``) or an individual session."""
    start, end = span.split("-")
    kind, room = ("group", "R1") if group else ("individual", None)
    return Session(
        id=sid,
        kind=kind,
        group=group,
        day=day,
        start=start,
        end=end,
        therapist=therapist,
        room=room,
        participants=people,
    )


SESSIONS = [
    _session("G#1", "mon", "18:00-19:30", "T1", ["P1", "P2", "P3"], "G"),
    _session("G#2", "wed", "18:00-19:30", "T2", ["P1", "P2", "P3"], "G"),
    _session("H#1", "mon", "19:30-21:00", "T1", ["P1", "P3"], "H"),
    _session("P1/individual#1", "mon", "17:00-18:00", "T1", ["P1"]),
    _session("P2/individual#1", "tue", "17:00-18:00", "T1", ["P2"]),
]

MENDS = [
    (
        "of two sessions at once, the 1:1 one",
        Violation("2", "G#1", "x", also="P1/individual#1"),
        {"P1/individual#1"},
        {},
    ),
    ("a 1:1 session named", Violation("2", "P1/individual#1", "x"), {"P1/individual#1"}, {}),
    ("a group meeting named: all of its meetings", Violation("2", "G#2", "x"), {"G#1", "G#2"}, {}),
    ("a group named", Violation("4", None, "x", group="H"), {"H#1"}, {}),
    (
        "a group lacking: left to the completion",
        Violation("4", None, "x", group="K", lacking=True),
        set(),
        {},
    ),
    (
        "a day below its minimum: left to the completion",
        Violation("5", None, "x", participant="P1", day="mon", lacking=True),
        set(),
        {},
    ),
    (
        "a person over a limit: out of everything",
        Violation("5", None, "x", participant="P1"),
        {"P1/individual#1"},
        {"G#1": ["P2", "P3"], "G#2": ["P2", "P3"], "H#1": ["P3"]},
    ),
    (
        "a therapist over a daily cap: their 1:1 sessions that day",
        Violation("3", None, "x", therapist="T1", day="mon"),
        {"P1/individual#1"},
        {},
    ),
    (
        "a therapist over a weekly cap: all their 1:1 sessions",
        Violation("3", None, "x", therapist="T1"),
        {"P1/individual#1", "P2/individual#1"},
        {},
    ),
    (
        "a therapist with no 1:1 sessions: their groups that day",
        Violation("3", None, "x", therapist="T2", day="wed"),
        {"G#1", "G#2"},
        {},
    ),
]


@pytest.mark.parametrize(
    ("what", "violation", "dropped", "changed"), MENDS, ids=[m[0] for m in MENDS]
)
def test_last_weeks_sessions_are_mended_by_what_a_broken_rule_names(
    what, violation, dropped, changed
):
    week = make(tiny_data())
    kept = mended(week, SESSIONS, [violation])
    assert {s.id for s in SESSIONS} - {s.id for s in kept} == dropped
    assert {s.id: s.participants for s in kept if s.id in changed} == changed
    assert all(s in SESSIONS for s in kept if s.id not in changed)


def test_a_pin_not_kept_clears_the_sessions_it_describes():
    week = make(tiny_data() | {"pins": [{"participant": "P2", "kind": "individual", "day": "wed"}]})
    kept = mended(week, SESSIONS, [Violation("6", None, "x", pin=0, lacking=True)])
    assert {s.id for s in SESSIONS} - {s.id for s in kept} == {"P2/individual#1"}


def test_a_pin_not_kept_clears_what_holds_its_participant_or_therapist_at_its_time():
    """P1's individual session pinned Monday 19:00-20:00 with T1: P1's Monday groups then
    (all of G's meetings, and H) go with last week's session; P2's on Tuesday stays."""
    pin = {"participant": "P1", "kind": "individual", "therapist": "T1"}
    week = make(tiny_data() | {"pins": [pin | {"day": "mon", "start": "19:00"}]})
    kept = mended(week, SESSIONS, [Violation("6", None, "x", pin=0, lacking=True)])
    gone = {"G#1", "G#2", "H#1", "P1/individual#1"}
    assert {s.id for s in SESSIONS} - {s.id for s in kept} == gone
    week = make(tiny_data() | {"pins": [pin | {"day": "tue", "start": "19:00"}]})
    kept = mended(week, SESSIONS, [Violation("6", None, "x", pin=0, lacking=True)])
    assert {s.id for s in SESSIONS} - {s.id for s in kept} == {"P1/individual#1"}


def test_the_stats_say_why_last_weeks_schedule_was_not_the_start(monkeypatch):
    inst, shipped = _shipped()
    week = _with_previous(inst, shipped)
    monkeypatch.setattr(solver_module, "expressible", lambda *args: False)
    sol, _ = _solve(week, None)
    assert sol.stats.started_from == "first_fit"
    assert sol.stats.last_week_unused == "outside the model"
    monkeypatch.undo()
    empty = shipped.model_copy(update={"sessions": []})
    sol, _ = _solve(_with_previous(inst, empty), None)
    assert sol.stats.last_week_unused == "nothing kept" and sol.stats.last_week_kept == 0


@pytest.mark.parametrize(("cap", "dropped"), [(6, set()), (4.5, {"P2/individual#1"})])
def test_a_pin_not_kept_makes_room_under_its_therapists_weekly_cap(cap, dropped):
    """T1 gives 5 h of last week's sessions, P1's 1 h among them; P1's session pinned on
    Wednesday evening: under a 6 h cap it fits once P1's old one goes, under 4.5 h P2's
    goes too."""
    pin = {"participant": "P1", "kind": "individual", "therapist": "T1"}
    data = tiny_data() | {"pins": [pin | {"day": "wed", "start": "20:00"}]}
    data["therapists"][0]["max_hours_per_week"] = cap
    kept = mended(make(data), SESSIONS, [Violation("6", None, "x", pin=0, lacking=True)])
    assert {s.id for s in SESSIONS} - {s.id for s in kept} == {"P1/individual#1"} | dropped
