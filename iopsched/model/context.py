"""The model under construction: instance, candidates, variables and helpers
shared by every rule family."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ortools.sat.python import cp_model

from iopsched.instance import Instance
from iopsched.model.grid import Candidates, Grid, Limits, Spans, domain
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
    limits: Limits = field(default_factory=Limits)  # large weeks, see limits.py
    # daily minimums and pins may be broken, and what is broken is minimised (repair.py)
    repair: bool = False
    model: cp_model.CpModel = field(default_factory=cp_model.CpModel)
    cand: Candidates = field(init=False)
    vars: Variables = field(init=False)
    switches: dict[str, BoolVar] = field(default_factory=dict)
    terms: list[Term] = field(default_factory=list)
    plan_lines: list[PlanLine] = field(default_factory=list)
    attend_day: dict[str, dict[int, BoolVar]] = field(default_factory=dict)
    # With ``repair``: participant -> minutes each day falls below their daily minimum,
    # and pin index -> the pin is broken (no terms of the week's objective).
    below_daily_minimum: dict[str, list[cp_model.IntVar]] = field(default_factory=dict)
    pin_broken: dict[int, BoolVar] = field(default_factory=dict)
    # true: interchangeable groups run and fill in order (groups.identical_groups_filled_in_order)
    twins_in_order: BoolVar | None = None
    # (availability, session) -> the session's starts outside it: people share availability
    _outside: dict[tuple[tuple[tuple[int, int], ...], str], list[int]] = field(
        default_factory=dict, init=False, repr=False
    )
    _by_day: dict[str, dict[int, list[SessionVars]]] = field(
        default_factory=dict, init=False, repr=False
    )

    def order_twins(self, on: bool) -> None:
        """Switch the twins' order on or off, once (no-op in a week without twins)."""
        if self.twins_in_order is not None:
            self.model.add(self.twins_in_order == int(on))

    def __post_init__(self) -> None:
        self.cand = Candidates(self.instance, self.limits)
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
        key = (tuple(spans), s.key)
        if key not in self._outside:
            ok = self.cand.starts(spans, self.grid.to_minute(s.length))
            self._outside[key] = [t for t in s.candidates if t not in ok]
        outside = self._outside[key]
        if not outside:
            return
        if s.encoded:  # a clique of literals, so the LP relaxation sees it too
            self.model.add_at_most_one([lit, *(s.at[t] for t in outside)])
        elif len(outside) == len(s.candidates):
            self.model.add(lit == 0)
        else:
            allowed = sorted(s.candidate_set.difference(outside))
            self.model.add_linear_expression_in_domain(s.start, domain(allowed)).only_enforce_if(
                lit
            )

    def one_at_a_time(
        self, who: str, sessions: list[SessionVars], lit_of: Callable[[SessionVars], BoolVar]
    ) -> None:
        """Of these sessions, those whose literal holds never overlap (one person or room)."""
        if len(sessions) > 1:
            self.model.add_no_overlap(
                self.model.new_optional_fixed_size_interval_var(
                    s.start, s.length, lit_of(s), f"{who}:{s.key}"
                )
                for s in sessions
            )

    def by_day(self, pid: str) -> dict[int, list[SessionVars]]:
        """A participant's possible sessions on each day they could fall on (built once)."""
        if pid not in self._by_day:
            days: dict[int, list[SessionVars]] = {}
            for s in self.vars.by_participant.get(pid, []):
                for d in s.days:
                    days.setdefault(d, []).append(s)
            self._by_day[pid] = days
        return self._by_day[pid]

    @staticmethod
    def on_day(s: SessionVars, pid: str, day: int) -> BoolVar:
        """Literal: participant ``pid`` attends session ``s`` on ``day`` (one of its days)."""
        if len(s.days) == 1:
            return s.participants[pid]
        return s.days[day]  # a 1:1 session: its day literal implies its presence

    def minutes(self, pid: str, kinds: set[str] | None = None) -> cp_model.LinearExprT:
        """Minutes of care the schedule gives a participant (optionally of some kinds only)."""
        slot = self.grid.slot_minutes
        total = 0
        for gv in self.vars.groups_of.get(pid, []):
            g = gv.group
            if kinds is None or g.kind in kinds:
                total += g.duration_minutes * g.meetings_per_week * gv.members[pid]
        for s in self.vars.one_to_one.get(pid, []):
            if kinds is None or s.kind in kinds:
                total += s.length * slot * s.present
        return total

    def product(self, a: BoolVar, b: BoolVar, name: str) -> BoolVar:
        """A literal equal to ``a and b``."""
        lit = self.model.new_bool_var(name)
        self.model.add_bool_and([a, b]).only_enforce_if(lit)
        self.model.add_bool_or([a.Not(), b.Not(), lit])
        return lit
