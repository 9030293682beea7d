"""Regenerating the shipped examples: ``--only`` and ``--keep-better``."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from iopsched import examples, solve, validate
from iopsched.generate import generate
from iopsched.greedy import first_fit_solution
from iopsched.instance import Instance
from iopsched.io import dump_model, load_instance, load_solution, write_json_atomic
from iopsched.solution import Solution

NAME = "small-clinic"


@pytest.fixture(scope="module")
def week() -> Instance:
    return generate(10, 3, profile="small", name=NAME)


@pytest.fixture(scope="module")
def solved(week) -> tuple[Solution, Solution]:
    """A good schedule of the week and the first fit, which costs more."""
    good, first = solve(week, time_limit=5, workers=2), first_fit_solution(week)
    assert validate(week, good).ok and validate(week, first).ok
    assert good.objective < first.objective
    return good, first


def _root(tmp_path: Path, week: Instance, shipped: Solution | str | None) -> Path:
    (tmp_path / "instances").mkdir()
    (tmp_path / "solutions").mkdir()
    write_json_atomic(tmp_path / "instances" / f"{NAME}.json", dump_model(week))
    path = tmp_path / "solutions" / f"{NAME}.json"
    if isinstance(shipped, str):
        path.write_text(shipped, encoding="utf-8")
    elif shipped is not None:
        write_json_atomic(path, dump_model(shipped))
    return tmp_path


def _regenerate(root: Path, monkeypatch, new: Solution, keep_better: bool) -> Solution:
    """Regenerate the one example with ``new`` as what the solve returns; the file after."""
    monkeypatch.setattr(examples, "solve", lambda inst, time_limit, workers, start: new)
    examples.write_solutions(root, 1.0, 1, [NAME], keep_better=keep_better)
    return load_solution(root / "solutions" / f"{NAME}.json")


def test_keep_better_keeps_a_cheaper_shipped_schedule(tmp_path, monkeypatch, week, solved):
    good, first = solved
    root = _root(tmp_path, week, good)
    assert _regenerate(root, monkeypatch, first, keep_better=True).objective == good.objective


def test_without_keep_better_the_new_schedule_is_written(tmp_path, monkeypatch, week, solved):
    good, first = solved
    root = _root(tmp_path, week, good)
    assert _regenerate(root, monkeypatch, first, keep_better=False).objective == first.objective


@pytest.mark.parametrize("shipped", ["first", "missing", "not json", "another week"])
def test_keep_better_replaces_a_costlier_missing_or_broken_one(
    tmp_path, monkeypatch, week, solved, shipped
):
    good, first = solved
    other = first.model_copy(update={"instance": "another-week"})  # fails validation
    old = {"first": first, "missing": None, "not json": "{", "another week": other}[shipped]
    root = _root(tmp_path, week, old)
    assert _regenerate(root, monkeypatch, good, keep_better=True).objective == good.objective


def test_the_command_passes_its_choices_on(tmp_path, monkeypatch):
    seen = []
    monkeypatch.setattr(examples, "write_solutions", lambda *args: seen.append(args))
    root = ["--root", str(tmp_path), "--solutions-only", "--time-limit", "9"]
    examples.main([*root, "--only", "pinned-week", "--keep-better"])
    examples.main(root)
    examples.main([*root, "--continue"])
    assert seen == [
        (tmp_path, 9.0, 2, ["pinned-week"], True, False),
        (tmp_path, 9.0, 2, None, False, False),
        (tmp_path, 9.0, 2, None, False, True),
    ]
    with pytest.raises(SystemExit):
        examples.main([*root, "--only", "no-such-week"])


ROOT = Path(__file__).resolve().parents[1]
SHIPPED = sorted(p.stem for p in (ROOT / "instances").glob("*.json"))


@pytest.mark.parametrize("name", SHIPPED)
def test_every_shipped_week_has_a_valid_schedule_and_regenerates_as_shipped(name, tmp_path):
    week = load_instance(ROOT / "instances" / f"{name}.json")
    report = validate(week, load_solution(ROOT / "solutions" / f"{name}.json"))
    assert report.ok, report.render()
    if name in examples.FOLLOW_ONS:  # made from the week it follows and its schedule
        args = examples.FOLLOW_ONS[name]
        for folder in ("instances", "solutions"):
            (tmp_path / folder).mkdir()
            shutil.copy(ROOT / folder / f"{args['after']}.json", tmp_path / folder)
        examples.write_follow_on(tmp_path, name, **args)
        again = load_instance(tmp_path / "instances" / f"{name}.json")
    else:
        again = generate(name=name, **examples.EXAMPLES[name])
    assert dump_model(again) == dump_model(week)


def test_a_follow_on_week_is_not_written_without_a_valid_schedule_to_follow(tmp_path, capsys):
    name, args = next(iter(examples.FOLLOW_ONS.items()))
    (tmp_path / "instances").mkdir()
    shutil.copy(ROOT / "instances" / f"{args['after']}.json", tmp_path / "instances")
    examples.write_follow_on(tmp_path, name, **args)
    assert not (tmp_path / "instances" / f"{name}.json").exists()
    assert "no valid shipped schedule" in capsys.readouterr().out
