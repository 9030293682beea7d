"""The first-fit schedule: valid on generated weeks, and the solver never does worse."""

from __future__ import annotations

import pytest

from iopsched import solve, validate
from iopsched.generate import generate
from iopsched.greedy import first_fit_solution, greedy_schedule


@pytest.mark.parametrize(
    ("n", "seed", "profile"),
    [(10, 1, "small"), (25, 2, "evening"), (60, 3, "evening"), (30, 4, "understaffed")],
)
def test_first_fit_schedule_breaks_no_hard_rule(n, seed, profile):
    inst = generate(n, seed, profile=profile)
    sol = first_fit_solution(inst)
    assert sol.sessions, "the first-fit schedule places nothing"
    report = validate(inst, sol)
    assert report.ok, report.render()


def test_first_fit_is_deterministic():
    inst = generate(40, 9)
    assert greedy_schedule(inst) == greedy_schedule(inst)


def test_solver_never_returns_worse_than_first_fit():
    inst = generate(30, 6)
    sol = solve(inst, time_limit=3, workers=2)
    assert sol.stats.first_fit_objective is not None
    assert sol.objective <= sol.stats.first_fit_objective
    assert sol.stats.progress[0]["objective"] == sol.stats.first_fit_objective


def test_validator_cost_terms_equal_the_solvers():
    inst = generate(20, 5, profile="small")
    sol = solve(inst, time_limit=5, workers=2)
    report = validate(inst, sol)
    assert report.ok, report.render()
    key = lambda t: (t.rule, t.subject)  # noqa: E731
    assert sorted(report.cost_terms, key=key) == sorted(sol.stats.cost_terms, key=key)
