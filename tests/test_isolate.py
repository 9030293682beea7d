"""The search in a child process: same answers, and a crash of the search loses only the search."""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal

import pytest

from iopsched import Instance, SolverSettings, solve, validate
from iopsched.generate import generate
from iopsched.isolate import solve_isolated
from iopsched.solution import Status


def test_isolated_solve_gives_the_same_optimum(tiny):
    inst = Instance.model_validate(tiny)
    sol = solve(inst, SolverSettings(isolated=True, time_limit=20, workers=1))
    assert sol.status is Status.OPTIMAL
    assert sol.objective == 410  # test_model.test_tiny_optimum works it out by hand
    assert validate(inst, sol).ok


def _kill_the_search() -> None:
    for child in multiprocessing.active_children():
        os.kill(child.pid, signal.SIGKILL)


def test_a_crashed_search_still_returns_its_best_schedule(caplog):
    inst = generate(25, 0)
    sent = []

    def crash_after_the_first(best):
        sent.append(best)
        _kill_the_search()  # as a segmentation fault inside CP-SAT would

    with caplog.at_level(logging.ERROR, logger="iopsched"):
        sol = solve(
            inst,
            SolverSettings(isolated=True, time_limit=60, workers=1),
            on_schedule=crash_after_the_first,
        )
    assert sent, "the search sends its first schedule before it is killed"
    assert sol.status is Status.FEASIBLE
    assert sol.objective == sent[-1].objective
    assert sol.stats.search_exit_code == -signal.SIGKILL
    assert validate(inst, sol).ok
    assert "ended without a result" in caplog.text


def _dies_at_once(
    instance_json: str, settings_json: str, conn, started: float, start_json: str | None = None
) -> None:
    os._exit(3)


def _fails(
    instance_json: str, settings_json: str, conn, started: float, start_json: str | None = None
) -> None:
    conn.send(("error", "ValueError: something inside the search"))


def test_a_search_that_dies_before_any_schedule_says_there_is_none(tiny, caplog):
    inst = Instance.model_validate(tiny)
    with caplog.at_level(logging.ERROR, logger="iopsched"):
        sol = solve_isolated(inst, SolverSettings(), None, None, target=_dies_at_once)
    assert sol.status is Status.UNKNOWN
    assert not sol.status.has_schedule
    assert sol.stats.search_exit_code == 3
    assert {row.participant for row in sol.unmet} == {"P1", "P2"}  # nothing scheduled
    assert "it had sent no schedule" in caplog.text


def test_an_error_inside_the_search_reaches_the_caller(tiny):
    inst = Instance.model_validate(tiny)
    with pytest.raises(RuntimeError, match="something inside the search"):
        solve_isolated(inst, SolverSettings(), None, None, target=_fails)


def test_stopping_an_isolated_solve_keeps_its_best_schedule():
    """A KeyboardInterrupt in the caller (Ctrl-C) stops the child, which sends its best."""
    inst = generate(25, 0)
    seen = []

    def stop_at_the_first(progress):
        seen.append(progress)
        raise KeyboardInterrupt

    sol = solve(
        inst,
        SolverSettings(isolated=True, time_limit=600, workers=1),
        on_progress=stop_at_the_first,
    )
    assert seen
    assert sol.status.has_schedule
    assert sol.solve_seconds < 300  # it stopped when asked, not at its limit
    assert validate(inst, sol).ok
