"""The command line, through click's runner: outputs and exit codes."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from conftest import tiny_data

from iopsched.cli import _last_week, main
from iopsched.io import dump_model
from iopsched.solution import Stats


def _write(tmp_path, data, name="week.json"):
    f = tmp_path / name
    f.write_text(json.dumps(data))
    return f


def test_solve_then_validate(tmp_path):
    week = _write(tmp_path, tiny_data())
    out = tmp_path / "sol.json"
    r = CliRunner().invoke(main, ["solve", str(week), "-o", str(out), "--time-limit", "20"])
    assert r.exit_code == 0, r.output
    assert "status: optimal" in r.output and "participants with their full plan: 2/2" in r.output
    assert json.loads(out.read_text())["format"] == "iopsched/solution@1"
    r = CliRunner().invoke(main, ["validate", str(week), str(out)])
    assert r.exit_code == 0 and r.output.startswith("valid")


def test_validate_reports_violations_with_exit_1(tmp_path):
    week = _write(tmp_path, tiny_data())
    out = tmp_path / "sol.json"
    CliRunner().invoke(main, ["solve", str(week), "-o", str(out), "--quiet"])
    sol = json.loads(out.read_text())
    sol["sessions"][0]["day"] = "sun"
    bad = _write(tmp_path, sol, "bad.json")
    r = CliRunner().invoke(main, ["validate", str(week), str(bad)])
    assert r.exit_code == 1
    assert "outside program hours" in r.output


def test_bad_input_exit_2_without_traceback(tmp_path):
    data = tiny_data()
    data["participants"][1]["availability"][0]["end"] = "16:00"
    week = _write(tmp_path, data)
    r = CliRunner().invoke(main, ["solve", str(week)])
    assert r.exit_code == 2
    assert "participants[1].availability[0].end" in r.output
    assert "Traceback" not in r.output


def test_missing_file_exit_2(tmp_path):
    r = CliRunner().invoke(main, ["validate", str(tmp_path / "a.json"), str(tmp_path / "b.json")])
    assert r.exit_code == 2 and "no such file" in r.output


def test_infeasible_exit_1_with_reason(tmp_path):
    data = tiny_data()
    data["pins"] = [{"participant": "P1", "kind": "individual", "day": "tue"}]
    week = _write(tmp_path, data)
    out = tmp_path / "sol.json"
    r = CliRunner().invoke(main, ["solve", str(week), "-o", str(out), "--quiet"])
    assert r.exit_code == 1
    assert "cannot all hold" in r.output and "pin 0" in r.output
    assert "to schedule the rest of the week: remove or move those pins" in r.output
    assert "optional" not in r.output
    assert json.loads(out.read_text())["status"] == "infeasible"


def test_infeasible_mandatory_group_says_how_to_schedule_the_rest(tmp_path):
    data = tiny_data()
    data["groups"][0].update(optional=False, min_size=3)  # only two participants exist
    r = CliRunner().invoke(main, ["solve", str(_write(tmp_path, data)), "--quiet"])
    assert r.exit_code == 1
    assert "group G1 must run: 2 participant(s) fit its tags and site" in r.output
    assert (
        'to schedule the rest of the week: mark those groups "optional": true or change '
        "their fixed times, then solve again"
    ) in r.output


def test_same_seed_same_schedule(tmp_path):
    week = _write(tmp_path, tiny_data())
    outs = []
    for k in range(2):
        out = tmp_path / f"s{k}.json"
        CliRunner().invoke(
            main, ["solve", str(week), "-o", str(out), "--workers", "1", "--seed", "3", "--quiet"]
        )
        outs.append(json.loads(out.read_text())["sessions"])
    assert outs[0] == outs[1]


@pytest.mark.parametrize(
    "flags",
    [
        # 15 s of work: the first fit, a whole-week search cut by its share and a round
        ["--deterministic", "--workers", "2", "--time-limit", "15"],
        # one worker counts its limit in CP-SAT's work unless told --wall-clock
        ["--workers", "1", "--seed", "3", "--time-limit", "10"],
    ],
)
def test_runs_cut_by_their_limit_repeat_with_deterministic_or_one_worker(tmp_path, flags):
    """``--deterministic``, and ``--workers 1 --seed N``, give the same schedule twice, even
    when the search is stopped by its limit."""
    from iopsched.generate import generate
    from iopsched.io import dump_model

    week = _write(tmp_path, dump_model(generate(40, 5)))
    outs = []
    for k in range(2):
        out = tmp_path / f"d{k}.json"
        r = CliRunner().invoke(main, ["solve", str(week), "-o", str(out), "--quiet", *flags])
        assert r.exit_code == 0, r.output
        outs.append(json.loads(out.read_text()))
    assert outs[0]["status"] == "feasible", "the test needs a search cut by its limit"
    assert outs[0]["stats"]["lns_rounds"] >= 1
    assert outs[0]["sessions"] == outs[1]["sessions"]
    assert outs[0]["objective"] == outs[1]["objective"]


def test_which_flags_count_the_limit_in_work(tmp_path, monkeypatch):
    """Deterministic with --deterministic or one worker; --wall-clock keeps the seconds."""
    from iopsched import cli
    from iopsched.greedy import first_fit_solution

    asked = []

    def record(inst, settings, on_progress=None, on_schedule=None, start=None):
        asked.append((settings.workers, settings.deterministic))
        return first_fit_solution(inst)

    monkeypatch.setattr(cli, "solve", record)
    week = _write(tmp_path, tiny_data())
    runs = (["--workers", "1"], ["--workers", "1", "--wall-clock"], ["--workers", "2"])
    for flags in (*runs, ["--deterministic"], ["--workers", "2", "--deterministic"]):
        r = CliRunner().invoke(main, ["solve", str(week), "--quiet", *flags])
        assert r.exit_code == 0, r.output
    assert asked == [(1, True), (1, False), (2, False), (0, True), (2, True)]


def test_schema(tmp_path):
    r = CliRunner().invoke(main, ["schema", "solution"])
    assert r.exit_code == 0 and "status" in json.loads(r.output)["properties"]


def test_ctrl_c_keeps_the_best_schedule(tmp_path):
    """SIGINT during the search ends the whole solve (neighbourhood rounds included)."""
    import signal
    import subprocess
    import sys
    import time

    from iopsched.generate import generate
    from iopsched.io import dump_model

    week = _write(tmp_path, dump_model(generate(60, 2)))
    out = tmp_path / "sol.json"
    cmd = [sys.executable, "-m", "iopsched.cli", "solve", str(week), "-o", str(out)]
    proc = subprocess.Popen(
        [*cmd, "--time-limit", "120", "--workers", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(8)  # past the first schedule, inside the search
    t0 = time.monotonic()
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 0, stderr
    assert time.monotonic() - t0 < 30, "Ctrl-C did not end the solve"
    assert "status: feasible" in stdout
    r = CliRunner().invoke(main, ["validate", str(week), str(out)])
    assert r.exit_code == 0, r.output


def test_json_progress_and_result(tmp_path):
    week = _write(tmp_path, tiny_data())
    out = tmp_path / "sol.json"
    r = CliRunner().invoke(main, ["solve", str(week), "-o", str(out), "--json"])
    assert r.exit_code == 0
    result = json.loads(r.stdout)
    assert result["event"] == "result" and result["status"] == "optimal"
    assert result["fully_served"] == 2 and result["output"] == str(out)
    events = [json.loads(line) for line in r.stderr.splitlines()]
    assert events and all(e["event"] == "progress" for e in events)
    assert events[-1]["objective"] == result["objective"]


def test_live_line_on_a_terminal_only(tmp_path, monkeypatch):
    import iopsched.cli as cli

    week = _write(tmp_path, tiny_data())
    r = CliRunner().invoke(main, ["solve", str(week)])
    assert r.stderr == ""  # not a terminal: quiet
    monkeypatch.setattr(cli, "_on_terminal", lambda: True)
    r = CliRunner().invoke(main, ["solve", str(week)])
    assert "\r" in r.stderr and "fully served 2/2" in r.stderr
    r = CliRunner().invoke(main, ["solve", str(week), "--quiet"])
    assert r.stderr == ""


def test_generate_command_is_deterministic_and_loads(tmp_path):
    from iopsched.io import load_instance

    outs = []
    for k in range(2):
        out = tmp_path / f"g{k}.json"
        args = ["generate", "--participants", "30", "--seed", "4", "--sites", "2", "-o", str(out)]
        r = CliRunner().invoke(main, [*args, "--week-of", "2026-11-30"])
        assert r.exit_code == 0, r.output
        outs.append(out.read_text())
    assert outs[0] == outs[1]
    inst = load_instance(tmp_path / "g0.json")
    assert len(inst.participants) == 30 and str(inst.week_of) == "2026-11-30"
    assert {p.site for p in inst.participants} == {"S1", "S2"}
    r = CliRunner().invoke(main, ["generate", "--participants", "5", "--profile", "x", "-o", "y"])
    assert r.exit_code == 2


def test_the_summary_says_when_the_bound_is_only_the_cost_floor():
    from conftest import make

    from iopsched.cli import summary
    from iopsched.solution import Solution, Stats, Status

    week = make(tiny_data())

    def line(status: Status, bound: float) -> str:
        sol = Solution(
            instance="tiny", status=status, objective=500, bound=bound, stats=Stats(cost_floor=120)
        )
        return summary(week, sol).splitlines()[0]

    assert "bound: 120.0 (cost floor" in line(Status.FEASIBLE, 120)
    assert "cost floor" not in line(Status.FEASIBLE, 130)  # the search proved more
    assert "cost floor" not in line(Status.OPTIMAL, 120)


def test_the_summary_says_when_more_time_would_likely_help():
    from conftest import make

    from iopsched.cli import summary
    from iopsched.solution import Solution, Stats, Status

    week = make(tiny_data())

    def text(status: Status, best_at: float) -> str:
        stats = Stats(time_to_best=best_at)
        sol = Solution(
            instance="tiny", status=status, objective=500, stats=stats, solve_seconds=60.0
        )
        return summary(week, sol)

    assert "still improving: the last better schedule came at 58.5 s of 60.0 s" in text(
        Status.FEASIBLE, 58.5
    )
    assert "still improving" not in text(Status.FEASIBLE, 20.0)  # it had settled
    assert "still improving" not in text(Status.OPTIMAL, 58.5)  # nothing better exists


def test_the_summary_says_what_to_try_when_no_schedule_was_found():
    from conftest import make

    from iopsched.cli import summary
    from iopsched.solution import Solution, Status

    week = make(tiny_data())
    for status in Status:
        text = summary(week, Solution(instance="tiny", status=status, solve_seconds=30.0))
        assert ("a longer --time-limit may find one" in text) == (status is Status.UNKNOWN)


@pytest.mark.parametrize(("flags", "isolated"), [([], True), (["--in-process"], False)])
def test_solve_searches_in_a_child_process_unless_told(tmp_path, monkeypatch, flags, isolated):
    from iopsched import cli
    from iopsched.greedy import first_fit_solution

    asked = []

    def record(inst, settings, on_progress=None, on_schedule=None, start=None):
        asked.append(settings.isolated)
        return first_fit_solution(inst)

    monkeypatch.setattr(cli, "solve", record)
    week = _write(tmp_path, tiny_data())
    r = CliRunner().invoke(main, ["solve", str(week), "--quiet", *flags])
    assert r.exit_code == 0, r.output
    assert asked == [isolated]


def test_solve_saves_the_best_schedule_so_far_before_a_crash(tmp_path, monkeypatch):
    """Should the search die (CP-SAT has crashed on rare runs), the output holds its best so far."""
    from iopsched import cli
    from iopsched.greedy import first_fit_solution

    def dies_after_a_first_schedule(inst, settings, on_progress=None, on_schedule=None, start=None):
        on_schedule(first_fit_solution(inst))
        raise RuntimeError("the search died")

    monkeypatch.setattr(cli, "solve", dies_after_a_first_schedule)
    week, out = _write(tmp_path, tiny_data()), tmp_path / "sol.json"
    r = CliRunner().invoke(main, ["solve", str(week), "-o", str(out), "--quiet"])
    assert isinstance(r.exception, RuntimeError)
    r = CliRunner().invoke(main, ["validate", str(week), str(out)])
    assert r.exit_code == 0, r.output


LAST_WEEK = [
    ({"started_from": "last_week"}, "began from last week's schedule: 9 of its 12 sessions kept"),
    ({"last_week_unused": "nothing kept"}, "not the start: none of its sessions fit this week"),
    ({"last_week_unused": "outside the model"}, "not the start: this week's model cannot take"),
    (
        {"last_week_unused": "costs more than the first fit"},
        "not the start: 9 of its 12 sessions kept, it cost more than the first fit",
    ),
    (
        {"last_week_unused": "breaks a rule", "last_week_breaks": ["rule 6: pin 0 is not kept"]},
        "still breaks 1 rule(s), first rule 6: pin 0 is not kept",
    ),
]


@pytest.mark.parametrize(
    ("stats", "says"), LAST_WEEK, ids=[s[0].get("last_week_unused", "used") for s in LAST_WEEK]
)
def test_the_summary_says_how_last_weeks_schedule_was_used(stats, says):
    given = Stats(last_week_kept=9, last_week_sessions=12, **stats)
    assert says in "\n".join(_last_week(given))
    assert _last_week(Stats()) == []  # no previous week, nothing said


def test_next_week_command_is_deterministic_and_loads(tmp_path):
    from iopsched.generate import generate
    from iopsched.greedy import first_fit_solution
    from iopsched.io import load_instance

    week = generate(30, 4)
    given = first_fit_solution(week)
    paths = [_write(tmp_path, dump_model(week)), _write(tmp_path, dump_model(given), "sol.json")]
    outs = []
    for k in range(2):
        out = tmp_path / f"n{k}.json"
        args = ["next-week", *map(str, paths), "--turnover", "4", "--pins", "4", "-o", str(out)]
        r = CliRunner().invoke(main, args)
        assert r.exit_code == 0, r.output
        outs.append(out.read_text())
    assert outs[0] == outs[1]
    nxt = load_instance(tmp_path / "n0.json")
    assert len(nxt.participants) == 30 and nxt.previous == given
    assert len({p.id for p in nxt.participants} - {p.id for p in week.participants}) == 4


@pytest.mark.parametrize(
    ("what", "says"),
    [
        ("too many", "more than the week's 30 participants"),
        ("another week's schedule", "a schedule of 'elsewhere'"),
        ("no such file", "sol.json"),
    ],
)
def test_next_week_command_rejects_bad_input(tmp_path, what, says):
    from iopsched.generate import generate
    from iopsched.greedy import first_fit_solution

    week = generate(30, 4)
    given = first_fit_solution(week)
    if what == "another week's schedule":
        given = given.model_copy(update={"instance": "elsewhere"})
    paths = [_write(tmp_path, dump_model(week)), _write(tmp_path, dump_model(given), "sol.json")]
    if what == "no such file":
        paths[1].unlink()
    turnover = "31" if what == "too many" else "3"
    args = ["next-week", *map(str, paths), "--turnover", turnover, "-o", str(tmp_path / "n.json")]
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 2 and says in r.output
    assert "Traceback" not in r.output and not (tmp_path / "n.json").exists()
