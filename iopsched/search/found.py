"""A schedule in hand, what it costs term by term, and the solution that carries it."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from iopsched.instance import Instance
from iopsched.model import extract
from iopsched.model.context import Ctx
from iopsched.solution import CostTerm, Session, Solution, Stats, Status, UnmetRow, relative_gap
from iopsched.validator import cost_by_rule, validate

log = logging.getLogger("iopsched")


@dataclass
class Found:
    """A schedule with what it leaves unmet and what it costs, term by term."""

    sessions: list[Session]
    unmet: list[UnmetRow]
    terms: list[CostTerm]

    @property
    def objective(self) -> int:
        return sum(term.cost for term in self.terms)

    @classmethod
    def read(cls, ctx: Ctx, value: Callable[[object], int]) -> Found:
        """The schedule of a model's solution (``value``: CP-SAT's reading of a variable)."""
        return cls(
            extract.schedule(ctx, value), extract.unmet(ctx, value), extract.cost_terms(ctx, value)
        )


def with_schedule(
    instance: Instance,
    best: Found,
    status: Status,
    bound: float | None,
    wall: float,
    stats: dict,
) -> Solution:
    """The solution that carries ``best``, with its gap and cost terms in the stats."""
    stats = stats | {
        "gap": relative_gap(best.objective, bound),
        "participants_fully_served": len(instance.participants)
        - len({row.participant for row in best.unmet}),
        "cost_by_rule": cost_by_rule(best.terms),
        "cost_terms": best.terms,
    }
    return Solution(
        instance=instance.name,
        status=status,
        objective=best.objective,
        bound=bound,
        solve_seconds=round(wall, 3),
        sessions=best.sessions,
        unmet=best.unmet,
        stats=Stats(**stats),
    )


def checked(
    instance: Instance,
    solution: Solution,
    first_fit: Found | None,
    bound: float | None,
    wall: float,
    stats: dict,
) -> Solution:
    """The solution, once our own validator passes it.

    A schedule from the search that breaks a hard rule (or whose cost does not match
    its sessions) is a defect in the model: it is logged as an error and the
    first-fit schedule, validated before the search, is returned instead.
    """
    report = validate(instance, solution)
    if report.ok:
        return solution
    log.error("internal error: the schedule found fails validation; %s", report.render(5))
    if first_fit is None:
        log.error("no validated schedule to fall back on: returning it as found")
        return solution
    log.error("returning the first-fit schedule instead")
    return with_schedule(instance, first_fit, Status.FEASIBLE, bound, wall, stats)
