"""Bad input: every class gives a one-screen error naming file, field path and problem."""

from __future__ import annotations

import json
import logging

import pytest
from conftest import tiny_data

from iopsched import InputError, load_instance, load_solution
from iopsched.io import write_json_atomic


def _p(data, *path):
    for key in path:
        data = data[key]
    return data


def _set(data, path, value):
    _p(data, *path[:-1])[path[-1]] = value


CASES = [
    # (description, mutation, expected field path, words in the message)
    ("unknown field", lambda d: d.update(colour="red"), "colour", "unknown field"),
    (
        "wrong format",
        lambda d: d.update(format="iopsched/instance@2"),
        "format",
        "iopsched/instance@1",
    ),
    ("missing name", lambda d: d.pop("name"), "name", "required"),
    (
        "bad clock",
        lambda d: _set(d, ["participants", 1, "availability", 0, "end"], "25:00"),
        "participants[1].availability[0].end",
        "clock time",
    ),
    (
        "end before start",
        lambda d: _set(d, ["participants", 1, "availability", 0, "end"], "16:00"),
        "participants[1].availability[0].end",
        "not after start",
    ),
    (
        "bad day",
        lambda d: _set(d, ["program_hours", 0, "day"], "monday"),
        "program_hours[0].day",
        "mon",
    ),
    (
        "off-grid window",
        lambda d: _set(d, ["therapists", 0, "availability", 1, "start"], "17:10"),
        "therapists[0].availability[1].start",
        "grid",
    ),
    (
        "off-grid duration",
        lambda d: _set(d, ["groups", 0, "duration_minutes"], 50),
        "groups[0].duration_minutes",
        "multiple of slot_minutes",
    ),
    (
        "off-grid individual",
        lambda d: _set(d, ["participants", 0, "plan", "individual", "minutes"], 50),
        "participants[0].plan.individual.minutes",
        "multiple",
    ),
    (
        "duplicate id",
        lambda d: _set(d, ["participants", 1, "id"], "P1"),
        "participants[0].id",
        "duplicate",
    ),
    (
        "unknown facilitator",
        lambda d: _set(d, ["groups", 0, "facilitators"], ["T9"]),
        "groups[0].facilitators[0]",
        "unknown therapist",
    ),
    (
        "unknown primary",
        lambda d: _set(d, ["participants", 0, "primary_therapist"], "T9"),
        "participants[0].primary_therapist",
        "unknown therapist",
    ),
    (
        "unknown avoid",
        lambda d: _set(d, ["participants", 0, "avoid"], ["P9"]),
        "participants[0].avoid[0]",
        "unknown participant",
    ),
    (
        "unknown pin group",
        lambda d: d.update(pins=[{"group": "G9"}]),
        "pins[0].group",
        "unknown group",
    ),
    (
        "unknown pin participant",
        lambda d: d.update(pins=[{"participant": "P9"}]),
        "pins[0].participant",
        "unknown participant",
    ),
    ("empty pin", lambda d: d.update(pins=[{}]), "pins[0]", "at least one"),
    (
        "min above max size",
        lambda d: _set(d, ["groups", 0, "min_size"], 9),
        "groups[0].min_size",
        "above",
    ),
    (
        "min above max hours",
        lambda d: _set(d, ["participants", 1, "plan", "min_hours"], 7),
        "participants[1].plan.min_hours",
        "above max_hours",
    ),
    (
        "fixed times count",
        lambda d: _set(d, ["groups", 0, "fixed_times"], [{"day": "mon", "start": "17:00"}]),
        "groups[0].fixed_times",
        "meetings_per_week",
    ),
    (
        "fixed times same day",
        lambda d: _set(
            d,
            ["groups", 0, "fixed_times"],
            [{"day": "mon", "start": "17:00"}, {"day": "mon", "start": "19:00"}],
        ),
        "groups[0].fixed_times",
        "twice",
    ),
    (
        "facilitator lacks modality",
        lambda d: (
            _set(d, ["therapists", 0, "modalities"], ["individual"]),
            _set(d, ["groups", 0, "facilitators"], ["T1"]),
        ),
        "groups[0].facilitators[0]",
        "does not deliver",
    ),
    (
        "negative hours",
        lambda d: _set(d, ["therapists", 0, "max_hours_per_week"], -1),
        "therapists[0].max_hours_per_week",
        "greater than or equal",
    ),
    (
        "unknown weight",
        lambda d: d.update(weights={"happiness": 3}),
        "weights.happiness",
        "unknown weight",
    ),
    ("bad slot", lambda d: d.update(slot_minutes=7), "slot_minutes", "does not divide"),
    (
        "wrong type",
        lambda d: _set(d, ["rooms", 0, "capacity"], "big"),
        "rooms[0].capacity",
        'should be a whole number; got "big"',
    ),
    (
        "fraction for a count",
        lambda d: _set(d, ["groups", 0, "min_size"], 2.5),
        "groups[0].min_size",
        "should be a whole number; got 2.5",
    ),
    (
        "text for an object",
        lambda d: _set(d, ["participants", 0, "plan"], "nine hours"),
        "participants[0].plan",
        'should be an object ({...}); got "nine hours"',
    ),
    (
        "object for a list",
        lambda d: _set(d, ["therapists", 0, "availability"], {"day": "mon"}),
        "therapists[0].availability",
        "should be a list ([...]); got an object",
    ),
    (
        "text for a list",
        lambda d: _set(d, ["therapists", 0, "modalities"], "group"),
        "therapists[0].modalities",
        'should be a list ([...]); got "group"',
    ),
    (
        "number for text",
        lambda d: _set(d, ["rooms", 0, "id"], 7),
        "rooms[0].id",
        "should be text; got 7",
    ),
    (
        "unknown day",
        lambda d: _set(d, ["participants", 0, "availability", 0, "day"], "monday"),
        "participants[0].availability[0].day",
        'got "monday"',
    ),
    (
        "not a date",
        lambda d: d.update(week_of="next monday"),
        "week_of",
        'should be a date (YYYY-MM-DD); got "next monday"',
    ),
    (
        "long value cut short",
        lambda d: _set(d, ["rooms", 0, "capacity"], "x" * 80),
        "rooms[0].capacity",
        'got "' + "x" * 36 + "...",
    ),
]


@pytest.mark.parametrize(("what", "mutate", "path", "words"), CASES, ids=[c[0] for c in CASES])
def test_bad_instance_is_reported_by_path(tmp_path, what, mutate, path, words):
    data = tiny_data()
    mutate(data)
    f = tmp_path / "week.json"
    f.write_text(json.dumps(data))
    with pytest.raises(InputError) as err:
        load_instance(f)
    text = err.value.render()
    assert text.startswith(str(f))
    line = next((ln for ln in text.splitlines() if ln.strip().startswith(path + ":")), None)
    assert line is not None, text
    assert words.lower() in line.lower(), text


def test_every_problem_reported_at_once(tmp_path):
    data = tiny_data()
    data["groups"][0]["duration_minutes"] = 50
    data["participants"][0]["avoid"] = ["P9"]
    data["participants"][1]["id"] = "P1"
    f = tmp_path / "week.json"
    f.write_text(json.dumps(data))
    with pytest.raises(InputError) as err:
        load_instance(f)
    assert len(err.value.problems) == 4  # duration, avoid, and both duplicate ids


def test_not_json(tmp_path):
    f = tmp_path / "week.json"
    f.write_text("{ nope")
    with pytest.raises(InputError) as err:
        load_instance(f)
    assert "line 1 column 3" in err.value.render()


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        load_instance(tmp_path / "absent.json")


def test_bad_solution(tmp_path):
    f = tmp_path / "sol.json"
    f.write_text(json.dumps({"instance": "x", "status": "great"}))
    with pytest.raises(InputError) as err:
        load_solution(f)
    assert "status" in err.value.render()


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"start": "mon"}, ("sessions[0].start", "'mon' is not a clock time HH:MM")),
        ({"end": "P0001"}, ("sessions[0].end", "'P0001' is not a clock time HH:MM")),
        ({"start": "19:00", "end": "18:00"}, ("sessions[0].end", "end 18:00 is not after")),
    ],
)
def test_a_session_time_that_is_no_clock_time_or_ends_before_it_starts(tmp_path, change, expected):
    """Explain and export read a session's times: such a file is refused on load (it made
    them crash), with the session's field path."""
    session = {
        "id": "s1",
        "kind": "individual",
        "day": "mon",
        "start": "17:00",
        "end": "18:00",
        "therapist": "T1",
        "participants": ["P1"],
    }
    f = tmp_path / "sol.json"
    sol = {"instance": "x", "status": "feasible", "sessions": [session | change]}
    f.write_text(json.dumps(sol))
    with pytest.raises(InputError) as err:
        load_solution(f)
    where, what = expected
    (line,) = [line for line in err.value.render().splitlines() if where in line]
    assert what in line


def test_level_contradiction_warns_not_fails(tmp_path, caplog):
    data = tiny_data()
    data["participants"][1]["plan"]["level"] = "iop-adult"  # 3 h is below the 9 h floor
    f = tmp_path / "week.json"
    f.write_text(json.dumps(data))
    with caplog.at_level(logging.WARNING, logger="iopsched"):
        load_instance(f)
    assert "participants[1] (P2)" in caplog.text and "9 to 19 h" in caplog.text


def test_atomic_write_leaves_no_partial_file(tmp_path):
    target = tmp_path / "out.json"
    write_json_atomic(target, {"a": 1})
    with pytest.raises(TypeError):
        write_json_atomic(target, {"a": object()})
    assert json.loads(target.read_text()) == {"a": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


def test_schema_matches_models():
    from iopsched import Instance, Solution

    schema = Instance.model_json_schema()
    assert set(schema["properties"]) == {
        "format",
        "name",
        "week_of",
        "slot_minutes",
        "program_hours",
        "rooms",
        "therapists",
        "groups",
        "participants",
        "previous",
        "pins",
        "weights",
    }
    assert set(Solution.model_json_schema()["properties"]) == {
        "format",
        "instance",
        "status",
        "objective",
        "bound",
        "solve_seconds",
        "sessions",
        "unmet",
        "stats",
    }
