"""Large weeks: fewer candidates per decision, chosen around the first-fit schedule.

A big program runs many identical copies of a group (su-process-1 ...
su-process-32) and employs dozens of therapists.  Letting everyone join any
copy, and any therapist lead any session, makes the model grow with people x
copies and sessions x therapists: quadratically with program size.
Coordinators do not think that way either: a person is offered the copies that
meet when they can come, and a session goes to one of a few clinicians.

* :func:`copy_choices` keeps, for each participant and each family of
  identical groups with more than ``copies`` members, the copies the first fit
  put them in, then the copies whose first-fit times they can make, then others
  spread evenly, up to ``copies`` in all.
* :func:`therapist_choices` keeps, for each group and each participant's
  individual or family sessions with more than ``therapists`` possible leads,
  the ones the first fit used, then the least booked in it, spread evenly.

This is a restriction, not a relaxation: the solver's bound on the limited
model is not a bound for the week, so ``solve()`` then reports none beyond 0
and never calls a schedule optimal.  The first-fit schedule always stays
inside the limits, so the limited week always has a schedule.
"""

from __future__ import annotations

from collections import Counter, defaultdict

from iopsched.instance import Instance
from iopsched.model.grid import (
    Candidates,
    Limits,
    eligible_for_group,
    interchangeable_groups,
    one_to_one_key,
)
from iopsched.solution import Session
from iopsched.timegrid import spans_cover, week_minute


def limits_for(
    instance: Instance, copies: int | None, therapists: int | None, guide: list[Session]
) -> Limits:
    """The limits a large week gets around the schedule ``guide`` (None: no limit of that kind)."""
    return Limits(
        members=copy_choices(instance, copies, guide) if copies is not None else {},
        leads=therapist_choices(instance, therapists, guide) if therapists is not None else {},
    )


def _keep(ranked: list[str], used: set[str], k: int) -> list[str]:
    """Everything in ``used``, then the best ranked others, ``k`` in all (or more if used is)."""
    keep = [x for x in ranked if x in used]
    return keep + [x for x in ranked if x not in used][: max(0, k - len(keep))]


def _rotate(items: list[str], i: int, n: int) -> list[str]:
    """``items`` starting at the ``i``-th of ``n`` evenly spaced offsets (spreads choices)."""
    offset = i * len(items) // max(1, n)
    return items[offset:] + items[:offset]


def copy_choices(
    instance: Instance, copies: int, guide: list[Session] | None = None
) -> dict[str, frozenset[str]]:
    """Group id -> the participants allowed to join it, for families with more than ``copies``."""
    cand = Candidates(instance)
    members: dict[str, set[str]] = defaultdict(set)
    times: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for s in guide or []:
        if s.group is not None:
            members[s.group].update(s.participants)
            times[s.group].append((week_minute(s.day, s.start), week_minute(s.day, s.end)))
    allowed: dict[str, set[str]] = {}
    for family in interchangeable_groups(instance):
        if len(family) <= copies:
            continue
        ids = [g.id for g in family]
        for g in ids:
            allowed[g] = set()
        people = [p for p in instance.participants if eligible_for_group(p, family[0])]
        fits: dict[tuple[tuple[tuple[int, int], ...], str], bool] = {}  # people share hours
        for i, p in enumerate(people):
            spans = tuple(cand.participant_spans[p.id])
            for gid in ids:
                if (spans, gid) not in fits:
                    fits[spans, gid] = bool(times[gid]) and all(
                        spans_cover(spans, a, b) for a, b in times[gid]
                    )
            ranked = sorted(_rotate(ids, i, len(people)), key=lambda gid: not fits[spans, gid])
            used = {gid for gid in ids if p.id in members[gid]}
            for gid in _keep(ranked, used, copies):
                allowed[gid].add(p.id)
    return {gid: frozenset(people) for gid, people in allowed.items()}


def therapist_choices(
    instance: Instance, therapists: int, guide: list[Session] | None = None
) -> dict[str, frozenset[str]]:
    """Group or 1:1 key -> the therapists allowed to lead it, where more than ``therapists`` may."""
    cand = Candidates(instance)
    used: dict[str, set[str]] = defaultdict(set)
    booked: Counter[str] = Counter()
    for s in guide or []:
        key = s.group if s.group is not None else one_to_one_key(s.participants[0], s.kind)
        used[key].add(s.therapist)
        booked[s.therapist] += 1
    out: dict[str, frozenset[str]] = {}

    def choose(key: str, pool: list[str], i: int, n: int) -> None:
        if len(pool) <= therapists:
            return
        ranked = sorted(_rotate(pool, i, n), key=lambda t: booked[t])
        out[key] = frozenset(_keep(ranked, used[key], therapists))

    groups = instance.groups
    for i, g in enumerate(groups):
        choose(g.id, [t.id for t in cand.facilitators(g)], i, len(groups))
    people = instance.participants
    for i, p in enumerate(people):
        for kind in ("individual", "family"):
            if getattr(p.plan, kind) is not None:
                pool = [t.id for t in cand.one_to_one_therapists(p, kind)]
                choose(one_to_one_key(p.id, kind), pool, i, len(people))
    return out
