"""Rosters: spreadsheets in, every problem by sheet, row and column; round trips."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import make, tiny_data

from iopsched.cli import main
from iopsched.generate import generate
from iopsched.io import InputError
from iopsched.roster import read_roster, roster_bytes, roster_of


def _write_csv(frames: dict[str, pd.DataFrame], folder):
    folder.mkdir()
    for name, frame in frames.items():
        frame.to_csv(folder / f"{name}.csv", index=False)
    return folder


def _write_xlsx(frames: dict[str, pd.DataFrame], path):
    with pd.ExcelWriter(path, engine="openpyxl") as book:
        for name, frame in frames.items():
            frame.to_excel(book, sheet_name=name, index=False)
    return path


def _rich_week():
    data = tiny_data()
    data["week_of"] = "2026-11-30"
    data["weights"] = {"attendance_day": 30}
    data["rooms"][0]["site"] = "north"
    data["rooms"][1] |= {
        "site": "north",
        "availability": [{"day": "mon", "start": "17:00", "end": "19:00"}],
    }
    data["therapists"][0] |= {"sites": ["north"], "max_hours_per_day": 4, "name": "T one"}
    data["groups"][0] |= {
        "fixed_times": [{"day": "mon", "start": "17:00"}, {"day": "wed", "start": "17:00"}],
        "optional": False,
        "tags_excluded": ["adolescent"],
        "facilitators": ["T1"],
    }
    data["participants"][0] |= {
        "tags": ["adult", "su"],
        "primary_therapist": "T1",
        "family_availability": [{"day": "wed", "start": "18:00", "end": "21:00"}],
        "family_size": 3,
        "max_days": 2,
        "telehealth": True,
        "avoid": ["P2"],
        "site": "north",
    }
    data["participants"][0]["plan"] |= {"level": "op", "family": {"sessions": 1, "minutes": 60}}
    data["pins"] = [{"participant": "P1", "kind": "individual", "day": "wed"}]
    return make(data)


@pytest.mark.parametrize("how", ["xlsx", "csv"])
def test_round_trip_keeps_every_field(tmp_path, how):
    for inst in (_rich_week(), generate(40, 3, pins=3, fixed_groups=2)):
        frames = roster_of(inst)
        path = tmp_path / f"{inst.name}.{how}"
        if how == "xlsx":
            path.write_bytes(roster_bytes(inst))
        else:
            _write_csv(frames, path)
        assert read_roster(path) == inst


def test_filled_template_imports(tmp_path):
    frames = roster_of(None)
    assert all(frame.empty or name == "program" for name, frame in frames.items())
    frames["program"]["value"] = [
        "my clinic",
        "2026-11-30",
        "15",
        "Mon 17:00-21:00; Wed 17:00-21:00",
    ]
    frames["therapists"] = pd.DataFrame(
        [["T1", "", "group, individual", "Mon 17:00-21:00; Wed 17:00-21:00", "20", "", ""]],
        columns=frames["therapists"].columns,
    )
    frames["groups"] = pd.DataFrame(
        [["G1", "", "group", "90", "2", "2", "8"] + [""] * 7], columns=frames["groups"].columns
    )
    people = [
        {
            "id": f"P{i}",
            "availability": "monday 17:00-21:00\nWednesday 17:00-21:00",
            "min_hours": "3",
            "max_hours": "6",
        }
        for i in (1, 2)
    ]
    frames["participants"] = pd.DataFrame(people)
    inst = read_roster(_write_xlsx(frames, tmp_path / "filled.xlsx"))
    assert inst.name == "my clinic" and inst.week_of == dt.date(2026, 11, 30)
    assert [w.day for w in inst.participants[0].availability] == ["mon", "wed"]
    assert inst.groups[0].optional is True  # empty cell: the contract's default


def _problems(tmp_path, change) -> list[str]:
    frames = roster_of(make(tiny_data()))
    change(frames)
    with pytest.raises(InputError) as info:
        read_roster(_write_xlsx(frames, tmp_path / "bad.xlsx"))
    return [f"{p.path}: {p.message}" for p in info.value.problems]


def _cell(sheet, row, column, value):
    def change(frames):
        frames[sheet] = frames[sheet].astype(object)
        frames[sheet].loc[row - 2, column] = value

    return change


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            _cell("participants", 2, "availability", "Mon 17-21"),
            "participants, row 2, column availability: 'Mon 17-21' is not like 'Mon 17:00-21:00'",
        ),
        (
            _cell("rooms", 3, "capacity", "big"),
            "rooms, row 3, column capacity: 'big' is not a number",
        ),
        (
            _cell("rooms", 2, "capacity", "2.5"),
            "rooms, row 2, column capacity: '2.5' is not a whole number",
        ),
        (
            _cell("groups", 2, "virtual", "maybe"),
            "groups, row 2, column virtual: 'maybe' is not yes or no",
        ),
        (_cell("participants", 3, "id", ""), "participants, row 3, column id: is empty"),
        (
            _cell("groups", 2, "fixed_times", "Monday at five"),
            "groups, row 2, column fixed_times: 'Monday at five' is not like 'Mon 17:00'",
        ),
        (
            lambda f: f.__setitem__("therapists", f["therapists"].assign(colour="red")),
            "therapists, row 1, column colour: unknown column",
        ),
        (
            lambda f: f.__setitem__("participants", f["participants"].drop(columns="min_hours")),
            "participants, row 1, column min_hours: column is missing",
        ),
        (
            _cell("participants", 2, "primary_therapist", "T9"),
            "participants, row 2, column primary_therapist: unknown therapist 'T9'",
        ),
        (
            _cell("participants", 3, "availability", "Wed 19:00-18:00"),
            "participants, row 3, column availability:",
        ),
        (
            _cell("groups", 2, "min_size", "9"),
            "groups, row 2, column min_size:",
        ),
        (
            lambda f: f.__setitem__("staff", pd.DataFrame({"id": ["X"]})),
            "staff: unknown sheet",
        ),
        (lambda f: f.pop("program"), "program: sheet is missing"),
        (
            _cell("program", 5, "value", "Funday 17:00-21:00"),
            "program, row 5, column value: program_hours:",
        ),
        (
            _cell("program", 5, "value", "Mon 21:00-17:00"),
            "program, row 5, column value: end 17:00",
        ),
    ],
)
def test_bad_roster_names_sheet_row_and_column(tmp_path, change, expected):
    problems = _problems(tmp_path, change)
    assert any(p.startswith(expected) for p in problems), problems


def test_every_problem_at_once(tmp_path):
    def change(frames):
        _cell("rooms", 2, "capacity", "big")(frames)
        _cell("participants", 2, "availability", "soon")(frames)

    problems = _problems(tmp_path, change)
    assert len(problems) == 2


def test_cli_import_and_template(tmp_path):
    run = CliRunner().invoke
    blank = tmp_path / "blank.xlsx"
    assert run(main, ["template", "-o", str(blank)]).exit_code == 0
    r = run(main, ["import", str(blank), "-o", str(tmp_path / "x.json")])
    assert r.exit_code == 2 and "program: setting name is missing" in r.output
    assert not (tmp_path / "x.json").exists()
    filled = tmp_path / "filled.xlsx"
    filled.write_bytes(roster_bytes(make(tiny_data())))
    r = run(main, ["import", str(filled), "-o", str(tmp_path / "x.json")])
    assert r.exit_code == 0 and (tmp_path / "x.json").is_file()
    r = run(main, ["import", str(tmp_path / "none.xlsx"), "-o", str(tmp_path / "y.json")])
    assert r.exit_code == 2 and "no such file" in r.output


def test_shipped_rosters_import():
    from pathlib import Path

    from iopsched.io import load_instance

    here = Path(__file__).parent.parent / "instances"
    assert read_roster(here / "small-clinic.xlsx") == load_instance(here / "small-clinic.json")
    with pytest.raises(InputError):  # the template is blank: name and program hours to fill in
        read_roster(here / "roster-template.xlsx")
