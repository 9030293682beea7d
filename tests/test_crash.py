"""A neighbourhood round on which OR-Tools 9.15 crashed, solved with our parameters.

The model is one round of the search on ``iopsched generate --participants 200
--seed 0`` (solve seed 9, the tenth solve in one process), saved just before CP-SAT
ended the process with a segmentation fault.  Solved on its own with the round's
parameters (2 workers, seed 9, one presolve pass) it crashed in each of 7 runs,
and with other seeds too: in the local-search evaluator (``LsEvaluator``) of
CP-SAT's feasibility jump, in ``CompiledReservoirConstraint::
InitializeDenseIndexToEvents`` (gdb).  It did not crash with one worker (4 runs),
two presolve passes (7), three (2), no presolve (2), or CP-SAT's local search off
(5).

Why, from CP-SAT's dump of the presolved model (``CppFlags.cp_model_dump_models``):
the single presolve pass split two of the four room-pool cumulatives by time and
left a piece of each holding one fixed interval and no variable at all; the
evaluator indexes a constraint by its variables and writes out of bounds when
there are none.  A second pass removes such pieces.  Neither dropping the absent
intervals from the cumulatives nor making the fixed ones constant stopped the
crash (4 runs each); a constant interval spanning the week in each cumulative,
with one more unit of capacity, kept the presolve from splitting them and
stopped it (5 runs).

iopsched presolves once and keeps local search off (``SolverSettings.local_search``);
asked for local search, it gets it only with two or more presolve passes.  Each
solve runs in a child process, so a crash fails this test instead of ending the
test run.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

FIXTURE = Path(__file__).parent / "data" / "round-that-crashed-cpsat-9.15.pb.xz"

SOLVE = """
import lzma, sys
from google.protobuf import text_format
from ortools.sat import cp_model_pb2
from ortools.sat.python import cp_model
from iopsched.search.run import configure
from iopsched.settings import SolverSettings

proto = cp_model_pb2.CpModelProto()
proto.ParseFromString(lzma.decompress(open(sys.argv[1], "rb").read()))
model = cp_model.CpModel()
model.proto.parse_text_format(text_format.MessageToString(proto))
solver = cp_model.CpSolver()
settings = SolverSettings(workers=2, seed=9, presolve_passes=int(sys.argv[2]), local_search=True)
configure(solver, settings, 3.0, log=False)
print(solver.status_name(solver.solve(model)))
"""


@pytest.mark.parametrize("passes", [1, 2])  # local search asked for: off after one pass
def test_the_round_that_crashed_cp_sat_solves_with_our_parameters(passes):
    run = subprocess.run(
        [sys.executable, "-c", SOLVE, str(FIXTURE), str(passes)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, f"exit code {run.returncode}: {run.stderr[-2000:]}"
    assert run.stdout.split()[-1] in {"OPTIMAL", "FEASIBLE"}
