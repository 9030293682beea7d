"""Independent check of a schedule against the contract's hard rules.

Written from the contract, not from the model: nothing here imports
``iopsched.model``.  It also recomputes the unmet rows and the objective from
the sessions alone, so a test can compare them with what the solver reported.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from iopsched.instance import Instance, Participant, minutes_of
from iopsched.solution import CostTerm, Session, Solution, UnmetRow
from iopsched.timegrid import (
    DAYS,
    MINUTES_PER_DAY,
    minutes_outside,
    parse_hhmm,
    spans_cover,
    windows_union,
)
from iopsched.weights import Weights


@dataclass(frozen=True)
class Violation:
    """One broken rule: the contract's rule number, the session (if one), what is wrong.

    A rule no one session breaks names what it is about instead (a group, a participant,
    a therapist, a pin, and the day), and ``lacking`` says whether something missing breaks
    it (a group that does not run, a pin not kept, a day below its minimum) rather than
    something there.  Two sessions at once name the other one too (``also``).
    """

    rule: str
    session: str | None
    message: str
    group: str | None = None
    participant: str | None = None
    therapist: str | None = None
    pin: int | None = None
    day: str | None = None
    lacking: bool = False
    also: str | None = None

    def __str__(self) -> str:
        where = f" [{self.session}]" if self.session else ""
        return f"rule {self.rule}{where}: {self.message}"


# What a solution says of its own sessions (unmet rows, objective), as against the hard
# rules its sessions keep or break.
ACCOUNTING = frozenset({"unmet", "objective"})


@dataclass
class ValidationReport:
    """Violations found, plus the unmet rows and objective recomputed from the sessions."""

    violations: list[Violation] = field(default_factory=list)
    unmet: list[UnmetRow] = field(default_factory=list)
    objective: int | None = None
    cost_by_rule: dict[str, int] = field(default_factory=dict)
    cost_terms: list[CostTerm] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.violations

    @property
    def broken(self) -> list[Violation]:
        """The violations of the schedule itself: all but a mismatch of its unmet rows or
        objective with what its sessions give."""
        return [v for v in self.violations if v.rule not in ACCOUNTING]

    def render(self, limit: int = 40) -> str:
        if self.ok:
            return "valid: every hard rule holds; unmet rows and objective match the sessions"
        lines = [f"{len(self.violations)} violation(s):"]
        lines += [f"  {v}" for v in self.violations[:limit]]
        if len(self.violations) > limit:
            lines.append(f"  ... and {len(self.violations) - limit} more")
        return "\n".join(lines)


def _span(session: Session) -> tuple[int, int] | None:
    try:
        day = DAYS.index(session.day) * MINUTES_PER_DAY
        start, end = parse_hhmm(session.start), parse_hhmm(session.end)
    except ValueError:
        return None
    return day + start, day + end


def _covered(windows, span: tuple[int, int]) -> bool:
    return spans_cover(windows_union(windows), *span)


class _Checker:
    def __init__(self, inst: Instance, sol: Solution):
        self.inst, self.sol = inst, sol
        self.out: list[Violation] = []
        self.spans: dict[str, tuple[int, int]] = {}

    def bad(self, rule: str, session: str | None, message: str, **about: Any) -> None:
        self.out.append(Violation(rule, session, message, **about))

    # ----------------------------------------------------------- per session
    def expected_minutes(self, s: Session) -> int | None:
        inst = self.inst
        if s.kind in ("group", "education"):
            g = inst.group_by_id.get(s.group or "")
            if g is None:
                self.bad("4", s.id, f"{s.kind} session names unknown group {s.group!r}")
                return None
            if g.kind != s.kind:
                self.bad("4", s.id, f"group {g.id} is {g.kind!r}, session says {s.kind!r}")
            return g.duration_minutes
        if s.group is not None:
            self.bad("4", s.id, f"a {s.kind} session names group {s.group!r}")
        if len(s.participants) != 1:
            self.bad("2", s.id, f"a {s.kind} session has {len(s.participants)} participants")
            return None
        p = inst.participant_by_id.get(s.participants[0])
        spec = getattr(p.plan, s.kind) if p else None
        if p is not None and (spec is None or spec.sessions == 0):
            self.bad("5", s.id, f"{p.id}'s plan asks for no {s.kind} sessions")
            return None
        return spec.minutes if spec else None

    def session_basics(self, s: Session) -> None:
        inst, slot = self.inst, self.inst.slot_minutes
        span = _span(s)
        if span is None or span[0] >= span[1]:
            self.bad("1", s.id, f"bad times {s.start}-{s.end}")
            return
        self.spans[s.id] = span
        if span[0] % slot:
            self.bad("1", s.id, f"start {s.start} is off the {slot}-minute grid")
        if not _covered(inst.program_hours, span):
            self.bad("1", s.id, f"{s.day} {s.start}-{s.end} is outside program hours")
        want = self.expected_minutes(s)
        if want is not None and span[1] - span[0] != want:
            self.bad("1", s.id, f"lasts {span[1] - span[0]} min, should last {want}")
        t = inst.therapist_by_id.get(s.therapist)
        if t is None:
            self.bad("3", s.id, f"unknown therapist {s.therapist!r}")
        else:
            if s.kind not in t.modalities:
                self.bad("3", s.id, f"therapist {t.id} does not deliver {s.kind}")
            if not _covered(t.availability, span):
                self.bad("2", s.id, f"therapist {t.id} is not available then")
        for pid in s.participants:
            p = inst.participant_by_id.get(pid)
            if p is None:
                self.bad("2", s.id, f"unknown participant {pid!r}")
                continue
            if not _covered(p.availability, span):
                self.bad("2", s.id, f"participant {pid} is not available then")
            family = p.family_availability
            if s.kind == "family" and family is not None and not _covered(family, span):
                self.bad("2", s.id, f"{pid}'s family is not available then")
            if s.kind == "individual" and p.primary_therapist not in (None, s.therapist):
                self.bad("3", s.id, f"{pid}'s individual sessions are with {p.primary_therapist}")
        if len(set(s.participants)) != len(s.participants):
            self.bad("2", s.id, "lists a participant twice")
        self.room_rules(s, span)

    def room_rules(self, s: Session, span: tuple[int, int]) -> None:
        inst = self.inst
        group = inst.group_by_id.get(s.group or "")
        people = [inst.participant_by_id[p] for p in s.participants if p in inst.participant_by_id]
        if s.room is None:
            if group is not None and not group.virtual:
                self.bad("2", s.id, f"in-person group {group.id} has no room")
            if group is None and not all(p.telehealth for p in people):
                self.bad(
                    "2", s.id, f"{s.kind} session without a room for a non-telehealth participant"
                )
            return
        room = inst.room_by_id.get(s.room)
        if room is None:
            self.bad("2", s.id, f"unknown room {s.room!r}")
            return
        if room.availability is not None and not _covered(room.availability, span):
            self.bad("2", s.id, f"room {room.id} is not available then")
        seats = len(s.participants)
        if s.kind == "family" and people:
            seats = 1 + people[0].family_size
        if seats > room.capacity:
            self.bad("2", s.id, f"room {room.id} seats {room.capacity}, session needs {seats}")
        if group is not None and group.site is not None and room.site != group.site:
            self.bad("7", s.id, f"room {room.id} is not at group site {group.site}")
        for p in people:
            if p.site is not None and room.site != p.site:
                self.bad("7", s.id, f"room {room.id} is not at {p.id}'s site {p.site}")
        t = inst.therapist_by_id.get(s.therapist)
        if t is not None and t.sites is not None and room.site not in t.sites:
            self.bad("7", s.id, f"room {room.id} is not at a site of therapist {t.id}")

    # ------------------------------------------------------------ overlaps
    def no_double_booking(self) -> None:
        holders: dict[str, list[tuple[int, int, str]]] = defaultdict(list)
        for s in self.sol.sessions:
            span = self.spans.get(s.id)
            if span is None:
                continue
            holders[f"therapist {s.therapist}"].append((*span, s.id))
            if s.room is not None:
                holders[f"room {s.room}"].append((*span, s.id))
            for pid in set(s.participants):
                holders[f"participant {pid}"].append((*span, s.id))
        for who, items in holders.items():
            items.sort()
            for (_, end_a, a), (start_b, _, b) in itertools.pairwise(items):
                if start_b < end_a:
                    self.bad("2", b, f"{who} is also in {a} at that time", also=a)

    # -------------------------------------------------------------- groups
    def group_rules(self) -> None:
        inst = self.inst
        by_group: dict[str, list[Session]] = defaultdict(list)
        for s in self.sol.sessions:
            if s.group is not None:
                by_group[s.group].append(s)
        avoid = inst.avoid_pairs()
        for g in inst.groups:
            meetings = by_group.get(g.id, [])
            if not meetings:
                if not g.optional and self.sol.status.has_schedule:
                    self.bad(
                        "4",
                        None,
                        f"group {g.id} is not optional but does not run",
                        group=g.id,
                        lacking=True,
                    )
                continue
            if len(meetings) != g.meetings_per_week:
                self.bad(
                    "4",
                    None,
                    f"group {g.id} meets {len(meetings)} times, not {g.meetings_per_week}",
                    group=g.id,
                )
            days = [s.day for s in meetings]
            if len(set(days)) != len(days):
                self.bad("4", None, f"group {g.id} meets twice on one day", group=g.id)
            cohorts = {frozenset(s.participants) for s in meetings}
            if len(cohorts) > 1:
                self.bad(
                    "4",
                    None,
                    f"group {g.id} does not keep the same cohort every meeting",
                    group=g.id,
                )
            for s in meetings:
                n = len(set(s.participants))
                if not g.min_size <= n <= g.max_size:
                    self.bad(
                        "4",
                        s.id,
                        f"group {g.id} has {n} members, allowed {g.min_size}..{g.max_size}",
                    )
                if g.facilitators is not None and s.therapist not in g.facilitators:
                    self.bad("4", s.id, f"{s.therapist} is not a facilitator of {g.id}")
                for pid in s.participants:
                    p = inst.participant_by_id.get(pid)
                    if p is None:
                        continue
                    tags = set(p.tags)
                    if not set(g.tags_required) <= tags or tags & set(g.tags_excluded):
                        self.bad("4", s.id, f"{pid}'s tags do not allow group {g.id}")
                members = sorted(set(s.participants))
                for i, a in enumerate(members):
                    for b in members[i + 1 :]:
                        if frozenset((a, b)) in avoid:
                            self.bad("4", s.id, f"{a} and {b} must not share a group")
            if g.fixed_times is not None:
                want = sorted((ft.day, ft.start) for ft in g.fixed_times)
                got = sorted((s.day, s.start) for s in meetings)
                if want != got:
                    self.bad(
                        "4", None, f"group {g.id} does not meet at its fixed times", group=g.id
                    )
        for gid in by_group:
            if gid not in inst.group_by_id:
                self.bad("4", None, f"sessions name unknown group {gid!r}", group=gid)

    # ------------------------------------------------ therapists and people
    def therapist_hours(self) -> None:
        week: dict[str, int] = defaultdict(int)
        day: dict[tuple[str, str], int] = defaultdict(int)
        for s in self.sol.sessions:
            span = self.spans.get(s.id)
            if span is not None:
                week[s.therapist] += span[1] - span[0]
                day[(s.therapist, s.day)] += span[1] - span[0]
        for t in self.inst.therapists:
            if week[t.id] > minutes_of(t.max_hours_per_week):
                self.bad(
                    "3",
                    None,
                    f"therapist {t.id} works {week[t.id] / 60:g} h, cap {t.max_hours_per_week:g}",
                    therapist=t.id,
                )
            if t.max_hours_per_day is not None:
                for d in DAYS:
                    if day[(t.id, d)] > minutes_of(t.max_hours_per_day):
                        self.bad(
                            "3",
                            None,
                            f"therapist {t.id} works {day[(t.id, d)] / 60:g} h on {d}, "
                            f"cap {t.max_hours_per_day:g}",
                            therapist=t.id,
                            day=d,
                        )

    def participant_limits(self, tally: dict[str, _Tally]) -> None:
        for p in self.inst.participants:
            t = tally[p.id]
            if t.total > minutes_of(p.plan.max_hours):
                self.bad(
                    "5",
                    None,
                    f"{p.id} gets {t.total / 60:g} h, max {p.plan.max_hours:g}",
                    participant=p.id,
                )
            if p.max_days is not None and len(t.per_day) > p.max_days:
                self.bad(
                    "5",
                    None,
                    f"{p.id} attends {len(t.per_day)} days, max {p.max_days}",
                    participant=p.id,
                )
            for d, minutes in t.per_day.items():
                if p.max_hours_per_day is not None and minutes > minutes_of(p.max_hours_per_day):
                    self.bad(
                        "5",
                        None,
                        f"{p.id} gets {minutes / 60:g} h on {d}, max {p.max_hours_per_day:g}",
                        participant=p.id,
                        day=d,
                    )
                if p.min_hours_per_day and minutes < minutes_of(p.min_hours_per_day):
                    self.bad(
                        "5",
                        None,
                        f"{p.id} gets {minutes / 60:g} h on {d}, min {p.min_hours_per_day:g}",
                        participant=p.id,
                        day=d,
                        lacking=True,
                    )
            for kind in ("individual", "family"):
                spec = getattr(p.plan, kind)
                allowed = spec.sessions if spec else 0
                if t.count[kind] > allowed:
                    self.bad(
                        "5",
                        None,
                        f"{p.id} has {t.count[kind]} {kind} sessions, plan asks {allowed}",
                        participant=p.id,
                    )

    def pins(self) -> None:
        for i, pin in enumerate(self.inst.pins):
            if not any(
                (pin.kind is None or s.kind == pin.kind)
                and (pin.group is None or s.group == pin.group)
                and (pin.participant is None or pin.participant in s.participants)
                and (pin.therapist is None or s.therapist == pin.therapist)
                and (pin.day is None or s.day == pin.day)
                and (pin.start is None or s.start == pin.start)
                for s in self.sol.sessions
            ):
                self.bad("6", None, f"pin {i} is not kept", pin=i, lacking=True)


@dataclass
class _Tally:
    total: int = 0
    by_kind: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    count: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    per_day: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    outside_preferred: int = 0


def _tally(inst: Instance, sessions: list[Session], spans: dict[str, tuple[int, int]]):
    out: dict[str, _Tally] = defaultdict(_Tally)
    for s in sessions:
        span = spans.get(s.id) or _span(s)
        if span is None:
            continue
        minutes = span[1] - span[0]
        for pid in set(s.participants):
            t = out[pid]
            t.total += minutes
            t.by_kind[s.kind] += minutes
            t.count[s.kind] += 1
            t.per_day[s.day] += minutes
            p = inst.participant_by_id.get(pid)
            if p is not None and p.preferred:
                t.outside_preferred += minutes_outside(windows_union(p.preferred), *span)
    return out


def _unmet(p: Participant, t: _Tally) -> list[UnmetRow]:
    rows = []
    plan = p.plan
    for req, minutes in (
        ("min_hours", t.total),
        ("group_hours", t.by_kind["group"]),
        ("education_hours", t.by_kind["education"]),
    ):
        hours = getattr(plan, req)
        if hours and minutes < minutes_of(hours):
            rows.append(
                UnmetRow(
                    participant=p.id,
                    requirement=req,  # type: ignore[arg-type]
                    required=round(minutes_of(hours) / 60, 4),
                    scheduled=round(minutes / 60, 4),
                    short=round((minutes_of(hours) - minutes) / 60, 4),
                )
            )
    for kind in ("individual", "family"):
        spec = getattr(plan, kind)
        if spec and t.count[kind] < spec.sessions:
            rows.append(
                UnmetRow(
                    participant=p.id,
                    requirement=kind,  # type: ignore[arg-type]
                    required=spec.sessions,
                    scheduled=t.count[kind],
                    short=spec.sessions - t.count[kind],
                )
            )
    return rows


def recompute_terms(
    inst: Instance, sessions: list[Session], unmet: list[UnmetRow], tally: dict[str, _Tally]
) -> list[CostTerm]:
    """The objective of a schedule, term by term (rule, subject), from the sessions alone."""
    w = Weights.resolve(inst.weights)
    amounts: list[tuple[str, str, int]] = []
    for row in unmet:
        unit = 60 if row.requirement.endswith("hours") else 1
        amounts.append((f"{row.requirement}_short", row.participant, round(row.short * unit)))
    amounts += [
        ("participant_short", pid, 1) for pid in dict.fromkeys(r.participant for r in unmet)
    ]
    for p in inst.participants:
        amounts.append(("attendance_day", p.id, len(tally[p.id].per_day)))
        amounts.append(("outside_preferred", p.id, tally[p.id].outside_preferred))
    leads: dict[str, set[str]] = defaultdict(set)
    load: dict[str, int] = defaultdict(int)
    for s in sessions:
        span = _span(s)
        if s.group is not None:
            leads[s.group].add(s.therapist)
        if span is not None:
            load[s.therapist] += span[1] - span[0]
    amounts += [("facilitator_change", gid, len(t) - 1) for gid, t in leads.items()]
    shares = {
        t.id: 100 * load[t.id] // minutes_of(t.max_hours_per_week)
        for t in inst.therapists
        if minutes_of(t.max_hours_per_week) > 0
    }
    if shares:
        busiest = max(shares, key=lambda tid: shares[tid])  # the first of equals
        amounts.append(("therapist_peak_load", busiest, shares[busiest]))
    if inst.previous is not None:
        now = {(s.group, pid) for s in sessions for pid in s.participants}
        before = {
            (s.group, pid)
            for s in inst.previous.sessions
            if s.group in inst.group_by_id
            for pid in s.participants
            if pid in inst.participant_by_id
        }
        lost: dict[str, int] = defaultdict(int)
        for _, pid in before - now:
            lost[pid] += 1
        amounts += [("left_previous_group", pid, n) for pid, n in sorted(lost.items())]
    out = []
    for rule, subject, amount in amounts:
        weight = getattr(w, rule)
        if amount and weight:
            out.append(
                CostTerm(
                    rule=rule, subject=subject, amount=amount, weight=weight, cost=amount * weight
                )
            )
    return out


def cost_by_rule(terms: list[CostTerm]) -> dict[str, int]:
    """Cost terms added up by rule."""
    out: dict[str, int] = {}
    for term in terms:
        out[term.rule] = out.get(term.rule, 0) + term.cost
    return out


def _compare_unmet(check: _Checker, claimed: list[UnmetRow], actual: list[UnmetRow]) -> None:
    key = lambda r: (r.participant, r.requirement)  # noqa: E731
    got = {key(r): r for r in claimed}
    want = {key(r): r for r in actual}
    for k in sorted(set(got) | set(want)):
        a, b = got.get(k), want.get(k)
        if a is None:
            check.bad("unmet", None, f"{k[0]} {k[1]} is short {b.short:g} but not listed")
        elif b is None:
            check.bad("unmet", None, f"{k[0]} {k[1]} is listed short but the sessions meet it")
        elif any(
            abs(getattr(a, f) - getattr(b, f)) > 0.01 for f in ("required", "scheduled", "short")
        ):
            check.bad(
                "unmet",
                None,
                f"{k[0]} {k[1]}: listed {a.scheduled:g}/{a.required:g}, sessions give "
                f"{b.scheduled:g}/{b.required:g}",
            )


def assess(instance: Instance, sessions: list[Session]) -> tuple[list[UnmetRow], list[CostTerm]]:
    """Unmet rows and the cost terms that these sessions give (rules not checked)."""
    spans = {s.id: span for s in sessions if (span := _span(s)) is not None}
    tally = _tally(instance, sessions, spans)
    unmet = [row for p in instance.participants for row in _unmet(p, tally[p.id])]
    return unmet, recompute_terms(instance, sessions, unmet, tally)


def validate(instance: Instance, solution: Solution) -> ValidationReport:
    """Check every hard rule; recompute unmet rows and objective from the sessions."""
    check = _Checker(instance, solution)
    ids = [s.id for s in solution.sessions]
    if len(set(ids)) != len(ids):
        check.bad("ids", None, "session ids are not unique")
    if not solution.status.has_schedule and solution.sessions:
        check.bad("status", None, f"status {solution.status.value} but sessions are listed")
    for s in solution.sessions:
        check.session_basics(s)
    check.no_double_booking()
    check.group_rules()
    check.therapist_hours()
    tally = _tally(instance, solution.sessions, check.spans)
    check.participant_limits(tally)
    if solution.status.has_schedule:
        check.pins()
    unmet = [row for p in instance.participants for row in _unmet(p, tally[p.id])]
    _compare_unmet(check, solution.unmet, unmet)
    terms = recompute_terms(instance, solution.sessions, unmet, tally)
    by_rule = cost_by_rule(terms)
    objective = sum(by_rule.values()) if solution.status.has_schedule else None
    claimed = solution.objective
    if objective is not None and claimed is not None and abs(claimed - objective) > 0.5:
        check.bad(
            "objective", None, f"reported {solution.objective:g}, the sessions give {objective}"
        )
    return ValidationReport(check.out, unmet, objective, by_rule, terms)
