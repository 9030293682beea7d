"""The model under construction: instance, candidates, variables and helpers
shared by every rule family."""

from __future__ import annotations

from dataclasses import dataclass, field

from ortools.sat.python import cp_model

from iopsched.instance import Instance
from iopsched.model.grid import Candidates, Grid, Spans, domain
from iopsched.model.variables import BoolVar, SessionVars, Variables, create_variables
from iopsched.weights import Weights


@dataclass
class Term:
    """One named piece of the objective: ``weight * expr`` owed to ``rule`` for ``subject``."""

    rule: str
    subject: str
    expr: cp_model.LinearExprT
    weight: int
    # when the subject is decided by the schedule (the busiest therapist): subject -> value
    subject_by_value: dict[str, cp_model.LinearExprT] | None = None


@dataclass
class PlanLine:
    """One plan requirement: what is required, what the schedule gives, what is short."""

    participant: str
    requirement: str  # min_hours | group_hours | education_hours | individual | family
    required: int  # minutes, or sessions
    scheduled: cp_model.LinearExprT
    short: cp_model.LinearExprT
    per_hour: bool  # True: minutes (reported as hours); False: sessions


@dataclass
class Ctx:
    """Everything the rule functions need while they add constraints."""

    instance: Instance
    weights: Weights
    diagnose: bool = False  # switches become assumption literals
    model: cp_model.CpModel = field(default_factory=cp_model.CpModel)
    cand: Candidates = field(init=False)
    vars: Variables = field(init=False)
    switches: dict[str, BoolVar] = field(default_factory=dict)
    terms: list[Term] = field(default_factory=list)
    plan_lines: list[PlanLine] = field(default_factory=list)
    attend_day: dict[str, dict[int, BoolVar]] = field(default_factory=dict)
    _on_day: dict[tuple[str, str, int], BoolVar] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.cand = Candidates(self.instance)
        self.vars = create_variables(self.model, self.cand)

    @property
    def grid(self) -> Grid:
        return self.cand.grid

    def switch(self, name: str) -> list[BoolVar]:
        """Enforcement literals for a hard rule that may be blamed when the week is infeasible."""
        if not self.diagnose:
            return []
        if name not in self.switches:
            self.switches[name] = self.model.new_bool_var(name)
        return [self.switches[name]]

    def require_start_within(self, s: SessionVars, lit: BoolVar, spans: Spans) -> None:
        """If ``lit`` holds, the session lies inside ``spans``."""
        ok = self.cand.starts(spans, self.grid.to_minute(s.length))
        allowed = [t for t in s.candidates if t in ok]
        if len(allowed) == len(s.candidates):
            return
        if not allowed:
            self.model.add(lit == 0)
        else:
            self.model.add_linear_expression_in_domain(s.start, domain(allowed)).only_enforce_if(
                lit
            )

    def on_day(self, s: SessionVars, pid: str, day: int) -> BoolVar | None:
        """Literal: participant ``pid`` attends session ``s`` on ``day`` (None if impossible)."""
        if day not in s.days:
            return None
        if s.group_id is None:
            return s.days[day]
        key = (s.group_id, pid, day)  # a group meets at most once a day: one literal per day
        if key not in self._on_day:
            meets = [m.days[day] for m in self.vars.groups[s.group_id].meetings if day in m.days]
            member = s.participants[pid]
            lit = self.model.new_bool_var(f"attends[{s.group_id},{pid},{day}]")
            self.model.add(lit <= member)
            self.model.add(lit <= sum(meets))
            self.model.add(lit >= member + sum(meets) - 1)
            self._on_day[key] = lit
        return self._on_day[key]

    def product(self, a: BoolVar, b: BoolVar, name: str) -> BoolVar:
        """A literal equal to ``a and b``."""
        lit = self.model.new_bool_var(name)
        self.model.add_bool_and([a, b]).only_enforce_if(lit)
        self.model.add_bool_or([a.Not(), b.Not(), lit])
        return lit
