"""Large neighbourhood search: re-solve a part of the week, keep the rest as it is.

Each round frees a few groups (their times, staff, rooms and cohorts) and a
few participants (their memberships and 1:1 sessions), fixes every other
decision to the best schedule so far, and lets CP-SAT re-solve that part
exactly.  The parts are chosen the way the week is coupled: people left short
with the groups they could join, a person left short with the groups and 1:1
sessions of a therapist who may lead the 1:1 session they lack, groups that share people,
the sessions of one therapist, the sessions of one day, one group with everyone
who may join it, and who leads what with the group times kept.
The number of freed groups, and the most participants a round may free,
grow while rounds are solved to optimality and shrink while they time out
(the cap only while they also gain nothing).  Past that cap, the people a
part starts from are freed first and a freed group's other members stay in
it as they are, so that one large group (an education group of 31) does not
make every round it touches run out of time.  Which kind of part comes next is drawn in
proportion to what each kind has been gaining per second of search lately (an
adaptive large neighbourhood search), so the kinds that pay on this week get
the time, while every kind keeps a share.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass

from ortools.sat.python import cp_model

from iopsched.model.context import Ctx
from iopsched.model.hints import schedule_values, set_domain
from iopsched.relaxation import track_ids
from iopsched.solution import Session
from iopsched.timegrid import DAYS, merge_spans, window_span


@dataclass(frozen=True)
class Neighbourhood:
    """What one round may change."""

    kind: str
    groups: frozenset[str]
    participants: frozenset[str]
    staffing: bool = False  # also who leads every group meeting, and every 1:1 session


class Neighbourhoods:
    """Chooses the part of the week to re-solve."""

    KINDS = ("unmet", "block", "blocking", "related", "therapist", "day", "cohort", "staffing")
    NEED_SHORT = frozenset({"unmet", "block", "blocking"})  # kinds that start from people short
    NEED_GROUPS = frozenset({"related", "cohort"})  # kinds that start from a group

    REACTION = 0.3  # weight of the latest round in a kind's running gain rate
    FLOOR = 0.1  # every kind keeps this share of the best kind's rate

    def __init__(self, ctx: Ctx, seed: int, adaptive: bool = True, kinds: tuple[str, ...] = KINDS):
        self.rng = random.Random(seed)
        self.adaptive = adaptive
        self.kinds = kinds
        self.rate: dict[str, float | None] = dict.fromkeys(kinds)  # gain per second
        self.eligible = {gid: set(gv.members) for gid, gv in ctx.vars.groups.items()}
        self.groups_of: dict[str, set[str]] = defaultdict(set)
        for gid, people in self.eligible.items():
            for pid in people:
                self.groups_of[pid].add(gid)
        self.therapists = [t.id for t in ctx.instance.therapists]
        self.groups = sorted(self.eligible)
        # who may see each participant one to one, and when, by kind (individual, family)
        self.leads_for: dict[str, dict[str, set[str]]] = {}
        reach: dict[tuple[str, str], list[tuple[int, int]]] = defaultdict(list)
        grid = ctx.grid
        for pid, svs in ctx.vars.one_to_one.items():
            for sv in svs:
                self.leads_for.setdefault(pid, {}).setdefault(sv.kind, set()).update(sv.therapists)
                reach[pid, sv.kind] += [
                    (grid.to_minute(c), grid.to_minute(c + sv.length)) for c in sv.candidates
                ]
        self.reach = {key: merge_spans(spans) for key, spans in reach.items()}
        self.one_to_one_leads = {
            pid: sorted(set().union(*by_kind.values())) for pid, by_kind in self.leads_for.items()
        }

    def choose_kind(self, short: set[str]) -> str:
        """The kind of part to free next: untried kinds first, then by their recent gain rate."""
        kinds = [
            k
            for k in self.kinds
            if (short or k not in self.NEED_SHORT) and (self.groups or k not in self.NEED_GROUPS)
        ]
        untried = [k for k in kinds if self.rate.get(k) is None]
        if not self.adaptive or untried:
            return self.rng.choice(untried or kinds)
        rates = [self.rate[k] or 0.0 for k in kinds]
        floor = self.FLOOR * max(rates) or 1.0  # (all zero: uniform)
        return self.rng.choices(kinds, [r + floor for r in rates])[0]

    def learn(self, kind: str, gain: float, seconds: float) -> None:
        """Record what a round of ``kind`` gained in ``seconds`` of search."""
        now = gain / max(seconds, 0.01)
        old = self.rate.get(kind)
        self.rate[kind] = now if old is None else (1 - self.REACTION) * old + self.REACTION * now

    def pick(
        self,
        sessions: list[Session],
        short: set[str],
        size: int,
        cap: int | None = None,
        lacking: Mapping[str, Collection[str]] | None = None,
    ) -> Neighbourhood:
        """A part of ``kind`` chosen adaptively, freeing about ``size`` groups and, when
        ``cap`` is set, at most ``cap`` participants (those it starts from first).
        ``lacking`` names, for people short, the requirements they are short of."""
        kind = self.choose_kind(short)
        if kind == "staffing":  # group times and cohorts stay; staff and 1:1 sessions move
            return Neighbourhood(kind, frozenset(), frozenset(), staffing=True)
        members: dict[str, set[str]] = defaultdict(set)
        for s in sessions:
            if s.group is not None:
                members[s.group].update(s.participants)
        groups: set[str] = set()
        people: set[str] = set()
        rng = self.rng
        if kind == "unmet":
            people = set(rng.sample(sorted(short), min(len(short), 2 * size)))
            options = sorted({g for p in people for g in self.groups_of[p]})
            groups = set(rng.sample(options, min(len(options), size)))
        elif kind == "block":  # one person short, and a block of groups they could attend
            person = rng.choice(sorted(short))
            people = {person}
            options = sorted(self.groups_of[person])
            if options:
                first = rng.choice(options)
                partner = sorted(
                    (g for g in options if g != first),
                    key=lambda g: (-len(members[g] & members[first]), rng.random()),
                )
                groups = {first, *partner[: max(1, size - 1)]}
        elif kind == "blocking":  # one person short, and what one of their 1:1 therapists does
            seen_by = {p: self.one_to_one_leads.get(p) for p in sorted(short)}
            person = rng.choice([p for p, leads in seen_by.items() if leads] or sorted(short))
            needs = sorted((lacking or {}).get(person, ()))
            by_kind = self.leads_for.get(person, {})
            aimed = sorted({t for k in needs for t in by_kind.get(k, ())})
            tid = rng.choice(aimed or seen_by[person] or self.therapists)
            # what they do at the times the lacking session could be held goes first
            near = merge_spans(
                span for k in needs if tid in by_kind.get(k, ()) for span in self.reach[person, k]
            )
            groups, people = self._of_therapist(sessions, tid, size, near, person)
            people.add(person)
        elif kind == "related":
            seed = rng.choice(self.groups)
            near = sorted(
                (g for g in self.groups if g != seed),
                key=lambda g: (-len(self.eligible[g] & self.eligible[seed]), rng.random()),
            )
            groups = {seed, *near[: size - 1]}
        elif kind == "cohort":  # a group re-timed, and everyone who may join it free to move
            seed = rng.choice(self.groups)
            groups = {seed}
            people = set(self.eligible[seed])
        elif kind == "therapist":
            groups, people = self._of_therapist(sessions, rng.choice(self.therapists), size)
        else:
            day = rng.choice(DAYS)
            held = sorted({s.group for s in sessions if s.group and s.day == day})
            groups = set(rng.sample(held, min(len(held), size)))
            seen = sorted({s.participants[0] for s in sessions if not s.group and s.day == day})
            people = set(rng.sample(seen, min(len(seen), 2 * size)))
        core = sorted(people)
        for g in sorted(groups):  # the people of a freed group, and a few who could fill it
            people |= members[g]
            waiting = sorted(self.eligible[g] & short - people)
            people |= set(rng.sample(waiting, min(len(waiting), size)))
        if cap is not None and len(people) > cap:  # the others stay where they are
            rest = sorted(people - set(core))
            if len(core) >= cap:
                people = set(rng.sample(core, cap))
            else:
                people = set(core) | set(rng.sample(rest, cap - len(core)))
        return Neighbourhood(kind, frozenset(groups), frozenset(people))

    def _of_therapist(
        self,
        sessions: list[Session],
        tid: str,
        size: int,
        near: Sequence[tuple[int, int]] = (),
        person: str | None = None,
    ) -> tuple[set[str], set[str]]:
        """About ``size`` of the groups therapist ``tid`` leads, and twice as many of the
        people they see one to one.  Given ``near`` (week minutes), the sessions that
        overlap it go first: theirs, and the groups ``person`` attends then."""
        own = [s for s in sessions if s.therapist == tid]
        led = sorted({s.group for s in own if s.group})
        seen = sorted({s.participants[0] for s in own if not s.group})
        if not near:
            groups = set(self.rng.sample(led, min(len(led), size)))
            return groups, set(self.rng.sample(seen, min(len(seen), 2 * size)))
        hit = [s for s in own if _overlaps(s, near)]
        theirs = [
            s for s in sessions if s.group and person in s.participants and _overlaps(s, near)
        ]
        hit_groups = {s.group for s in hit + theirs if s.group}
        groups = self._sample_first(sorted(hit_groups), led, size)
        seen_near = sorted({s.participants[0] for s in hit if not s.group})
        return groups, self._sample_first(seen_near, seen, 2 * size)

    def _sample_first(self, first: list[str], pool: list[str], k: int) -> set[str]:
        """``k`` of ``pool`` drawn at random, those in ``first`` before the others."""
        chosen = self.rng.sample(first, min(len(first), k))
        rest = sorted(set(pool) - set(first))
        return set(chosen) | set(self.rng.sample(rest, min(len(rest), k - len(chosen))))


def _overlaps(session: Session, spans: Sequence[tuple[int, int]]) -> bool:
    """Whether ``session`` overlaps any of ``spans`` (minutes of the week)."""
    start, end = window_span(session)
    return any(a < end and start < b for a, b in spans)


def track_parts(ctx: Ctx) -> list[Neighbourhood]:
    """Each track of the week (people linked by the groups open to them,
    :func:`iopsched.relaxation.track_ids`) as a part: its people and the groups they may join."""
    out = []
    for ids in track_ids(ctx.instance):
        people = frozenset(ids)
        groups = frozenset(
            gid for gid, gv in ctx.vars.groups.items() if not people.isdisjoint(gv.members)
        )
        out.append(Neighbourhood("track", groups, people))
    return out


def by_site(ctx: Ctx, part: Neighbourhood, most: int) -> list[Neighbourhood]:
    """``part`` cut into its people of each site (with the groups open to them) when it has
    more than ``most`` people; else ``part`` as it is."""
    if len(part.participants) <= most:
        return [part]
    sites: dict[str | None, set[str]] = defaultdict(set)
    for pid in sorted(part.participants):
        sites[ctx.instance.participant_by_id[pid].site].add(pid)
    out = []
    for _, ids in sorted(sites.items(), key=lambda kv: kv[0] or ""):
        groups = frozenset(g for g in part.groups if not ids.isdisjoint(ctx.vars.groups[g].members))
        out.append(Neighbourhood(part.kind, groups, frozenset(ids)))
    return out


def group_leads(ctx: Ctx) -> list[int]:
    """The literals of who leads each group meeting (a staffing part frees them, with every
    1:1 session)."""
    return [
        lit.index
        for gv in ctx.vars.groups.values()
        for sv in gv.meetings
        for lit in sv.therapists.values()
    ]


def restricted_model(ctx: Ctx, sessions: list[Session], part: Neighbourhood) -> cp_model.CpModel:
    """The week's model with every decision outside ``part`` fixed to its value in ``sessions``."""
    return RoundModels(ctx).model(sessions, part)


class RoundModels:
    """The models of neighbourhood rounds: the week fixed to the best schedule, a part freed.

    Fixing every decision of a large week to a schedule is most of the Python work of
    a round (on the 800-person week a round took 0.73 s to prepare), so it is done
    once per schedule: each round clones the fixed week and frees only its part
    (0.15 s), and a round whose schedule is kept re-fixes only that part, to the
    values CP-SAT found.
    """

    def __init__(self, ctx: Ctx):
        self.ctx = ctx
        self.sessions: list[Session] | None = None  # the schedule the week is fixed to
        self.fixed = cp_model.CpModel()
        self.value: dict[int, int] = {}  # decision variable (index) -> value in that schedule
        self.var: dict[int, cp_model.IntVar] = {}
        self.of_group: dict[str, list[int]] = defaultdict(list)
        self.of_person: dict[str, list[int]] = defaultdict(list)
        # every variable's value in that schedule, derived ones included, once a round has
        # found it (a complete hint is CP-SAT's first solution as soon as it has presolved)
        self.every: list[int] | None = None
        self.one_to_one: list[int] = []  # the 1:1 sessions' decisions in that schedule
        self._leads: list[int] | None = None  # group_leads, once a staffing part needs them

    def model(self, sessions: list[Session], part: Neighbourhood) -> cp_model.CpModel:
        """The week fixed to ``sessions`` except ``part``, whose decisions are hinted with it
        (and every other variable too, once a round has given their values)."""
        if sessions is not self.sessions:
            self.fix_to(sessions)
        model = self.fixed.clone()
        proto, week = model.proto, self.ctx.model.proto
        freed = self._freed(part)
        for i in freed:
            set_domain(proto, i, week.variables[i].domain)
        hint = proto.solution_hint
        if self.every is not None:
            hint.vars.extend(range(len(self.every)))
            hint.values.extend(self.every)
        else:
            hint.vars.extend(freed)
            hint.values.extend(self.value[i] for i in freed)
        return model

    def keep(
        self,
        sessions: list[Session],
        part: Neighbourhood,
        value: Callable[[cp_model.IntVar], int],
        every: list[int] | None = None,
    ) -> None:
        """A round's schedule is the new best: fix its part to the values CP-SAT found
        (``every``: the round's whole solution, one value per variable of the week)."""
        proto = self.fixed.proto
        for i in self._freed(part):
            self.value[i] = int(value(self.var[i]))
            set_domain(proto, i, [self.value[i], self.value[i]])
        self.sessions = sessions
        self.every = every

    def _freed(self, part: Neighbourhood) -> list[int]:
        freed = {i for g in part.groups for i in self.of_group.get(g, ())}
        freed.update(i for p in part.participants for i in self.of_person.get(p, ()))
        if part.staffing:
            if self._leads is None:
                self._leads = group_leads(self.ctx)
            freed.update(self._leads)
            freed.update(self.one_to_one)
        return sorted(freed)

    def fix_to(self, sessions: list[Session], every: list[int] | None = None) -> None:
        """Fix the week to ``sessions`` (``every``: each variable's value in it, if known)."""
        self.sessions = sessions
        self.every = every
        self.fixed = self.ctx.model.clone()
        self.fixed.clear_hints()
        proto = self.fixed.proto
        self.value.clear()
        self.var.clear()
        self.of_group.clear()
        self.of_person.clear()
        self.one_to_one.clear()
        for v in schedule_values(self.ctx, sessions):
            i = v.var.index
            self.value[i] = v.value
            self.var[i] = v.var
            set_domain(proto, i, [v.value, v.value])
            if v.group is not None:
                self.of_group[v.group].append(i)
            else:  # a decision of a 1:1 session
                self.one_to_one.append(i)
            if v.participant is not None:
                self.of_person[v.participant].append(i)
