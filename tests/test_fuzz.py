"""Seeded random inputs: broken weeks, rosters and schedules never end in a traceback, and generated
weeks with fixed groups and pins always get a valid schedule and an explanation.

Each case is drawn from its own seed, so a failure names a case that repeats.
"""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from iopsched import load_instance, solve, validate
from iopsched.cli import main
from iopsched.explain import explain
from iopsched.generate import generate
from iopsched.roster import roster_of

ROOT = Path(__file__).resolve().parent.parent
WEEK = ROOT / "instances" / "small-clinic.json"

ODD_JSON = ["x", -1, 0, 10**9, None, [], {}, "25:00", "17:07", "mon", 1.5, True, "", [{}]]
ODD_CELLS = [
    "",
    "x",
    "-1",
    "1e9",
    "Mon 17-21",
    "Mon 21:00-17:00",
    "Funday 17:00-18:00",
    "Mon 17:07-18:00",
    "maybe",
    "T9",
    "P0001, P0001",
    "=1+1",
    "999999999999999999999",
]


def _spots(obj: Any, path: tuple = ()) -> list[tuple]:
    """Every path into a JSON document, containers included."""
    out = [path]
    if isinstance(obj, dict):
        items = list(obj.items())
    else:
        items = list(enumerate(obj)) if isinstance(obj, list) else []
    for key, value in items:
        out += _spots(value, (*path, key))
    return out


def _break(data: dict, rng: random.Random) -> None:
    """Change one place of the document: an odd value, a missing key or an unknown one."""
    *where, key = rng.choice(_spots(data)[1:])
    parent = data
    for k in where:
        parent = parent[k]
    roll = rng.random()
    if roll < 0.6 or not isinstance(parent, dict):
        parent[key] = copy.deepcopy(rng.choice(ODD_JSON))
    elif roll < 0.8:
        del parent[key]
    else:
        parent["unknown_field"] = 1


def _run(*args: str):
    result = CliRunner().invoke(main, list(args))
    crashed = result.exception is not None and not isinstance(result.exception, SystemExit)
    assert not crashed, f"{args}: {result.exception!r}"
    assert "Traceback" not in result.output
    return result


@pytest.mark.parametrize("case", range(40))
def test_a_broken_week_is_refused_with_its_field_path_or_solved(tmp_path, case):
    rng = random.Random(case)
    data = json.loads(WEEK.read_text())
    for _ in range(rng.choice([1, 1, 2])):
        _break(data, rng)
    week = tmp_path / "week.json"
    week.write_text(json.dumps(data))
    out = tmp_path / "sol.json"
    r = _run("solve", str(week), "--time-limit", "1", "--in-process", "-o", str(out), "--quiet")
    if r.exit_code == 2:  # refused: one screen naming the file and where
        assert "week.json" in r.output and len(r.output.splitlines()) <= 25
    else:  # it still made sense: the schedule written passes the validator
        assert r.exit_code == 0, r.output
        assert _run("validate", str(week), str(out)).exit_code == 0


@pytest.mark.parametrize("case", range(40))
def test_a_broken_roster_is_refused_by_sheet_row_and_column_or_read(tmp_path, case):
    rng = random.Random(case)
    frames = {k: v.astype(str) for k, v in roster_of(load_instance(WEEK)).items()}
    for _ in range(rng.choice([1, 1, 2])):
        sheet = rng.choice([k for k, v in frames.items() if len(v)])
        df = frames[sheet]
        if rng.random() < 0.85:
            df.iat[rng.randrange(len(df)), rng.randrange(df.shape[1])] = rng.choice(ODD_CELLS)
        else:
            frames[sheet] = df.drop(columns=[rng.choice(list(df.columns))])
    folder = tmp_path / "roster"
    folder.mkdir()
    for sheet, df in frames.items():
        df.to_csv(folder / f"{sheet}.csv", index=False)
    r = _run("import", str(folder), "-o", str(tmp_path / "week.json"))
    assert r.exit_code in (0, 2), r.output
    if r.exit_code == 2:
        assert "roster" in r.output and not (tmp_path / "week.json").exists()


@pytest.mark.parametrize("case", range(30))
def test_a_broken_schedule_is_refused_or_checked_and_exported(tmp_path, case):
    rng = random.Random(case)
    data = json.loads((ROOT / "solutions" / "small-clinic.json").read_text())
    for _ in range(rng.choice([1, 1, 2])):
        _break(data, rng)
    sol = tmp_path / "sol.json"
    sol.write_text(json.dumps(data))
    r = _run("validate", str(WEEK), str(sol))
    assert r.exit_code in (0, 1, 2), r.output
    r = _run("export", str(sol), "--instance", str(WEEK), "--to", str(tmp_path / "out"))
    assert r.exit_code in (0, 2), r.output


@pytest.mark.parametrize("case", range(12))
def test_generated_weeks_with_fixed_groups_and_pins_solve_validate_and_explain(case):
    rng = random.Random(case)
    inst = generate(
        rng.choice([4, 8, 12, 20]),
        case,
        profile=rng.choice(["small", "evening", "understaffed"]),
        pins=rng.choice([0, 2, 4]),
        fixed_groups=rng.choice([1, 2, 4]),
        sites=rng.choice([1, 2]),
    )
    sol = solve(inst, time_limit=2, workers=2, seed=case)
    assert sol.status.has_schedule, sol.stats.infeasible_because
    report = validate(inst, sol)
    assert report.ok, report.render()
    assert report.objective == sol.objective
    assert len(explain(inst, sol)) == len(sol.unmet)
