"""Whole week or track by track, with staff and rooms out of the way.

    python benchmarks/relaxed_tracks.py instances/evening-weekend-80.json --seconds 60

A diagnosis of the search, not of the week.  The week is relaxed so that its
tracks do not compete in practice: every therapist is tripled and offers
every modality through all program hours with no weekly or daily cap, nobody
needs a particular therapist (no primary therapist, no named facilitators),
every group meets online and every 1:1 session may be online (no rooms), no
pins, and the busiest-therapist term, the one cost shared across tracks, is
weighted 0.  A track is a set of participants and the groups open to them
that shares no group with another set.  The relaxed week's optimum is then
the sum of its tracks' optima, so the sum of what each track's own search
finds (``--seconds`` each) and what the whole relaxed week's search finds in
the same total time can be compared directly: a gap between them is the
search's, not the model's.

On the 80-person example (``--seconds 60``, seeds 0, 1, 2, 2 workers) the
tracks summed to 41,640 / 58,490 / 41,315 (74 / 73 / 73 of 80 fully served)
and the whole relaxed week reached 73,745 / 101,840 / 78,415 (70 / 65 / 67)
in the same 180 s: split by track, the same search does about twice as well.
"""

from __future__ import annotations

import argparse
import time

from iopsched import Instance, SolverSettings, load_instance, solve, validate
from iopsched.model.grid import eligible_for_group

COPIES = 3
EVERY_MODALITY = ["group", "education", "individual", "family"]


def relaxed(instance: Instance) -> Instance:
    """The week with staff tripled, unlimited and interchangeable, everything online, no pins."""
    week_hours = min(168.0, sum(b - a for a, b in (w.span for w in instance.program_hours)) / 60)
    program = list(instance.program_hours)
    therapists = [
        t.model_copy(
            update={
                "id": f"{t.id}-{k}",
                "modalities": EVERY_MODALITY,
                "availability": program,
                "max_hours_per_week": week_hours,
                "max_hours_per_day": None,
                "sites": None,
            }
        ).model_dump()
        for k in range(COPIES)
        for t in instance.therapists
    ]
    groups = [
        g.model_copy(update={"virtual": True, "site": None, "facilitators": None}).model_dump()
        for g in instance.groups
    ]
    people = [
        p.model_copy(update={"telehealth": True, "primary_therapist": None}).model_dump()
        for p in instance.participants
    ]
    data = instance.model_dump() | {
        "therapists": therapists,
        "groups": groups,
        "participants": people,
        "rooms": [],
        "pins": [],
        "previous": None,
        "weights": dict(instance.weights) | {"therapist_peak_load": 0},
    }
    return Instance.model_validate(data)


def tracks(instance: Instance) -> list[Instance]:
    """The week split into sets of participants and groups that share no group."""
    parent = {p.id: p.id for p in instance.participants}

    def root(pid: str) -> str:
        while parent[pid] != pid:
            parent[pid] = parent[parent[pid]]
            pid = parent[pid]
        return pid

    open_to = {
        g.id: [p.id for p in instance.participants if eligible_for_group(p, g)]
        for g in instance.groups
    }
    for people in open_to.values():
        for pid in people[1:]:
            parent[root(pid)] = root(people[0])
    parts: dict[str, list[str]] = {}
    for p in instance.participants:
        parts.setdefault(root(p.id), []).append(p.id)
    out = []
    for ids in parts.values():
        mine = set(ids)
        people = [
            p.model_copy(update={"avoid": [a for a in p.avoid if a in mine]}).model_dump()
            for p in instance.participants
            if p.id in mine
        ]
        groups = [g.model_dump() for g in instance.groups if set(open_to[g.id]) & mine]
        data = instance.model_dump() | {
            "name": f"{instance.name}-{ids[0]}",
            "participants": people,
            "groups": groups,
        }
        out.append(Instance.model_validate(data))
    return out


def run(instance: Instance, seconds: float, seed: int) -> tuple[float, int, float]:
    """Objective, participants fully served, wall seconds."""
    t0 = time.perf_counter()
    sol = solve(instance, SolverSettings(time_limit=seconds, workers=2, seed=seed))
    if sol.objective is None:
        raise SystemExit(f"{instance.name}: no schedule ({sol.status.value})")
    report = validate(instance, sol)
    if not report.ok:
        raise SystemExit(f"{instance.name}: schedule fails validation:\n{report.render()}")
    served = sol.stats.participants_fully_served or 0
    return sol.objective, served, time.perf_counter() - t0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("instance")
    parser.add_argument("--seconds", type=float, default=60.0, help="per track")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    week = relaxed(load_instance(args.instance))
    parts = tracks(week)
    total, served = 0.0, 0
    for part in parts:
        objective, ok, wall = run(part, args.seconds, args.seed)
        total, served = total + objective, served + ok
        print(
            f"track of {len(part.participants)} participants, {len(part.groups)} groups: "
            f"objective {objective:.0f}, {ok} fully served ({wall:.0f} s)"
        )
    print(f"tracks solved one by one: objective {total:.0f}, {served} fully served")
    objective, ok, wall = run(week, args.seconds * len(parts), args.seed)
    print(f"whole relaxed week:       objective {objective:.0f}, {ok} fully served ({wall:.0f} s)")


if __name__ == "__main__":
    main()
