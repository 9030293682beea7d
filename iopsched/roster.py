"""Rosters: the week as a spreadsheet a coordinator fills in, read into an instance.

A roster is one ``.xlsx`` workbook, or a folder of ``.csv`` files named after
its sheets.  One row per room, therapist, group, participant, pin; plain
words in the cells:

* windows: ``Mon 17:00-21:00; Sat 09:00-13:00`` (days as ``Mon`` or
  ``Monday``; ``;`` or new lines between windows);
* fixed meeting times: ``Mon 17:00; Wed 17:00``;
* lists (tags, modalities, avoid, sites, facilitators): ``a, b, c``;
* yes/no cells: ``yes``/``no`` (also ``true``/``false``, ``1``/``0``);
  empty means the contract's default.

Every problem is reported at once by sheet, row (as the spreadsheet numbers
it, the header being row 1) and column.  :func:`roster_of` writes an instance
back as the same sheets, so a roster round-trips.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import ValidationError

from iopsched.instance import Instance, Problem
from iopsched.io import InputError, problems_of
from iopsched.timegrid import DAYS

DAY_NAMES = {d: d for d in DAYS} | {
    "monday": "mon",
    "tuesday": "tue",
    "wednesday": "wed",
    "thursday": "thu",
    "friday": "fri",
    "saturday": "sat",
    "sunday": "sun",
}
TRUE, FALSE = {"yes", "y", "true", "1", "x"}, {"no", "n", "false", "0"}


# ------------------------------------------------------------------ cell kinds
def _entries(text: str, tail: str, example: str):
    """(day, *times) of each ``;``/new-line separated entry ``Day <tail>``."""
    for part in re.split(r"[;\n]+", text):
        part = part.strip()
        if not part:
            continue
        m = re.fullmatch(r"([A-Za-z]+)\s+" + tail, part)
        if m is None or m.group(1).lower() not in DAY_NAMES:
            raise ValueError(f"{part!r} is not like {example!r}")
        yield DAY_NAMES[m.group(1).lower()], *(t.zfill(5) for t in m.groups()[1:])


def windows_cell(text: str) -> list[dict[str, str]]:
    pattern = r"(\d{1,2}:\d{2})\s*[-–]\s*(\d{1,2}:\d{2})"
    return [
        {"day": day, "start": start, "end": end}
        for day, start, end in _entries(text, pattern, "Mon 17:00-21:00")
    ]


def times_cell(text: str) -> list[dict[str, str]]:
    return [
        {"day": day, "start": start}
        for day, start in _entries(text, r"(\d{1,2}:\d{2})", "Mon 17:00")
    ]


def list_cell(text: str) -> list[str]:
    return [x.strip() for x in re.split(r"[,;\n]+", text) if x.strip()]


def bool_cell(text: str) -> bool:
    low = text.strip().lower()
    if low in TRUE:
        return True
    if low in FALSE:
        return False
    raise ValueError(f"{text!r} is not yes or no")


def number_cell(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise ValueError(f"{text!r} is not a number")
    return value


def int_cell(text: str) -> int:
    value = number_cell(text)
    if value != int(value):
        raise ValueError(f"{text!r} is not a whole number")
    return int(value)


def text_cell(text: str) -> str:
    return text.strip()


@dataclass(frozen=True)
class Column:
    """One column of a sheet: its cell kind and where its value goes in the contract."""

    name: str
    parse: Callable[[str], Any]
    path: tuple[str, ...]  # e.g. ("plan", "individual", "sessions")
    required: bool = False


def _cols(*spec: tuple) -> list[Column]:
    out = []
    for name, parse, *rest in spec:
        path = tuple(rest[0].split(".")) if rest and rest[0] else (name,)
        out.append(Column(name, parse, path, bool(rest[1]) if len(rest) > 1 else False))
    return out


SHEETS: dict[str, list[Column]] = {
    "rooms": _cols(
        ("id", text_cell, "", True),
        ("capacity", int_cell, "", True),
        ("availability", windows_cell),
        ("site", text_cell),
    ),
    "therapists": _cols(
        ("id", text_cell, "", True),
        ("name", text_cell),
        ("modalities", list_cell, "", True),
        ("availability", windows_cell, "", True),
        ("max_hours_per_week", number_cell, "", True),
        ("max_hours_per_day", number_cell),
        ("sites", list_cell),
    ),
    "groups": _cols(
        ("id", text_cell, "", True),
        ("name", text_cell),
        ("kind", text_cell, "", True),
        ("duration_minutes", int_cell, "", True),
        ("meetings_per_week", int_cell, "", True),
        ("min_size", int_cell, "", True),
        ("max_size", int_cell, "", True),
        ("tags_required", list_cell),
        ("tags_excluded", list_cell),
        ("facilitators", list_cell),
        ("fixed_times", times_cell),
        ("virtual", bool_cell),
        ("optional", bool_cell),
        ("site", text_cell),
    ),
    "participants": _cols(
        ("id", text_cell, "", True),
        ("tags", list_cell),
        ("availability", windows_cell, "", True),
        ("level", text_cell, "plan.level"),
        ("min_hours", number_cell, "plan.min_hours", True),
        ("max_hours", number_cell, "plan.max_hours", True),
        ("group_hours", number_cell, "plan.group_hours"),
        ("education_hours", number_cell, "plan.education_hours"),
        ("individual_sessions", int_cell, "plan.individual.sessions"),
        ("individual_minutes", int_cell, "plan.individual.minutes"),
        ("family_sessions", int_cell, "plan.family.sessions"),
        ("family_minutes", int_cell, "plan.family.minutes"),
        ("primary_therapist", text_cell),
        ("family_availability", windows_cell),
        ("family_size", int_cell),
        ("max_days", int_cell),
        ("max_hours_per_day", number_cell),
        ("min_hours_per_day", number_cell),
        ("avoid", list_cell),
        ("telehealth", bool_cell),
        ("site", text_cell),
        ("preferred", windows_cell),
    ),
    "pins": _cols(
        ("participant", text_cell),
        ("group", text_cell),
        ("therapist", text_cell),
        ("kind", text_cell),
        ("day", text_cell),
        ("start", text_cell),
    ),
}
SETTINGS = _cols(
    ("name", text_cell, "", True),
    ("week_of", text_cell),
    ("slot_minutes", int_cell),
    ("program_hours", windows_cell, "", True),
)
SETTINGS_SHEET, WEIGHTS_SHEET = "program", "weights"
SHEET_ORDER = [SETTINGS_SHEET, *SHEETS, WEIGHTS_SHEET]


# ---------------------------------------------------------------------- read
@dataclass
class _Reader:
    source: str
    problems: list[Problem] = field(default_factory=list)
    # contract path prefix (e.g. "participants[3]") -> (sheet, row, {field path -> column})
    places: dict[str, tuple[str, int, dict[tuple[str, ...], str]]] = field(default_factory=dict)

    def bad(self, sheet: str, row: int | None, column: str | None, message: str) -> None:
        where = sheet + (f", row {row}" if row is not None else "")
        where += f", column {column}" if column else ""
        self.problems.append(Problem(path=where, message=message))

    def cells(self, sheet: str, frame: pd.DataFrame, columns: list[Column]) -> list[dict]:
        known = {c.name for c in columns}
        for name in frame.columns:
            if name not in known:
                self.bad(sheet, 1, str(name), f"unknown column; use {', '.join(sorted(known))}")
        for c in columns:
            if c.required and c.name not in frame.columns:
                self.bad(sheet, 1, c.name, "column is missing")
        out = []
        for i, record in enumerate(frame.to_dict("records")):
            row = i + 2  # the header is row 1
            if all(not str(v).strip() for v in record.values()):
                continue
            item: dict[str, Any] = {}
            for c in columns:
                text = str(record.get(c.name, "")).strip()
                if not text:
                    if c.required:
                        self.bad(sheet, row, c.name, "is empty")
                    continue
                try:
                    value = c.parse(text)
                except ValueError as exc:
                    self.bad(sheet, row, c.name, str(exc))
                    continue
                target = item
                for key in c.path[:-1]:
                    target = target.setdefault(key, {})
                target[c.path[-1]] = value
            out.append(item)
            path = f"{sheet}[{len(out) - 1}]"
            self.places[path] = (sheet, row, {c.path: c.name for c in columns})
        return out

    def settings(self, frame: pd.DataFrame) -> dict[str, Any]:
        if not {"setting", "value"} <= set(frame.columns):
            self.bad(SETTINGS_SHEET, 1, None, "needs the columns setting and value")
            return {}
        known = {c.name: c for c in SETTINGS}
        out: dict[str, Any] = {}
        for i, record in enumerate(frame.to_dict("records")):
            row, name = i + 2, str(record["setting"]).strip()
            text = str(record["value"]).strip()
            if not name:
                continue
            column = known.get(name)
            if column is None:
                self.bad(
                    SETTINGS_SHEET, row, "setting", f"unknown setting {name!r}; use {sorted(known)}"
                )
                continue
            self.places[name] = (SETTINGS_SHEET, row, {(name,): "value"})
            if not text:
                continue
            try:
                out[name] = column.parse(text)
            except ValueError as exc:
                self.bad(SETTINGS_SHEET, row, "value", f"{name}: {exc}")
        for c in SETTINGS:
            if (
                c.required
                and c.name not in out
                and not any(
                    p.path.startswith(SETTINGS_SHEET) and c.name in p.message for p in self.problems
                )
            ):
                self.bad(SETTINGS_SHEET, None, None, f"setting {c.name} is missing or empty")
        return out

    def weights(self, frame: pd.DataFrame) -> dict[str, int]:
        out = {}
        for i, r in enumerate(frame.to_dict("records")):
            name, text = str(r.get("name", "")).strip(), str(r.get("value", "")).strip()
            if not name:
                continue
            try:
                out[name] = int_cell(text)
            except ValueError as exc:
                self.bad(WEIGHTS_SHEET, i + 2, "value", str(exc))
        return out

    def place(self, problem: Problem) -> Problem:
        """A contract field path turned into sheet, row and column."""
        m = re.match(r"(\w+\[\d+\])\.?(.*)", problem.path)
        key, rest = (
            (m.group(1), m.group(2)) if m else (problem.path.split(".")[0].split("[")[0], "")
        )
        if key not in self.places:
            base = problem.path.split("[")[0].split(".")[0]
            if base not in self.places:  # a setting such as program_hours[0].end
                return problem
            sheet, row, _ = self.places[base]
            return Problem(path=f"{sheet}, row {row}, column value", message=problem.message)
        sheet, row, columns = self.places[key]
        parts = tuple(p for p in re.sub(r"\[\d+\]", "", rest).split(".") if p)
        column = None
        for n in range(len(parts), 0, -1):
            if parts[:n] in columns:
                column = columns[parts[:n]]
                break
        where = f"{sheet}, row {row}" + (f", column {column}" if column else "")
        detail = f" ({rest})" if rest and column is None else ""
        return Problem(path=where, message=problem.message + detail)


def _frames(path: Path) -> dict[str, pd.DataFrame]:
    """The sheets of a workbook, or the CSV files of a folder, as text frames."""
    read = {"dtype": str, "keep_default_na": False}
    if path.is_dir():
        return {f.stem: pd.read_csv(f, **read) for f in sorted(path.glob("*.csv"))}
    return pd.read_excel(path, sheet_name=None, engine="openpyxl", **read)


def read_roster(path: str | Path) -> Instance:
    """The instance a roster describes, or :class:`InputError` with every problem in it."""
    path = Path(path)
    source = str(path)
    if not path.exists():
        raise InputError(source, [Problem(path="(file)", message="no such file or folder")])
    try:
        frames = _frames(path)
    except Exception as exc:  # any unreadable file is reported, not raised
        raise InputError(source, [Problem(path="(file)", message=f"cannot read: {exc}")]) from None
    frames = {name.strip().lower(): frame for name, frame in frames.items()}
    reader = _Reader(source)
    for name in frames:
        if name not in SHEET_ORDER:
            reader.bad(name, None, None, f"unknown sheet; use {', '.join(SHEET_ORDER)}")
    if SETTINGS_SHEET not in frames:
        reader.bad(SETTINGS_SHEET, None, None, "sheet is missing (name, program_hours)")
    data: dict[str, Any] = {}
    if SETTINGS_SHEET in frames:
        data = reader.settings(frames[SETTINGS_SHEET])
    for sheet, columns in SHEETS.items():
        if sheet in frames:
            data[sheet] = reader.cells(sheet, frames[sheet], columns)
    if WEIGHTS_SHEET in frames:
        data["weights"] = reader.weights(frames[WEIGHTS_SHEET])
    if reader.problems:
        raise InputError(source, reader.problems)
    try:
        return Instance.model_validate(data)
    except ValidationError as exc:
        raise InputError(source, [reader.place(p) for p in problems_of(exc)]) from None


# --------------------------------------------------------------------- write
def _text(value: Any, column: Column) -> str:
    if value is None:
        return ""
    if column.parse is windows_cell:
        return "; ".join(f"{w['day'].capitalize()} {w['start']}-{w['end']}" for w in value)
    if column.parse is times_cell:
        return "; ".join(f"{t['day'].capitalize()} {t['start']}" for t in value)
    if column.parse is list_cell:
        return ", ".join(value)
    if column.parse is bool_cell:
        return "yes" if value else "no"
    if isinstance(value, float) and value == int(value):
        return str(int(value))
    return str(value)


def roster_of(instance: Instance | None) -> dict[str, pd.DataFrame]:
    """The sheets of a roster: blank (a template) or filled from an instance."""
    data = instance.model_dump(mode="json", exclude_none=True) if instance else {}
    sheets: dict[str, pd.DataFrame] = {}
    settings = [
        {"setting": c.name, "value": _text(data.get(c.name), c) if data else ""} for c in SETTINGS
    ]
    sheets[SETTINGS_SHEET] = pd.DataFrame(settings)
    for sheet, columns in SHEETS.items():
        rows = []
        for item in data.get(sheet, []):
            row = {}
            for c in columns:
                value: Any = item
                for key in c.path:
                    value = value.get(key) if isinstance(value, dict) else None
                row[c.name] = _text(value, c)
            rows.append(row)
        sheets[sheet] = pd.DataFrame(rows, columns=[c.name for c in columns])
    weights = [{"name": k, "value": v} for k, v in (data.get("weights") or {}).items()]
    sheets[WEIGHTS_SHEET] = pd.DataFrame(weights, columns=["name", "value"])
    return sheets


def roster_bytes(instance: Instance | None) -> bytes:
    """A roster workbook (``.xlsx``) as bytes."""
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as book:
        for sheet, frame in roster_of(instance).items():
            frame.to_excel(book, sheet_name=sheet, index=False)
    return buffer.getvalue()
