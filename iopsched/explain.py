"""Why a plan is not met: one computed reason per unmet row, in the coordinator's words.

For each participant left short, their week is first solved *alone* (everyone
else removed, groups allowed to run with them only, rooms and pins relaxed).
What they cannot get even then is down to their own data, and the reason says
which part: availability inside program hours, no group that accepts them,
group times they cannot make, no therapist free when they (or their family)
are, or their own limits.  What they could get alone but not in the schedule is
down to other people, and the reason names what is taken: full groups at their
times (with the meeting times of one more group that would serve the most
people waiting), a therapist booked or at their cap, no free room.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict

from iopsched.greedy import Greedy
from iopsched.instance import Group, Instance, Participant, minutes_of
from iopsched.model.grid import eligible_for_group
from iopsched.solution import Session, Solution, UnmetRow
from iopsched.timegrid import DAYS, MINUTES_PER_DAY, format_hhmm, parse_hhmm

PLAN_ONLY = {
    "attendance_day": 0,
    "facilitator_change": 0,
    "therapist_peak_load": 0,
    "outside_preferred": 0,
    "left_previous_group": 0,
}
KIND_OF = {"group_hours": "group", "education_hours": "education"}


class Reason(BaseModel):
    """Why one plan requirement of one participant is not met."""

    model_config = ConfigDict(frozen=True)

    participant: str
    requirement: str
    kind: str  # see REASON_KINDS
    text: str


REASON_KINDS = {
    "availability": "their availability inside program hours is below the plan",
    "no_group": "no group of that kind accepts them (tags, site)",
    "group_times": "the groups open to them meet when they are not available",
    "no_therapist": "no therapist for that session is available when they (or family) are",
    "own_limits": "their own limits (max hours, days, hours per day) leave it short",
    "groups_taken": "the groups open to them are full, clash, keep them out by a rule, or idle",
    "therapist_busy": "the therapist is booked or at their cap whenever they are free",
    "no_room": "no room seating them is free when they and a therapist are",
    "trade_off": "servable alone, but only by taking a place someone else has",
}


def alone(instance: Instance, p: Participant, weights: dict[str, int] | None = None) -> Instance:
    """The participant's week with nobody else: groups may run with them alone, online;
    1:1 sessions may be online; no pins, no last week.

    Every schedule, seen from this person, is a schedule of this week, so what they
    cannot get here they cannot get in any schedule.
    """
    groups = [
        g.model_copy(update={"min_size": 1, "optional": True, "virtual": True, "site": None})
        for g in instance.groups
        if eligible_for_group(p, g)
    ]
    person = p.model_copy(update={"avoid": [], "telehealth": True})
    relaxed = instance.model_copy(
        update={
            "participants": [person],
            "groups": groups,
            "rooms": [],
            "pins": [],
            "previous": None,
            "weights": dict(instance.weights) | (weights if weights is not None else PLAN_ONLY),
        }
    )
    return Instance.model_validate(relaxed.model_dump())


def _hours(minutes: int) -> str:
    return f"{minutes / 60:g} h"


def _when(starts: list[int]) -> str:
    parts = [
        f"{DAYS[t // MINUTES_PER_DAY].capitalize()} {format_hhmm(t % MINUTES_PER_DAY)}"
        for t in starts
    ]
    return ", ".join(parts)


@dataclass
class _Explainer:
    inst: Instance
    sol: Solution
    seconds: float

    def __post_init__(self) -> None:
        self.week = Greedy(self.inst)  # the schedule's bookings, to see what is free
        self.week.load(self.sol.sessions)
        self.cand = self.week.cand
        self.short = {row.participant for row in self.sol.unmet}

    # ------------------------------------------------------------------ own data
    def available(self, p: Participant) -> int:
        return sum(b - a for a, b in self.cand.participant_spans[p.id])

    def own(self, p: Participant, row: UnmetRow, got: float) -> Reason:
        """A requirement they cannot meet even alone."""
        pid, req = p.id, row.requirement

        def say(kind: str, text: str) -> Reason:
            return Reason(participant=pid, requirement=req, kind=kind, text=text)

        free = self.available(p)
        if row.requirement.endswith("hours") and free < minutes_of(row.required):
            return say(
                "availability",
                f"{pid} is available {_hours(free)} inside program hours; "
                f"the plan needs {row.required:g} h",
            )
        kind = KIND_OF.get(req)
        if kind is not None:
            mine = [g for g in self.inst.groups if g.kind == kind and eligible_for_group(p, g)]
            if not mine:
                return say("no_group", f"no {kind} group accepts {pid} (tags {sorted(p.tags)})")
            if not any(self.days_open(p, g) >= g.meetings_per_week for g in mine):
                return say(
                    "group_times",
                    f"the {kind} groups open to {pid} ({', '.join(g.id for g in mine)}) "
                    f"meet on days or at times {pid} is not available",
                )
        if req in ("individual", "family") and not self.one_to_one_starts(p, req):
            whose = f"{pid}'s family" if req == "family" else pid
            if req == "individual" and p.primary_therapist:
                text = f"{pid}'s primary therapist {p.primary_therapist} is never available"
            else:
                text = f"no therapist who does {req} therapy is available"
            return say("no_therapist", f"{text} when {whose} is")
        limits = [
            f"{name} {value:g}"
            for name, value in (
                ("max_hours", p.plan.max_hours),
                ("max_days", p.max_days),
                ("max_hours_per_day", p.max_hours_per_day),
                ("min_hours_per_day", p.min_hours_per_day),
            )
            if value is not None
        ]
        unit = "sessions" if req in ("individual", "family") else "h"
        return say(
            "own_limits",
            f"even with the program to themselves, {pid} gets at most {got:g} of "
            f"{row.required:g} {unit} ({req}) within their availability and limits "
            f"({', '.join(limits)})",
        )

    def days_open(self, p: Participant, g: Group) -> int:
        mine = self.cand.starts(self.cand.participant_spans[p.id], g.duration_minutes)
        grid = self.cand.grid
        return len({grid.day_of(t) for t in self.cand.group_starts(g) if t in mine})

    def one_to_one_starts(self, p: Participant, kind: str) -> list[int]:
        spec = getattr(p.plan, kind)
        own = self.cand.starts(self.cand.one_to_one_spans(p, kind), spec.minutes)
        led: set[int] = set()
        for t in self.cand.one_to_one_therapists(p, kind):
            led |= self.cand.starts(self.cand.therapist_spans[t.id], spec.minutes)
        return sorted(own & led)

    # ---------------------------------------------------------------- competition
    def taken(self, p: Participant, row: UnmetRow) -> Reason:
        """A requirement they could meet alone: what other people hold."""
        if row.requirement in ("individual", "family"):
            return self.one_to_one_taken(p, row)
        return self.groups_taken(p, row)

    def meetings(self, gid: str) -> list[Session]:
        return [s for s in self.sol.sessions if s.group == gid]

    def groups_taken(self, p: Participant, row: UnmetRow) -> Reason:
        pid, kind = p.id, KIND_OF.get(row.requirement)
        mine = [
            g
            for g in self.inst.groups
            if (kind is None or g.kind == kind) and eligible_for_group(p, g)
        ]
        full, blocked, clash, idle = [], [], [], []
        for g in mine:
            held = self.meetings(g.id)
            if not held:
                idle.append(g.id)
                continue
            if pid in held[0].participants:
                continue
            spans = [self.span(s) for s in held]
            size = len(held[0].participants)
            if not all(self.week.participant_free(pid, a, b) for a, b in spans):
                clash.append(g.id)
            elif size >= g.max_size:
                full.append(f"{g.id} {size}/{g.max_size}")
            else:
                blocked.append(f"{g.id} ({self.join_blocker(p, g, held, spans)})")
        parts = []
        if full:
            parts.append(f"full: {', '.join(full)}")
        if blocked:
            parts.append(f"with a place: {', '.join(blocked)}")
        if clash:
            parts.append(f"meet when {pid} is unavailable or busy: {', '.join(clash)}")
        if idle:
            parts.append(f"not running this week: {', '.join(idle)}")
        text = f"{pid} is {row.short:g} h short ({row.requirement}); "
        if not mine:
            text += "no group is open to them, so their hours can come only from 1:1 sessions"
        elif parts:
            text += "the groups open to them: " + "; ".join(parts)
        else:
            text += "they are already in every group open to them that runs"
        extra = self.new_group_hint(p, mine)
        return Reason(
            participant=pid,
            requirement=row.requirement,
            kind="groups_taken" if parts else "trade_off",
            text=text + (f". {extra}" if extra else ""),
        )

    def join_blocker(
        self, p: Participant, g: Group, held: list[Session], spans: list[tuple[int, int]]
    ) -> str:
        """What keeps the participant out of a group with a place, meeting when they are free."""
        members = set(held[0].participants)
        if not self.week.avoided[p.id].isdisjoint(members):
            return "they must be kept apart from a member"
        rooms = self.inst.room_by_id
        small = [
            s.room for s in held if s.room is not None and rooms[s.room].capacity <= len(members)
        ]
        if small:
            return f"its room {small[0]} seats {rooms[small[0]].capacity}"
        book, minutes = self.week.book, g.duration_minutes
        days = {a // MINUTES_PER_DAY for a, _ in spans}
        if book.minutes[p.id] + minutes * len(spans) > minutes_of(p.plan.max_hours):
            return f"it would take them past max_hours {p.plan.max_hours:g}"
        if p.max_days is not None and len(book.days[p.id] | days) > p.max_days:
            return f"it would take them past max_days {p.max_days}"
        if p.max_hours_per_day is not None and any(
            book.day_minutes[(p.id, d)] + minutes > minutes_of(p.max_hours_per_day) for d in days
        ):
            return f"it would take a day past max_hours_per_day {p.max_hours_per_day:g}"
        floor = minutes_of(p.min_hours_per_day or 0)
        if any(0 < book.day_minutes[(p.id, d)] + minutes < floor for d in days):
            return f"a day would stay below their min_hours_per_day {p.min_hours_per_day:g}"
        return "nothing in their own rules; the place went unused to keep others served"

    def new_group_hint(self, p: Participant, mine: list[Group]) -> str:
        """One more group like the first open to them: when, and how many it would serve."""
        if not mine:
            return ""
        g = mine[0]
        waiting = [
            q
            for q in self.inst.participants
            if q.id in self.short and eligible_for_group(q, g) and self.week.need(q, g.kind) > 0
        ]
        starts, served = self.week.best_new_times(g, waiting)
        if p.id not in served or len(served) < 1:
            return ""
        return (
            f"One more group like {g.id} at {_when(starts)} would serve {len(served)} "
            f"waiting participant(s)"
        )

    def span(self, s: Session) -> tuple[int, int]:
        day = DAYS.index(s.day) * MINUTES_PER_DAY
        return day + parse_hhmm(s.start), day + parse_hhmm(s.end)

    def one_to_one_taken(self, p: Participant, row: UnmetRow) -> Reason:
        pid, kind = p.id, row.requirement
        spec = getattr(p.plan, kind)
        slot = self.inst.slot_minutes
        free_times = [
            t * slot
            for t in self.one_to_one_starts(p, kind)
            if self.week.book.free(pid, t * slot, t * slot + spec.minutes)
        ]

        def say(k: str, text: str) -> Reason:
            return Reason(participant=pid, requirement=kind, kind=k, text=text)

        if not free_times:
            return say(
                "trade_off",
                f"{pid}'s times for a {kind} session are all taken by their other sessions",
            )
        leads = self.cand.one_to_one_therapists(p, kind)
        with_lead = [
            t
            for t in free_times
            if any(self.week.therapist_ok(x, t, t + spec.minutes) for x in leads)
        ]
        names = ", ".join(x.id for x in leads[:4]) + ("…" if len(leads) > 4 else "")
        if not with_lead:
            capped = [
                x.id
                for x in leads
                if self.week.book.minutes[x.id] + spec.minutes > minutes_of(x.max_hours_per_week)
            ]
            cap = f" ({', '.join(capped)} at the weekly cap)" if capped else ""
            return say(
                "therapist_busy",
                f"{kind} therapist(s) {names} are booked whenever {pid} is free{cap}",
            )
        if not p.telehealth:
            return say(
                "no_room",
                f"no room seating {pid}{' and family' if kind == 'family' else ''} is free "
                f"when {pid} and a therapist are (telehealth not allowed)",
            )
        return say(
            "trade_off",
            f"{pid} could have a {kind} session, but only by moving someone else's; "
            f"the schedule leaves the least unmet overall",
        )

    # ------------------------------------------------------------------------ run
    def participant(self, p: Participant, rows: list[UnmetRow]) -> list[Reason]:
        from iopsched.solver import SolverSettings, solve  # the relaxed week is solved

        settings = SolverSettings(time_limit=self.seconds, workers=1, neighbourhood_search=False)
        relaxed = solve(alone(self.inst, p), settings)
        alone_short = {r.requirement: r for r in relaxed.unmet}
        if not relaxed.status.has_schedule:
            alone_short = {r.requirement: r for r in rows}
        out = []
        for row in rows:
            mine = alone_short.get(row.requirement)
            if mine is not None:
                out.append(self.own(p, row, mine.scheduled))
            else:
                out.append(self.taken(p, row))
        return out


def explain(instance: Instance, solution: Solution, seconds: float = 2.0) -> list[Reason]:
    """A computed reason for every unmet row of ``solution`` (``seconds``: per person alone)."""
    if not solution.status.has_schedule:
        because = (solution.stats.infeasible_because if solution.stats else None) or []
        return [
            Reason(participant="", requirement="", kind="infeasible", text=text) for text in because
        ]
    ex = _Explainer(instance, solution, seconds)
    rows: dict[str, list[UnmetRow]] = {}
    for row in solution.unmet:
        rows.setdefault(row.participant, []).append(row)
    out = []
    for p in instance.participants:
        if p.id in rows:
            out += ex.participant(p, rows[p.id])
    return out
