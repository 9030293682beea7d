"""Large neighbourhood search: re-solve a part of the week, keep the rest as it is.

Each round frees a few groups (their times, staff, rooms and cohorts) and a
few participants (their memberships and 1:1 sessions), fixes every other
decision to the best schedule so far, and lets CP-SAT re-solve that part
exactly.  The parts are chosen the way the week is coupled: people left short
with the groups they could join, groups that share people, the sessions of one
therapist, the sessions of one day, one group with everyone who may join it.
The number of freed groups grows while rounds are solved to optimality and
shrinks while they time out.  Which kind of part comes next is drawn in
proportion to what each kind has been gaining per second of search lately (an
adaptive large neighbourhood search), so the kinds that pay on this week get
the time, while every kind keeps a share.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from ortools.sat.python import cp_model

from iopsched.model.context import Ctx
from iopsched.model.hints import Value, schedule_values
from iopsched.solution import Session
from iopsched.timegrid import DAYS


@dataclass(frozen=True)
class Neighbourhood:
    """What one round may change."""

    kind: str
    groups: frozenset[str]
    participants: frozenset[str]


class Neighbourhoods:
    """Chooses the part of the week to re-solve."""

    KINDS = ("unmet", "block", "related", "therapist", "day", "cohort")
    NEED_SHORT = frozenset({"unmet", "block"})  # kinds that start from people left short

    REACTION = 0.3  # weight of the latest round in a kind's running gain rate
    FLOOR = 0.1  # every kind keeps this share of the best kind's rate

    def __init__(self, ctx: Ctx, seed: int, adaptive: bool = True):
        self.rng = random.Random(seed)
        self.adaptive = adaptive
        self.rate: dict[str, float | None] = dict.fromkeys(self.KINDS)  # gain per second
        self.eligible = {gid: set(gv.members) for gid, gv in ctx.vars.groups.items()}
        self.groups_of: dict[str, set[str]] = defaultdict(set)
        for gid, people in self.eligible.items():
            for pid in people:
                self.groups_of[pid].add(gid)
        self.therapists = [t.id for t in ctx.instance.therapists]
        self.groups = sorted(self.eligible)

    def choose_kind(self, short: set[str]) -> str:
        """The kind of part to free next: untried kinds first, then by their recent gain rate."""
        kinds = [k for k in self.KINDS if short or k not in self.NEED_SHORT]
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

    def pick(self, sessions: list[Session], short: set[str], size: int) -> Neighbourhood:
        kind = self.choose_kind(short)
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
            tid = rng.choice(self.therapists)
            led = sorted({s.group for s in sessions if s.group and s.therapist == tid})
            groups = set(rng.sample(led, min(len(led), size)))
            seen = sorted(
                {s.participants[0] for s in sessions if not s.group and s.therapist == tid}
            )
            people = set(rng.sample(seen, min(len(seen), 2 * size)))
        else:
            day = rng.choice(DAYS)
            held = sorted({s.group for s in sessions if s.group and s.day == day})
            groups = set(rng.sample(held, min(len(held), size)))
            seen = sorted({s.participants[0] for s in sessions if not s.group and s.day == day})
            people = set(rng.sample(seen, min(len(seen), 2 * size)))
        for g in sorted(groups):  # the people of a freed group, and a few who could fill it
            people |= members[g]
            waiting = sorted(self.eligible[g] & short - people)
            people |= set(rng.sample(waiting, min(len(waiting), size)))
        return Neighbourhood(kind, frozenset(groups), frozenset(people))


def restricted_model(ctx: Ctx, sessions: list[Session], part: Neighbourhood) -> cp_model.CpModel:
    """The week's model with every decision outside ``part`` fixed to its value in ``sessions``."""
    return fixed_except(
        ctx,
        sessions,
        lambda v: v.group in part.groups or v.participant in part.participants,
    )


def fixed_except(
    ctx: Ctx, sessions: list[Session], free: Callable[[Value], bool]
) -> cp_model.CpModel:
    """The week's model with every decision not ``free`` fixed to its value in ``sessions``;
    the free ones are hinted with it."""
    model = ctx.model.clone()
    model.clear_hints()
    proto = model.proto
    for v in schedule_values(ctx, sessions):
        if free(v):
            model.add_hint(v.var, v.value)
        else:
            dom = proto.variables[v.var.index].domain
            dom.clear()
            dom.extend([v.value, v.value])
    return model
