"""The solution side of the data contract (``iopsched/solution@1``)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from iopsched.timegrid import Clock, Day, end_after_start

SOLUTION_FORMAT = "iopsched/solution@1"

SessionKind = Literal["group", "education", "individual", "family"]
Requirement = Literal["min_hours", "group_hours", "education_hours", "individual", "family"]


class Status(StrEnum):
    """How a solve ended."""

    OPTIMAL = "optimal"  # proven best schedule
    FEASIBLE = "feasible"  # a schedule, not proven best (time limit or stop)
    INFEASIBLE = "infeasible"  # hard rules cannot all hold; stats say why
    UNKNOWN = "unknown"  # no schedule found in time

    @property
    def has_schedule(self) -> bool:
        """True when the solution carries a schedule."""
        return self in (Status.OPTIMAL, Status.FEASIBLE)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Session(_Strict):
    """One session of the week: who, when, where, with whom."""

    id: str = Field(min_length=1)
    kind: SessionKind
    group: str | None = None
    day: Day
    start: Clock
    end: Clock
    therapist: str
    room: str | None = None
    participants: list[str]

    @field_validator("end")
    @classmethod
    def _end_after_start(cls, end: str, info: ValidationInfo) -> str:
        return end_after_start(info.data.get("start"), end)


class UnmetRow(_Strict):
    """One plan requirement not fully met (hours, or sessions for individual/family)."""

    participant: str
    requirement: Requirement
    required: float
    scheduled: float
    short: float


class CostTerm(_Strict):
    """One named unit of cost: the rule it comes from and whom it concerns."""

    rule: str
    subject: str
    amount: int
    weight: int
    cost: int


class Stats(BaseModel):
    """Facts about the solve; producers may add fields."""

    model_config = ConfigDict(extra="allow", frozen=True)

    gap: float | None = None
    time_to_first: float | None = None
    time_to_best: float | None = None
    variables: int | None = None
    constraints: int | None = None
    participants_fully_served: int | None = None
    participants: int | None = None
    cost_by_rule: dict[str, int] | None = None
    cost_terms: list[CostTerm] | None = None
    infeasible_because: list[str] | None = None
    progress: list[dict[str, Any]] | None = None
    cost_floor: float | None = None  # the bound read from the instance alone (iopsched.bounds)
    # the bound proven on the week without staff and room limits (iopsched.relaxation)
    relaxation_bound: float | None = None
    # where the search began: "first_fit", "start" (a schedule given) or "last_week"
    started_from: str | None = None
    # last week's schedule carried forward: its sessions kept, of how many, the rules the
    # completed week still broke, and why it was not the start ("breaks a rule", "nothing
    # kept", "outside the model" or "costs more than the first fit")
    last_week_kept: int | None = None
    last_week_sessions: int | None = None
    last_week_breaks: list[str] | None = None
    last_week_unused: str | None = None


class Solution(_Strict):
    """A solved (or not) week: status, schedule and what is left unmet."""

    format: Literal["iopsched/solution@1"] = SOLUTION_FORMAT
    instance: str
    status: Status
    objective: float | None = None
    bound: float | None = None
    solve_seconds: float = 0.0
    sessions: list[Session] = Field(default_factory=list)
    unmet: list[UnmetRow] = Field(default_factory=list)
    stats: Stats | None = None

    @property
    def gap(self) -> float | None:
        """Relative gap between objective and bound (0 when proven optimal)."""
        return relative_gap(self.objective, self.bound)


def relative_gap(objective: float | None, bound: float | None) -> float | None:
    """|objective - bound| / max(1, |objective|), or None without both."""
    if objective is None or bound is None:
        return None
    return abs(objective - bound) / max(1.0, abs(objective))
