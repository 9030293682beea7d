"""Levels of care and the weekly hours they usually mean (see DOMAIN.md)."""

from __future__ import annotations

# level -> (lowest usual weekly hours, highest usual weekly hours or None)
LEVEL_HOURS: dict[str, tuple[float, float | None]] = {
    "op": (0.0, 9.0),
    "iop-adult": (9.0, 19.0),
    "iop-adolescent": (6.0, 19.0),
    "php": (20.0, None),
}

LEVELS: tuple[str, ...] = tuple(LEVEL_HOURS)


def level_range_text(level: str) -> str:
    """Human text for a level's usual weekly hours."""
    low, high = LEVEL_HOURS[level]
    if level == "op":
        return "under 9 h a week"
    if high is None:
        return f"{low:g} h or more a week"
    return f"{low:g} to {high:g} h a week"


def plan_contradicts_level(level: str, min_hours: float, max_hours: float) -> bool:
    """True if a plan's weekly hours fall outside its level's usual range."""
    low, high = LEVEL_HOURS[level]
    if level == "op":
        return min_hours >= 9.0
    if min_hours < low:
        return True
    return high is not None and max_hours > high
