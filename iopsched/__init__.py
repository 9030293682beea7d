"""iopsched: exact weekly scheduling for Intensive Outpatient Programs.

Library use::

    from iopsched import load_instance, solve, validate
    instance = load_instance("instances/small-clinic.json")
    solution = solve(instance, time_limit=30)
    report = validate(instance, solution)
"""

from iopsched.instance import Instance
from iopsched.io import InputError, load_instance, load_solution, write_json_atomic
from iopsched.solution import Session, Solution, Status, UnmetRow
from iopsched.solver import Progress, SolverSettings, solve
from iopsched.validator import ValidationReport, validate

__all__ = [
    "InputError",
    "Instance",
    "Progress",
    "Session",
    "Solution",
    "SolverSettings",
    "Status",
    "UnmetRow",
    "ValidationReport",
    "load_instance",
    "load_solution",
    "solve",
    "validate",
    "write_json_atomic",
]

__version__ = "0.1.0"
