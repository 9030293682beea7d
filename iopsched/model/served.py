"""The week searched for the most people fully served: a guide for the search, not its goal.

The week's objective weighs shortfall minutes, attendance days, facilitators and
preferred times together with the people left short.  CP-SAT's own neighbourhood
search does far better at serving people on a plainer objective: the people not
fully served, each counted as ``PERSON_MINUTES`` minutes, plus the minutes short
of plan minimums (``min_hours``).  The solver spends a first window of a
moderate week on it (``iopsched.search.window.serve_most``), keeps each schedule
that costs less by the week's own objective, and then searches that objective
from the best of them.  docs/how-it-works.md has the measurements.
"""

from __future__ import annotations

from ortools.sat.python import cp_model

from iopsched.model.context import Ctx

PERSON_MINUTES = 1000  # a person not fully served weighs as much as this many minutes short


def not_fully_served(ctx: Ctx) -> list[cp_model.IntVar]:
    """The literals that are 1 when a participant's plan is not fully met (people who can
    never be fully served have a constant instead, and are left out)."""
    return [
        t.expr for t in ctx.terms if t.rule == "participant_short" and not isinstance(t.expr, int)
    ]


def served_objective(ctx: Ctx) -> cp_model.LinearExprT:
    """The people not fully served, then the minutes short of plan minimums."""
    short = [t.expr for t in ctx.terms if t.rule == "min_hours_short"]
    return PERSON_MINUTES * sum(not_fully_served(ctx)) + sum(short)


def most_fully_served(ctx: Ctx) -> cp_model.CpModel:
    """A copy of the week's model, hints included, that minimises :func:`served_objective`
    (the copy keeps every variable's index, so a schedule reads out as from the week's own
    model)."""
    model = ctx.model.clone()
    model.minimize(served_objective(ctx))
    return model
