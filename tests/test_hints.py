"""A schedule as a hint (iopsched/model/hints.py): complete hints are the schedule itself."""

from __future__ import annotations

from ortools.sat.python import cp_model

from iopsched.generate import generate
from iopsched.greedy import greedy_schedule
from iopsched.model import extract
from iopsched.model.build import build_model
from iopsched.model.hints import hint_every_variable, schedule_values
from iopsched.validator import assess


def _pooled(ctx, sessions):
    """Sessions with each room replaced by its pool (the model decides pools, not rooms)."""
    return sorted(
        (s.model_copy(update={"id": "", "room": ctx.cand.pool_of.get(s.room)}) for s in sessions),
        key=lambda s: (s.day, s.start, s.therapist, s.participants),
    )


def _hinted_solve(model: cp_model.CpModel) -> tuple[int, cp_model.CpSolver]:
    """Solve with every hinted variable fixed to its hint: the hint alone decides."""
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_time_in_seconds = 20
    solver.parameters.fix_variables_to_their_hinted_value = True
    return solver.solve(model), solver


def test_every_variable_is_hinted_with_the_schedules_own_value():
    """Derived variables included, the hint is one feasible point of the model: the schedule,
    at the cost the validator gives it."""
    week = generate(25, 3)
    sessions = greedy_schedule(week)
    ctx = build_model(week)
    decisions = sum(1 for _ in schedule_values(ctx, sessions))
    assert decisions < len(ctx.model.proto.variables), "the week has derived variables"
    assert hint_every_variable(ctx, sessions)
    hint = ctx.model.proto.solution_hint
    assert sorted(hint.vars) == list(range(len(ctx.model.proto.variables)))
    code, solver = _hinted_solve(ctx.model)
    assert code == cp_model.OPTIMAL
    _, terms = assess(week, sessions)
    assert solver.objective_value == sum(t.cost for t in terms)
    assert _pooled(ctx, extract.schedule(ctx, solver.value)) == _pooled(ctx, sessions)


def test_a_schedule_the_model_cannot_hold_is_hinted_by_its_decisions_alone():
    """A therapist booked outside their hours: no solve of the fixed week exists, so only the
    decisions are hinted, as before."""
    week = generate(25, 3)
    sessions = greedy_schedule(week)
    one = next(k for k, s in enumerate(sessions) if s.group is None)
    moved = sessions[one].model_copy(update={"day": "sun", "start": "03:00", "end": "04:00"})
    broken = [*sessions[:one], moved, *sessions[one + 1 :]]
    ctx = build_model(week)
    assert not hint_every_variable(ctx, broken, seconds=5)
    decisions = sum(1 for _ in schedule_values(ctx, broken))
    assert len(ctx.model.proto.solution_hint.vars) == decisions
