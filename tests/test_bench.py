"""The benchmark ladder runs end to end on a tiny ladder (timings are not asserted)."""

from __future__ import annotations

import csv
import json
import os
import sys
from pathlib import Path

import pytest
from conftest import MON_WED, make

from iopsched import solve, validate
from iopsched.bounds import participant_floor
from iopsched.io import dump_model, write_json_atomic
from iopsched.model.grid import Candidates
from iopsched.relaxation import track_ids
from iopsched.solution import Solution, Status
from iopsched.validator import assess
from iopsched.weights import Weights

sys.path.insert(0, str(Path(__file__).parent.parent / "benchmarks"))

import bench_solve
import capacity_bound
import day_bound
import fixed_times
import ladder
import pinned_weeks
import relaxed_tracks
import window_trace

EXAMPLES = Path(__file__).parent.parent / "instances"


def crash(path: str) -> dict:
    """A ladder job whose process dies the first time it runs (as a CP-SAT crash would)."""
    flag = Path(path)
    if not flag.exists():
        flag.touch()
        os._exit(11)
    return {"ran": "again"}


def always_crash(path: str) -> dict:
    os._exit(11)


def test_a_ladder_run_that_crashes_is_run_once_more(tmp_path, capsys):
    assert ladder.isolated(crash, str(tmp_path / "crashed")) == {"ran": "again"}
    assert "ended without a result (exit code 11), attempt 1 of 2" in capsys.readouterr().out


def test_a_ladder_run_that_keeps_crashing_stops_the_ladder_instead_of_hanging(tmp_path):
    with pytest.raises(RuntimeError, match="crashed 2 times"):
        ladder.isolated(always_crash, str(tmp_path / "x"))


def test_minutes_only_solves_the_week_without_the_per_person_cost(tiny):
    inst = make(tiny)
    assert bench_solve.searched_week(inst, "default") is inst
    week = bench_solve.searched_week(inst, "minutes-only")
    assert week.weights["participant_short"] == 0
    assert inst.weights.get("participant_short") != 0  # the week given is left alone
    row = bench_solve.run_once(inst, "minutes-only", 0, 10, 1, alone_check=False)
    assert row["valid"] and row["variant"] == "minutes-only"
    assert row["started_from"] == "first_fit" and row["last_week_kept"] is None  # no previous


def test_tiny_ladder_writes_csv_and_plot(tmp_path):
    out = tmp_path / "ladder.csv"
    args = ["--sizes", "10", "12@2", "--seeds", "0", "--time-limit", "2", "--out", str(out)]
    ladder.main(args)
    rows = list(csv.DictReader(out.open()))
    assert [r["size"] for r in rows] == ["10", "12@2"]
    assert all(r["valid"] == "True" and r["greedy_valid"] == "True" for r in rows)
    assert all(float(r["compliance"]) >= float(r["greedy_compliance"]) for r in rows)
    assert all(float(r["peak_mb"]) > 0 for r in rows)
    assert all(r["mip_status"] in {"optimal", "feasible", "unknown"} for r in rows)
    assert all(r["mip_valid"] in {"True", ""} for r in rows)  # empty: HiGHS found nothing
    assert out.with_suffix(".png").stat().st_size > 10_000


def test_highs_on_the_translated_model_proves_the_same_optimum():
    """The MIP baseline keeps the same rules and objective: same proven optimum, valid schedule."""
    from highs_baseline import solve_with_highs

    from iopsched import Status, solve, validate
    from iopsched.generate import generate

    inst = generate(6, 1)
    ours = solve(inst, time_limit=60, workers=2)
    mip = solve_with_highs(inst, time_limit=60, threads=2).solution
    assert ours.status is Status.OPTIMAL and mip.status is Status.OPTIMAL
    assert mip.objective == ours.objective
    report = validate(inst, mip)
    assert report.ok, report.render()
    assert report.objective == mip.objective


@pytest.mark.parametrize("rooms", [1, 2, 3])
def test_highs_keeps_room_pools_as_the_model_does(rooms):
    """Alike rooms are one pool in the model; the MIP must seat as many at once, no more."""
    from conftest import make
    from highs_baseline import solve_with_highs
    from test_model import _one_hour_rush

    from iopsched import solve, validate

    inst = make(_one_hour_rush(rooms))
    mip = solve_with_highs(inst, time_limit=20, threads=1).solution
    assert mip.objective == solve(inst, time_limit=10, workers=1).objective
    assert len(mip.sessions) == rooms
    assert validate(inst, mip).ok


def test_highs_warm_started_from_first_fit_keeps_at_least_that_schedule():
    """With ``warm``, HiGHS starts where iopsched does: never worse than first fit, valid."""
    from highs_baseline import solve_with_highs

    from iopsched import validate
    from iopsched.generate import generate
    from iopsched.greedy import first_fit_solution

    inst = generate(25, 3)
    first = validate(inst, first_fit_solution(inst))
    assert first.ok
    mip = solve_with_highs(inst, time_limit=5, threads=1, warm=True).solution
    assert mip.status.has_schedule
    assert mip.objective <= first.objective
    assert validate(inst, mip).ok


def test_highs_time_to_best_is_when_it_first_had_its_final_objective():
    from highs_baseline import _time_to_best

    assert _time_to_best([(5.9, 538370.0), (65.8, 538370.0)]) == 5.9
    assert _time_to_best([(1.0, 10.0), (2.0, 8.0), (3.0, 8.0)]) == 2.0
    assert _time_to_best([]) is None


def test_relaxed_tracks_runs_on_a_tiny_week(tmp_path, tiny, capsys):
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps(tiny))
    relaxed_tracks.main([str(path), "--seconds", "1"])
    out = capsys.readouterr().out
    assert "tracks solved one by one: objective" in out
    assert "whole relaxed week:" in out


def _group_times(sessions):
    return sorted((s.group, s.day, s.start) for s in sessions if s.group is not None)


def test_fixed_times_keeps_the_group_times_and_finds_their_optimum(tiny):
    week = make(tiny)
    sol = solve(week, time_limit=10, workers=1)
    result = fixed_times.with_fixed_times(week, sol.sessions, seconds=10)
    assert _group_times(result.sessions) == _group_times(sol.sessions)
    assert result.status == "OPTIMAL"
    assert result.objective == result.bound == sol.objective == 410  # test_tiny_optimum


def test_fixed_times_bound_shows_a_timetable_worse_than_the_weeks_optimum(tiny):
    # G1 at 17:00 on both days: P2's Monday meeting is then 60 min outside her
    # Monday 18:00-21:00 preference, on top of the 90 min on Wednesday: 410 + 60.
    week = make(tiny)
    sol = solve(week, time_limit=10, workers=1)
    early = [
        s.model_copy(update={"start": "17:00", "end": "18:30"}) if s.group else s
        for s in sol.sessions
    ]
    result = fixed_times.with_fixed_times(week, early, seconds=10)
    assert _group_times(result.sessions) == [("G1", "mon", "17:00"), ("G1", "wed", "17:00")]
    assert result.objective == result.bound == 470 > sol.objective
    unmet, _ = assess(week, result.sessions)
    check = Solution(
        instance=week.name, status=Status.FEASIBLE, sessions=result.sessions, unmet=unmet
    )
    assert validate(week, check).ok


def test_fixed_times_runs_on_a_tiny_week(tmp_path, tiny, capsys):
    week = make(tiny)
    inst, out = tmp_path / "tiny.json", tmp_path / "sol.json"
    inst.write_text(json.dumps(tiny))
    write_json_atomic(out, dump_model(solve(week, time_limit=10, workers=1)))
    fixed_times.main([str(inst), str(out), "--seconds", "5"])
    printed = capsys.readouterr().out
    assert "given schedule:          objective 410" in printed
    assert "objective 410, 2 fully served, bound 410 (optimal)" in printed


def own_floors(week) -> int:
    """What each person's own terms cost at least, summed: the cost floor without the
    busiest therapist's share, which neither relaxation below prices."""
    w = Weights.resolve(week.weights)
    return sum(participant_floor(week, p, w) for p in week.participants)


def test_capacity_bound_is_the_floor_where_there_is_room_for_everyone(tiny):
    week = make(tiny)
    assert own_floors(week) == 120  # two people, one day each at 60
    assert capacity_bound.CapacityLP(week).solve() == pytest.approx(120)  # optimum 410


def test_capacity_bound_prices_one_therapist_hour_for_four_people(tiny):
    # Four people each need one 60-min individual session (and 1 h a week); the only
    # therapist works Monday 17:00-18:00: one is seen (one day, 60), three are short of
    # the session (1000), of their hour (20 x 60) and of their plan (2400).
    tiny["groups"] = []
    tiny["therapists"][0]["availability"] = [{"day": "mon", "start": "17:00", "end": "18:00"}]
    plan = {"min_hours": 1, "max_hours": 2, "individual": {"sessions": 1, "minutes": 60}}
    tiny["participants"] = [
        {"id": f"P{i}", "availability": MON_WED, "plan": plan} for i in range(4)
    ]
    week = make(tiny)
    bound = capacity_bound.CapacityLP(week).solve()
    assert bound == pytest.approx(60 + 3 * (1000 + 1200 + 2400))
    assert own_floors(week) == 4 * 60  # each could be seen alone
    sol = solve(week, time_limit=10, workers=1)
    assert sol.status is Status.OPTIMAL
    assert sol.objective == bound + 20  # and the busiest therapist's 10 % of their week


def day_bound_of(week) -> tuple[str, float]:
    (ids,) = track_ids(week)
    solver = day_bound.cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = 10
    code = solver.solve(day_bound.day_model(week, Candidates(week), ids))
    return solver.status_name(code), round(solver.objective_value)


def test_day_bound_sees_that_a_group_takes_its_members_days(tiny):
    # The floor lets each come in one evening; but P2's 3 h can only come from G1, which
    # meets on both evenings, and P1's 4 h need it too (3 h) beside the 1 h session.
    week = make(tiny)
    assert own_floors(week) == 120
    assert day_bound_of(week) == ("OPTIMAL", 2 * 120)  # the optimum is 410


def test_day_bound_sees_who_cannot_join_the_one_group_that_gives_their_hours(tiny):
    # P2, free on Monday only, cannot join G1 (it meets on Wednesday too), their one way
    # to their hours: short, which the floor does not see (it prices them one Monday).
    # Without P2, G1 is too small to run and P1 is short too (the optimum, 12,080); the
    # day bound lets someone short fill a place, so it sees only P2.
    tiny["participants"][1]["availability"] = [MON_WED[0]]
    week = make(tiny)
    sol = solve(week, time_limit=10, workers=1)
    assert sol.status is Status.OPTIMAL
    assert day_bound_of(week) == ("OPTIMAL", 2 * 60 + 2400)
    assert own_floors(week) == 2 * 60 < 2 * 60 + 2400 < sol.objective


def test_day_bound_runs_on_a_tiny_week(tmp_path, tiny, capsys):
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps(tiny))
    day_bound.main([str(path), "--seconds", "2"])
    assert "day bound 240, found 240" in capsys.readouterr().out


def test_pins_copied_from_a_schedule_are_all_kept_by_that_schedule():
    """The pinned weeks are feasible by construction: the schedule the pins come from keeps
    every one of them (and every other hard rule)."""
    from iopsched import load_instance
    from iopsched.io import load_solution

    week = load_instance(EXAMPLES / "small-clinic.json")
    schedule = load_solution(EXAMPLES.parent / "solutions" / "small-clinic.json")
    for seed in range(5):
        pinned = pinned_weeks.pinned(week, schedule, 6, seed)
        assert len(pinned.pins) == 6
        report = validate(pinned, schedule)
        assert report.ok, report.render()


def test_window_trace_runs_its_arms_on_a_tiny_week(tmp_path, tiny, capsys):
    path, out = tmp_path / "tiny.json", tmp_path / "trace.csv"
    path.write_text(json.dumps(tiny))
    arms = [
        "default",
        "hint=decisions,use_lns_only=false,ignore_subsolvers=rnd_var_lns,twin_order=true",
    ]
    argv = [str(path), "--seconds", "2", "--seeds", "0", "--arm", arms[0], "--arm", arms[1]]
    window_trace.main([*argv, "--out", str(out)])
    rows = list(csv.DictReader(out.open()))
    assert [r["arm"] for r in rows] == arms
    for row in rows:  # both people can be fully served (test_tiny_optimum)
        assert row["short_at_end"] == "0" and float(row["at_2s"]) == 0.0
        assert int(row["week_objective_kept"]) >= 410  # a schedule: at least the optimum
    assert "lower than [default] on" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("arm", "says"),
    [
        ("probing=1", "'probing' is not a CP-SAT parameter"),
        ("use_lns_only", "is not NAME=VALUE"),
        ("hint=all", "hint is 'every' or 'decisions'"),
        ("twin_order=1", "twin_order is true or false"),
    ],
)
def test_window_trace_rejects_an_arm_it_cannot_run(arm, says):
    with pytest.raises(ValueError, match=says):
        window_trace.parse_arm(arm)


def test_window_trace_reads_parameter_values_by_their_kind():
    arm = (
        "use_lns_only=false,probing_deterministic_time_limit=0.05,num_workers=3,hint=decisions,"
        "ignore_subsolvers=rnd_var_lns+graph_arc_lns,twin_order=true"
    )
    assert window_trace.parse_arm(arm) == {
        "ignore_subsolvers": ["rnd_var_lns", "graph_arc_lns"],
        "use_lns_only": False,
        "probing_deterministic_time_limit": 0.05,
        "num_workers": 3,
        "hint": "decisions",
        "twin_order": True,
    }
