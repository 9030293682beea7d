"""Days, clock times and windows: the arithmetic of the weekly time grid.

Times are handled as *minutes of the week*: ``day_index * 1440 + minutes since
midnight``, Monday being day 0.  Every other module works in these units (the
CP-SAT model divides them by ``slot_minutes``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Annotated, Literal, Protocol

from pydantic import AfterValidator

DAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
MINUTES_PER_DAY = 1440
MINUTES_PER_WEEK = 7 * MINUTES_PER_DAY

_HHMM = re.compile(r"^([01]\d|2[0-4]):([0-5]\d)$")


class WindowLike(Protocol):
    """Anything with a day and a start and end clock time (a window)."""

    day: str
    start: str
    end: str


def parse_hhmm(text: str) -> int:
    """Minutes since midnight of a ``"HH:MM"`` clock time (``"24:00"`` allowed)."""
    match = _HHMM.match(text)
    if match is None:
        raise ValueError(f"{text!r} is not a clock time HH:MM")
    hours, minutes = int(match.group(1)), int(match.group(2))
    if hours == 24 and minutes != 0:
        raise ValueError(f"{text!r} is after 24:00")
    return hours * 60 + minutes


def _clock(text: str) -> str:
    parse_hhmm(text)
    return text


Clock = Annotated[str, AfterValidator(_clock)]  # "HH:MM", checked on load


def end_after_start(start: str | None, end: str) -> str:
    """``end``, checked to be after ``start`` (a start that did not load is not compared)."""
    if start is not None and parse_hhmm(end) <= parse_hhmm(start):
        raise ValueError(f"end {end} is not after start {start}")
    return end


def format_hhmm(minutes_of_day: int) -> str:
    """``"HH:MM"`` for minutes since midnight."""
    return f"{minutes_of_day // 60:02d}:{minutes_of_day % 60:02d}"


def day_index(day: str) -> int:
    """0 for Monday ... 6 for Sunday."""
    return DAYS.index(day)


def week_minute(day: str, hhmm: str) -> int:
    """Minute of the week of a day and clock time."""
    return day_index(day) * MINUTES_PER_DAY + parse_hhmm(hhmm)


def split_week_minute(minute: int) -> tuple[str, str]:
    """(day, "HH:MM") of a minute of the week."""
    return DAYS[minute // MINUTES_PER_DAY], format_hhmm(minute % MINUTES_PER_DAY)


def window_span(window: WindowLike) -> tuple[int, int]:
    """[start, end) of a window in minutes of the week."""
    base = day_index(window.day) * MINUTES_PER_DAY
    return base + parse_hhmm(window.start), base + parse_hhmm(window.end)


def merge_spans(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Union of [start, end) spans as sorted, disjoint, non-touching spans."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def windows_union(windows: Iterable[WindowLike]) -> list[tuple[int, int]]:
    """The union of windows as merged spans in minutes of the week."""
    return merge_spans(window_span(w) for w in windows)


def intersect_spans(a: list[tuple[int, int]], b: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Intersection of two merged span lists."""
    out: list[tuple[int, int]] = []
    i = j = 0
    while i < len(a) and j < len(b):
        start = max(a[i][0], b[j][0])
        end = min(a[i][1], b[j][1])
        if start < end:
            out.append((start, end))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out


def spans_cover(spans: Iterable[tuple[int, int]], start: int, end: int) -> bool:
    """True if [start, end) lies inside one of the merged spans."""
    return any(s <= start and end <= e for s, e in spans)


def minutes_outside(spans: Iterable[tuple[int, int]], start: int, end: int) -> int:
    """How many minutes of [start, end) fall outside the merged spans."""
    inside = sum(max(0, min(end, e) - max(start, s)) for s, e in spans)
    return (end - start) - inside


def free_minutes_by_day(spans: list[tuple[int, int]]) -> list[int]:
    """Minutes covered by the merged spans on each day of the week, Monday first."""
    free = [0] * len(DAYS)
    for start, end in spans:
        for d in range(start // MINUTES_PER_DAY, (end - 1) // MINUTES_PER_DAY + 1):
            lo, hi = d * MINUTES_PER_DAY, (d + 1) * MINUTES_PER_DAY
            free[d] += min(end, hi) - max(start, lo)
    return free


def same_day(start: int, end: int) -> bool:
    """True if [start, end) lies within one calendar day."""
    return start // MINUTES_PER_DAY == (end - 1) // MINUTES_PER_DAY
