"""The search in a child process, so that a crash inside CP-SAT loses only the search.

OR-Tools is native code: should it crash (CP-SAT 9.15 did in this project's
runs, until ``SolverSettings.local_search`` kept it out of the subsolvers that
crashed; others may remain), it takes the whole process with it, and with it an
EHR or intake system that imported iopsched.  With ``SolverSettings.isolated``
the solve runs in a spawned child process and sends back, over a pipe, each
progress line, each better schedule and the result.  Should the child end
without a result, the caller gets the best schedule it had sent (status
``feasible``, validated like any other) and an error in the log, or, before any
schedule, status ``unknown``.  Ctrl-C (or a KeyboardInterrupt in a callback)
asks the child to stop, and its best schedule is returned as usual.

Only the instance, the settings and a start schedule, if any, go to the child, and
only schedules, progress and log lines come back; nothing leaves the machine.
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from iopsched.instance import Instance
from iopsched.solution import Solution, Stats, Status
from iopsched.validator import assess, validate

if TYPE_CHECKING:  # the solver imports this module
    from iopsched.search.run import Progress
    from iopsched.settings import SolverSettings

log = logging.getLogger("iopsched")

Message = tuple[str, Any]


class _PipeLog(logging.Handler):
    """Hands the child's log records to the parent, which logs them as its own."""

    def __init__(self, send: Callable[[Message], None]):
        super().__init__()
        self.send = send

    def emit(self, record: logging.LogRecord) -> None:
        self.send(("log", (record.levelno, record.getMessage())))


def _stop_once(signum: int, frame: object) -> None:
    """The parent's request to stop: a KeyboardInterrupt once, then nothing."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise KeyboardInterrupt


def child_main(
    instance_json: str,
    settings_json: str,
    conn: Any,
    started: float = 0.0,
    start_json: str | None = None,
) -> None:
    """The child's whole life: solve, and send everything back over ``conn``.

    ``started`` (``time.time()`` when the caller asked) takes the child's start-up out
    of a wall-clock time limit, so the caller waits about the limit, not half a second more.
    ``start_json`` is the schedule to start from, if the caller gave one.
    """
    from iopsched.solver import SolverSettings, solve  # the child imports the solver itself

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a terminal's Ctrl-C reaches the parent
    signal.signal(signal.SIGTERM, _stop_once)
    lock = threading.Lock()  # CP-SAT calls back from its own thread

    def send(message: Message) -> None:
        with lock:
            conn.send(message)

    root = logging.getLogger("iopsched")
    root.handlers[:] = [_PipeLog(send)]
    root.propagate = False
    root.setLevel(logging.DEBUG)
    instance = Instance.model_validate_json(instance_json)
    settings = SolverSettings.model_validate_json(settings_json)
    start = Solution.model_validate_json(start_json) if start_json is not None else None
    if started and not settings.deterministic:  # (work units do not pass while starting)
        left = settings.time_limit - max(0.0, time.time() - started)
        settings = settings.model_copy(update={"time_limit": max(0.1, left)})
    try:
        solution = solve(
            instance,
            settings,
            on_progress=lambda p: send(("progress", p)),
            on_schedule=lambda s: send(("schedule", s.model_dump_json())),
            start=start,
        )
    except KeyboardInterrupt:
        send(("interrupted", None))
        return
    except Exception as error:  # handed to the parent, which raises it there
        send(("error", f"{type(error).__name__}: {error}"))
        return
    send(("result", solution.model_dump_json()))


def solve_isolated(
    instance: Instance,
    settings: SolverSettings,
    on_progress: Callable[[Progress], None] | None,
    on_schedule: Callable[[Solution], None] | None,
    target: Callable[..., None] = child_main,
    start: Solution | None = None,
) -> Solution:
    """``solve()`` in a child process (see the module); ``settings.isolated`` is off there."""
    t0 = time.monotonic()
    spawn = multiprocessing.get_context("spawn")
    receive, send = spawn.Pipe(duplex=False)
    child = spawn.Process(
        target=target,
        args=(
            instance.model_dump_json(),
            settings.model_dump_json(),
            send,
            time.time(),
            start.model_dump_json() if start is not None else None,
        ),
        daemon=True,
    )
    child.start()
    send.close()  # the parent's copy: when the child is gone, receiving ends
    best: Solution | None = None
    result: Solution | None = None
    interrupted = False
    failure: str | None = None
    while True:
        try:
            kind, payload = receive.recv()
        except EOFError:
            break
        except KeyboardInterrupt:
            interrupted = True
            child.terminate()  # the child stops its search and sends its best schedule
            continue
        try:
            if kind == "log":
                level, text = payload
                log.log(level, "%s", text)
            elif kind == "progress" and on_progress is not None:
                on_progress(payload)
            elif kind == "schedule":
                best = Solution.model_validate_json(payload)
                if on_schedule is not None:
                    on_schedule(best)
            elif kind == "result":
                result = Solution.model_validate_json(payload)
            elif kind == "error":
                failure = payload
            elif kind == "interrupted":
                interrupted = True
        except KeyboardInterrupt:  # raised in a callback: the caller wants to stop
            interrupted = True
            child.terminate()
    child.join()
    receive.close()
    if result is not None:
        return result
    if failure is not None:
        raise RuntimeError(f"the search failed: {failure}")
    if interrupted and best is None:
        raise KeyboardInterrupt
    log.error(
        "the search process ended without a result (exit code %s; a crash inside CP-SAT "
        "ends it so); %s",
        child.exitcode,
        "returning the best schedule it had sent"
        if best is not None
        else "it had sent no schedule",
    )
    return _after_crash(instance, best, child.exitcode, time.monotonic() - t0)


def _after_crash(
    instance: Instance, best: Solution | None, exitcode: int | None, wall: float
) -> Solution:
    """The best schedule the child sent, or none, marked with how the child ended."""
    if best is not None:
        report = validate(instance, best)
        if not report.ok:
            log.error("the last schedule the search sent breaks %d rule(s)", len(report.violations))
            best = None
    if best is not None:
        stats = (best.stats or Stats()).model_dump() | {"search_exit_code": exitcode}
        return best.model_copy(update={"solve_seconds": round(wall, 3), "stats": Stats(**stats)})
    unmet, _ = assess(instance, [])  # the unmet rows of an empty week
    return Solution(
        instance=instance.name,
        status=Status.UNKNOWN,
        solve_seconds=round(wall, 3),
        unmet=unmet,
        stats=Stats(participants=len(instance.participants), search_exit_code=exitcode),
    )
