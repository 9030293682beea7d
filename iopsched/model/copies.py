"""Large weeks: offer each participant a few copies of a repeated group, not all of them.

A big track runs many identical copies of the same group (su-process-1 ...
su-process-32).  Letting everyone join any copy makes the model grow with
people x copies, that is quadratically with program size.  Coordinators do not
think that way either: a person is offered the copies that meet when they can
come.  :func:`copy_choices` keeps, for each participant and each family of
identical groups with more than ``copies`` members, the copies the first-fit
schedule put them in, then the copies whose first-fit times they can make, then
others spread evenly, up to ``copies`` in all.

This is a restriction, not a relaxation: the solver's bound on the restricted
model is not a bound for the week, so ``solve()`` reports none beyond 0 and
never calls such a schedule optimal.
"""

from __future__ import annotations

from collections import defaultdict

from iopsched.instance import Instance
from iopsched.model.grid import Candidates, eligible_for_group, interchangeable_groups
from iopsched.solution import Session
from iopsched.timegrid import DAYS, MINUTES_PER_DAY, parse_hhmm, spans_cover


def copy_choices(
    instance: Instance, copies: int, guide: list[Session] | None = None
) -> dict[str, frozenset[str]]:
    """Group id -> the participants allowed to join it, for families with more than ``copies``.

    Groups not in the map are open to everyone eligible.  Every membership of
    ``guide`` (a schedule to keep reachable, the first-fit one) stays allowed.
    """
    cand = Candidates(instance)
    members: dict[str, set[str]] = defaultdict(set)
    times: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for s in guide or []:
        if s.group is not None:
            members[s.group].update(s.participants)
            day = DAYS.index(s.day) * MINUTES_PER_DAY
            times[s.group].append((day + parse_hhmm(s.start), day + parse_hhmm(s.end)))
    allowed: dict[str, set[str]] = {}
    for family in interchangeable_groups(instance):
        if len(family) <= copies:
            continue
        ids = [g.id for g in family]
        for g in ids:
            allowed[g] = set()
        people = [p for p in instance.participants if eligible_for_group(p, family[0])]
        for i, p in enumerate(people):
            spans = cand.participant_spans[p.id]

            def suits(gid: str, spans=spans) -> bool:
                return bool(times[gid]) and all(spans_cover(spans, a, b) for a, b in times[gid])

            # spread the rest evenly: person i starts its rotation at copy i * len / people
            offset = i * len(ids) // max(1, len(people))
            rotation = ids[offset:] + ids[:offset]
            ranked = sorted(
                rotation,
                key=lambda gid, p=p, suits=suits: (p.id not in members[gid], not suits(gid)),
            )
            keep = [gid for gid in ranked if p.id in members[gid]]
            keep += [gid for gid in ranked if gid not in keep][: max(0, copies - len(keep))]
            for gid in keep:
                allowed[gid].add(p.id)
    return {gid: frozenset(people) for gid, people in allowed.items()}
