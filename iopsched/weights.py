"""Objective weights: what each unit of cost means, and its default.

The objective is a weighted sum; every term is owned by one rule and one
person (participant, group or therapist).  Defaults make the plan minimums
dominate everything else, then fewer attendance days, then one facilitator per
group, then balanced therapist load, then preferred times and stability.
Override any of them through the instance's ``weights`` map.
"""

from __future__ import annotations

from dataclasses import dataclass

# name -> (default, what one unit costs)
WEIGHT_DOCS: dict[str, tuple[int, str]] = {
    "min_hours_short": (20, "per minute a participant's plan minimum (min_hours) is short"),
    "group_hours_short": (10, "per minute of group therapy short of the plan's group_hours"),
    "education_hours_short": (
        10,
        "per minute of psychoeducation short of the plan's education_hours",
    ),
    "individual_short": (1000, "per individual session short of the plan"),
    "family_short": (1000, "per family session short of the plan"),
    "participant_short": (
        2400,
        "per participant whose plan is not fully met, whatever is short (fully serving "
        "people comes before spreading the same shortfall over more of them)",
    ),
    "attendance_day": (60, "per day a participant has to come in"),
    "facilitator_change": (15, "per extra facilitator a group sees beyond its first"),
    "therapist_peak_load": (2, "per percentage point of the busiest therapist's weekly cap"),
    "outside_preferred": (1, "per attended minute outside a participant's preferred windows"),
    "left_previous_group": (20, "per participant taken out of a group they were in last week"),
}

DEFAULT_WEIGHTS: dict[str, int] = {name: value for name, (value, _) in WEIGHT_DOCS.items()}


@dataclass(frozen=True)
class Weights:
    """Resolved weights: defaults overridden by the instance's ``weights``."""

    min_hours_short: int
    group_hours_short: int
    education_hours_short: int
    individual_short: int
    family_short: int
    participant_short: int
    attendance_day: int
    facilitator_change: int
    therapist_peak_load: int
    outside_preferred: int
    left_previous_group: int

    @classmethod
    def resolve(cls, overrides: dict[str, int] | None) -> Weights:
        """Defaults with ``overrides`` applied (names checked on load)."""
        return cls(**{**DEFAULT_WEIGHTS, **(overrides or {})})
