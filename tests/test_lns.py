"""Large neighbourhood search: fixing outside a neighbourhood keeps the schedule; rounds improve."""

from __future__ import annotations

import pytest
from ortools.sat.python import cp_model

from iopsched import Instance, solve, validate
from iopsched.bounds import cost_floor
from iopsched.generate import generate
from iopsched.greedy import greedy_schedule
from iopsched.model import extract
from iopsched.model.build import build_model
from iopsched.model.lns import (
    Neighbourhood,
    Neighbourhoods,
    RoundModels,
    by_site,
    restricted_model,
    track_parts,
)
from iopsched.search import bound, rounds, start, window
from iopsched.search.found import Found
from iopsched.search.rounds import MIN_ROUND_PEOPLE, next_size
from iopsched.search.run import configure
from iopsched.search.start import probing_for
from iopsched.settings import SolverSettings
from iopsched.solution import Session
from iopsched.validator import assess


def _solve(model: cp_model.CpModel, seconds: float = 20) -> tuple[int, cp_model.CpSolver]:
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_time_in_seconds = seconds
    return solver.solve(model), solver


def pooled(ctx, sessions):
    """Sessions with each room replaced by its pool (the model decides pools, not rooms)."""
    return [s.model_copy(update={"room": ctx.cand.pool_of.get(s.room)}) for s in sessions]


def first_fit_week():
    """A generated week of 25, its first-fit schedule, model, cost terms and people left short."""
    inst = generate(25, 3)
    sessions = greedy_schedule(inst)
    ctx = build_model(inst)
    unmet, terms = assess(inst, sessions)
    return inst, sessions, ctx, terms, {row.participant for row in unmet}


def test_nothing_freed_gives_back_the_same_schedule():
    inst = generate(25, 3)
    sessions = greedy_schedule(inst)
    ctx = build_model(inst)
    nothing = Neighbourhood("none", frozenset(), frozenset())
    code, solver = _solve(restricted_model(ctx, sessions, nothing))
    assert code == cp_model.OPTIMAL, "the first-fit schedule must satisfy the model"
    assert pooled(ctx, extract.schedule(ctx, solver.value)) == pooled(ctx, sessions)
    _, terms = assess(inst, sessions)
    assert solver.objective_value == sum(t.cost for t in terms)


def test_a_freed_neighbourhood_never_gets_worse_and_changes_only_its_part():
    _, sessions, ctx, terms, short = first_fit_week()
    part = Neighbourhoods(ctx, seed=1).pick(sessions, short, size=2)
    assert part.groups
    code, solver = _solve(restricted_model(ctx, sessions, part))
    assert code in (cp_model.OPTIMAL, cp_model.FEASIBLE)
    assert solver.objective_value <= sum(t.cost for t in terms)
    after = extract.schedule(ctx, solver.value)
    kept = lambda ss: sorted(  # noqa: E731
        (s.day, s.start, s.therapist, s.room or "")
        for s in ss
        if (s.group is not None and s.group not in part.groups)
        or (s.group is None and s.participants[0] not in part.participants)
    )
    assert kept(pooled(ctx, after)) == kept(pooled(ctx, sessions))


def test_neighbourhood_search_improves_on_the_first_fit_and_validates():
    inst = generate(60, 2)
    settings = SolverSettings(  # without the most-served window (tested in test_served)
        time_limit=12, workers=2, whole_week_share=0.25, round_seconds=1, served_first_share=0
    )
    sol = solve(inst, settings)
    assert sol.stats.lns_rounds > 0
    assert sol.objective < sol.stats.first_fit_objective
    report = validate(inst, sol)
    assert report.ok, report.render()
    assert report.objective == sol.objective


@pytest.mark.parametrize("work", [None, 0.01])  # CP-SAT's default probing, and the cut
def test_freeing_one_group_is_never_called_infeasible_with_our_parameters(work):
    """OR-Tools 9.15 with probing off wrongly called 4 of these 9 infeasible."""
    inst = generate(25, 1)
    sessions = greedy_schedule(inst)
    ctx = build_model(inst)
    verdicts = {}
    for gid in sorted(ctx.vars.groups):
        solver = cp_model.CpSolver()
        configure(solver, SolverSettings(workers=1, probing_work=work), seconds=20)
        part = Neighbourhood("group", frozenset({gid}), frozenset())
        verdicts[gid] = solver.status_name(solver.solve(restricted_model(ctx, sessions, part)))
    assert set(verdicts.values()) == {"OPTIMAL"}, verdicts


@pytest.mark.parametrize(
    ("work", "above", "variables", "cut"),
    [
        (0.01, 30000, 54399, 0.01),  # a 200-person week: cut
        (0.01, 30000, 14248, None),  # the 80-person example: CP-SAT's default
        (0.01, None, 100, 0.01),  # cut in every week
        (None, 30000, 54399, None),  # never cut
    ],
)
def test_probing_is_cut_in_large_weeks(work, above, variables, cut):
    settings = SolverSettings(probing_work=work, probing_cut_above=above)
    assert probing_for(settings, variables).probing_work == cut


@pytest.mark.parametrize(("work", "limit"), [(0.01, 0.01), (None, 1.0)])
def test_the_probing_cut_reaches_cp_sat(work, limit):
    solver = cp_model.CpSolver()
    configure(solver, SolverSettings(probing_work=work), seconds=1)
    assert solver.parameters.probing_deterministic_time_limit == limit


@pytest.mark.parametrize(("above", "limits"), [(0, {0.01}), (10**6, {1.0})])
def test_every_search_of_a_large_week_probes_less(monkeypatch, above, limits):
    from iopsched import solver as solver_module

    seen = []

    def recording(solver, settings, seconds, log=True):
        configure(solver, settings, seconds, log)
        seen.append(solver.parameters.probing_deterministic_time_limit)

    for module in (solver_module, bound, rounds, start, window):  # every search is configured
        monkeypatch.setattr(module, "configure", recording)
    settings = SolverSettings(
        time_limit=2, workers=1, probing_cut_above=above, served_first_share=0
    )
    inst = generate(25, 3)
    sol = solve(inst, settings)
    assert seen and set(seen) == limits
    assert validate(inst, sol).ok


@pytest.mark.parametrize("passes", [1, 3])
def test_presolve_passes_reach_cp_sat(passes):
    solver = cp_model.CpSolver()
    configure(solver, SolverSettings(presolve_passes=passes), seconds=1)
    assert solver.parameters.max_presolve_iterations == passes


@pytest.mark.parametrize(
    ("passes", "asked", "on"),
    [(2, True, True), (2, False, False), (1, True, False)],  # one pass: never (test_crash.py)
)
def test_local_search_only_after_more_than_one_presolve_pass(passes, asked, on):
    solver = cp_model.CpSolver()
    configure(solver, SolverSettings(presolve_passes=passes, local_search=asked), seconds=1)
    assert solver.parameters.use_feasibility_jump is on
    if not on:
        assert solver.parameters.num_violation_ls == 0


def test_a_wrong_infeasible_verdict_gets_a_second_opinion(monkeypatch):
    """If CP-SAT's presolve calls a feasible week infeasible, the search without it still runs."""
    from iopsched import solver as solver_module

    real = solver_module.Run.solve
    calls = []

    def first_call_says_infeasible(self, solver, model, *args, **kwargs):
        calls.append(solver.parameters.cp_model_presolve)
        if len(calls) == 1:
            return cp_model.INFEASIBLE
        return real(self, solver, model, *args, **kwargs)

    monkeypatch.setattr(solver_module.Run, "solve", first_call_says_infeasible)
    inst = generate(10, 1)
    settings = SolverSettings(
        time_limit=5, workers=1, warm_start=False, diagnose_seconds=2, relaxation_share=0
    )
    sol = solve(inst, settings)
    assert calls == [True, False], "the second search runs without presolve"
    assert sol.status.has_schedule
    assert validate(inst, sol).ok


def test_a_whole_week_search_that_returns_nothing_is_not_repeated(monkeypatch):
    """When presolve alone outlasts the whole-week window, later windows go to neighbourhoods."""
    from iopsched import solver as solver_module

    real = solver_module.Run.solve
    whole_week_calls = []

    def whole_week_finds_nothing(self, solver, model, callback=None, stalled=None):
        if isinstance(callback, solver_module.Recorder):  # the whole-week search's
            whole_week_calls.append(1)
            return cp_model.UNKNOWN
        return real(self, solver, model, callback, stalled)

    monkeypatch.setattr(solver_module.Run, "solve", whole_week_finds_nothing)
    inst = generate(25, 3)
    settings = SolverSettings(
        time_limit=6, workers=1, stall_share=0.1, round_seconds=0.5, relaxation_share=0
    )
    sol = solve(inst, settings)
    assert whole_week_calls == [1]
    assert sol.stats.lns_rounds > 3
    assert sol.bound == cost_floor(inst)  # nothing proven by the search: the floor
    assert validate(inst, sol).ok


def test_a_cohort_frees_one_group_and_everyone_who_may_join_it():
    _, sessions, ctx, terms, short = first_fit_week()
    hoods = Neighbourhoods(ctx, seed=0)
    part = next(
        p for p in (hoods.pick(sessions, short, 2) for _ in range(200)) if p.kind == "cohort"
    )
    (gid,) = part.groups
    assert part.participants == set(ctx.vars.groups[gid].members)
    code, solver = _solve(restricted_model(ctx, sessions, part))
    assert code in (cp_model.OPTIMAL, cp_model.FEASIBLE)
    assert solver.objective_value <= sum(t.cost for t in terms)


def test_tracks_split_the_week_by_the_groups_open_to_people():
    """Every person is in one track's part, with exactly the groups open to them; a track's
    part re-solved from the first fit never costs more."""
    inst, sessions, ctx, terms, _ = first_fit_week()
    parts = track_parts(ctx)
    assert len(parts) > 1
    people = [pid for part in parts for pid in part.participants]
    assert sorted(people) == sorted(p.id for p in inst.participants)
    for part in parts:
        assert part.kind == "track"
        for gid, gv in ctx.vars.groups.items():
            assert (gid in part.groups) == bool(part.participants & set(gv.members)), gid
    # a group is open to one track only
    assert sum(len(part.groups) for part in parts) == len({g for p in parts for g in p.groups})
    code, solver = _solve(restricted_model(ctx, sessions, parts[0]))
    assert code in (cp_model.OPTIMAL, cp_model.FEASIBLE)
    assert solver.objective_value <= sum(t.cost for t in terms)


def test_a_track_larger_than_the_turn_is_cut_site_by_site():
    """A track of more than ``most`` people becomes its people at each site, each with the
    groups open to them (online groups open to several sites go to each); a track of at most
    ``most`` stays whole.  (generate(40, 1, sites=3) has tracks of 10, 11 and 19 people.)"""
    inst = generate(40, 1, sites=3)
    ctx = build_model(inst)
    for part in track_parts(ctx):
        assert by_site(ctx, part, len(part.participants)) == [part]
        chunks = by_site(ctx, part, len(part.participants) - 1)
        assert sorted(pid for c in chunks for pid in c.participants) == sorted(part.participants)
        assert len(chunks) == len({inst.participant_by_id[p].site for p in part.participants}) > 1
        for chunk in chunks:
            assert len({inst.participant_by_id[p].site for p in chunk.participants}) == 1
            assert chunk.kind == part.kind and chunk.groups <= part.groups
            for gid in part.groups:
                open_to = set(ctx.vars.groups[gid].members)
                assert (gid in chunk.groups) == bool(open_to & chunk.participants), gid


def test_a_capped_part_frees_at_most_the_cap_and_only_people_the_part_would_free():
    _, sessions, ctx, terms, short = first_fit_week()
    trimmed = 0
    for seed in range(60):  # the same seed draws the same part before the cap
        part = Neighbourhoods(ctx, seed=seed).pick(sessions, short, 2, cap=5)
        whole = Neighbourhoods(ctx, seed=seed).pick(sessions, short, 2)
        assert (part.kind, part.groups) == (whole.kind, whole.groups)
        assert len(part.participants) <= 5 and part.participants <= whole.participants
        trimmed += part.participants != whole.participants
    assert trimmed, "no part was larger than the cap: the test would prove nothing"
    part = Neighbourhoods(ctx, seed=0).pick(sessions, short, 3, cap=4)
    code, solver = _solve(restricted_model(ctx, sessions, part))
    assert code in (cp_model.OPTIMAL, cp_model.FEASIBLE)  # the schedule in hand still fits
    assert solver.objective_value <= sum(t.cost for t in terms)


@pytest.mark.parametrize(
    ("settled", "gained", "size", "cap", "after"),
    [
        (True, False, 3, 20, (4, 25)),  # settled: one group more, a fifth more people
        (False, False, 3, 20, (2, 15)),  # out of time: one group fewer, a fifth fewer people
        (False, True, 3, 20, (2, 20)),  # out of time but gaining: as many people
        (True, True, 9, 78, (9, 80)),  # never more groups or people than the week has
        (False, False, 1, 7, (1, MIN_ROUND_PEOPLE)),  # never fewer than one group, a few people
        (True, False, 3, None, (4, None)),  # uncapped stays uncapped
    ],
)
def test_rounds_grow_when_settled_and_shrink_when_out_of_time(settled, gained, size, cap, after):
    assert next_size(settled, gained, size, cap, groups=9, people=80) == after


def test_the_people_cap_reaches_the_rounds(monkeypatch):
    caps, told = [], []
    real = Neighbourhoods.pick

    def recording(self, sessions, short, size, cap=None, lacking=None):
        caps.append(cap)
        told.append(set(short) == set(lacking or ()) and all(lacking.values()))
        return real(self, sessions, short, size, cap, lacking)

    monkeypatch.setattr(Neighbourhoods, "pick", recording)
    settings = SolverSettings(
        time_limit=4, workers=2, round_seconds=0.5, round_people=7, relaxation_share=0
    )
    sol = solve(generate(40, 1), settings)
    assert sol.stats.lns_rounds == len(caps) > 0
    assert caps[0] == 7 and all(c is not None and c >= MIN_ROUND_PEOPLE for c in caps)
    assert all(told)  # and what each person short lacks


def _count_whole_week_searches(monkeypatch) -> list[float]:
    """Record when each whole-week search starts (it reports through the recorder)."""
    import time

    from iopsched import solver as solver_module

    real = solver_module.Run.solve
    starts: list[float] = []

    def recording(self, solver, model, callback=None, stalled=None):
        if isinstance(callback, solver_module.Recorder):  # the whole-week search's
            starts.append(time.monotonic())
        return real(self, solver, model, callback, stalled)

    monkeypatch.setattr(solver_module.Run, "solve", recording)
    return starts


def test_a_large_model_starts_with_neighbourhood_rounds(monkeypatch):
    """Above ``whole_week_first_up_to`` variables the rounds come first; the whole week waits.
    (The most-served window, which would come before the rounds, is tested in test_served.)"""
    starts = _count_whole_week_searches(monkeypatch)
    inst = generate(25, 3)
    settings = SolverSettings(
        time_limit=4,
        workers=1,
        stall_share=1.0,
        round_seconds=0.5,
        whole_week_first_up_to=0,
        served_first_share=0,
    )
    sol = solve(inst, settings)
    assert starts == [], "no round stalled for the whole limit, so no whole-week search"
    assert sol.stats.lns_rounds > 2
    assert validate(inst, sol).ok


def test_a_small_model_starts_with_the_whole_week(monkeypatch):
    starts = _count_whole_week_searches(monkeypatch)
    inst = generate(25, 3)
    settings = SolverSettings(time_limit=4, workers=1, stall_share=1.0, round_seconds=0.5)
    assert solve(inst, settings).stats.variables <= settings.whole_week_first_up_to
    assert len(starts) == 1


def test_rounds_that_stall_hand_over_to_the_whole_week(monkeypatch):
    """A large model still gets its whole-week search once the rounds stop gaining."""
    from iopsched import solver as solver_module

    starts = _count_whole_week_searches(monkeypatch)
    calls = []

    def no_gain(ctx, best, settings, recorder, clock, bound, stall, run, hoods, kept):
        calls.append(len(starts))  # whole-week searches begun before these rounds
        return best, 0

    monkeypatch.setattr(solver_module, "improve", no_gain)
    inst = generate(25, 3)
    settings = SolverSettings(
        time_limit=3, workers=1, whole_week_first_up_to=0, served_first_share=0
    )  # (without the most-served window, which would come first: see test_served)
    sol = solve(inst, settings)
    assert calls[0] == 0, "rounds first"
    assert len(starts) >= 1, "then the whole week"
    assert validate(inst, sol).ok


def test_every_kind_of_part_is_tried_before_any_is_favoured():
    hoods = Neighbourhoods(build_model(generate(10, 1)), seed=4)
    first = []
    for _ in Neighbourhoods.KINDS:
        first.append(hoods.choose_kind({"P0001"}))
        hoods.learn(first[-1], 0.0, 1.0)  # a round of that kind, without gain
    assert sorted(first) == sorted(Neighbourhoods.KINDS)
    without_short = {hoods.choose_kind(set()) for _ in range(50)}
    assert without_short.isdisjoint(Neighbourhoods.NEED_SHORT), "no one short: no such parts"


def test_a_week_without_groups_gets_only_parts_that_need_none():
    """A week of 1:1 sessions alone: no part starts from a group (there is none to draw)."""
    week = generate(10, 1)
    week = week.model_copy(update={"groups": []})
    week = type(week).model_validate(week.model_dump())
    ctx = build_model(week)
    hoods = Neighbourhoods(ctx, seed=1)
    sessions = greedy_schedule(week)
    kinds = {hoods.pick(sessions, {"P0001"}, 2, 5).kind for _ in range(60)}
    assert kinds and kinds.isdisjoint(Neighbourhoods.NEED_GROUPS)


def test_the_kind_that_gains_gets_most_rounds_and_the_others_keep_a_share():
    hoods = Neighbourhoods(build_model(generate(10, 1)), seed=4)
    for kind in Neighbourhoods.KINDS:
        hoods.learn(kind, 3000.0 if kind == "day" else 0.0, 3.0)
    drawn = [hoods.choose_kind({"P0001"}) for _ in range(2000)]
    # rates 1000/s against 0: weights 1100 against 100 for each of the others
    expected = 1100 / (1100 + 100 * (len(Neighbourhoods.KINDS) - 1))
    assert abs(drawn.count("day") / len(drawn) - expected) < 0.05
    assert all(drawn.count(kind) > 60 for kind in Neighbourhoods.KINDS)
    hoods.learn("day", 0.0, 3.0)  # a round without gain lowers the rate, not to zero at once
    assert hoods.rate["day"] == pytest.approx(700.0)


def test_without_adaptation_every_kind_is_drawn_equally_often():
    hoods = Neighbourhoods(build_model(generate(10, 1)), seed=4, adaptive=False)
    for kind in Neighbourhoods.KINDS:
        hoods.learn(kind, 3000.0 if kind == "day" else 0.0, 3.0)
    drawn = [hoods.choose_kind({"P0001"}) for _ in range(2400)]
    each = len(drawn) / len(Neighbourhoods.KINDS)
    assert all(0.8 * each < drawn.count(kind) < 1.2 * each for kind in Neighbourhoods.KINDS)


def test_a_schedule_failing_validation_never_reaches_the_caller(monkeypatch, caplog):
    """Should the model ever hand back a schedule that breaks a rule, the first fit is returned."""

    real = Found.read

    def broken(ctx, value):
        found = real(ctx, value)
        found.sessions.append(found.sessions[0])  # the same session twice: ids not unique
        return found

    monkeypatch.setattr(Found, "read", staticmethod(broken))
    inst = generate(10, 1)
    with caplog.at_level("ERROR", logger="iopsched"):
        sol = solve(inst, SolverSettings(time_limit=3, workers=1, first_fit_share=0))
    assert "fails validation" in caplog.text
    assert validate(inst, sol).ok
    assert sol.objective == sol.stats.first_fit_objective


def test_round_models_re_fix_only_the_kept_part():
    """After kept rounds, the cached week is fixed to the latest schedule, as one built anew."""
    inst = generate(25, 3)
    sessions = greedy_schedule(inst)
    ctx = build_model(inst)
    models = RoundModels(ctx)
    hoods = Neighbourhoods(ctx, seed=2)
    nothing = Neighbourhood("none", frozenset(), frozenset())
    changed = 0
    for _ in range(4):
        unmet, _ = assess(inst, sessions)
        part = hoods.pick(sessions, {row.participant for row in unmet}, size=1)
        solver = cp_model.CpSolver()
        solver.parameters.num_workers = 1
        solver.parameters.max_time_in_seconds = 2
        assert solver.solve(models.model(sessions, part)) in (cp_model.OPTIMAL, cp_model.FEASIBLE)
        after = extract.schedule(ctx, solver.value)
        changed += pooled(ctx, after) != pooled(ctx, sessions)
        sessions = after
        models.keep(sessions, part, solver.value)
        code, again = _solve(models.model(sessions, nothing))  # the cached, re-fixed week
        assert code == cp_model.OPTIMAL
        assert pooled(ctx, extract.schedule(ctx, again.value)) == pooled(ctx, sessions)
        assert again.objective_value == solver.objective_value
    assert changed, "no round changed the schedule: the test would prove nothing"
    code, anew = _solve(restricted_model(ctx, sessions, nothing))
    assert code == cp_model.OPTIMAL and anew.objective_value == solver.objective_value


def test_after_a_kept_round_every_variable_is_hinted_with_that_rounds_schedule():
    """Before any round only the freed decisions are hinted; after a kept round (with its
    whole solution) the next round's hint covers every variable and is that schedule: fixed
    to the hint alone, the next round gives it back at the same cost."""
    inst = generate(25, 3)
    sessions = greedy_schedule(inst)
    ctx = build_model(inst)
    models = RoundModels(ctx)
    hoods = Neighbourhoods(ctx, seed=2)
    unmet, _ = assess(inst, sessions)
    part = hoods.pick(sessions, {row.participant for row in unmet}, size=1)
    model = models.model(sessions, part)
    assert 0 < len(model.proto.solution_hint.vars) < len(model.proto.variables)
    code, solver = _solve(model)
    assert code in (cp_model.OPTIMAL, cp_model.FEASIBLE)
    after = extract.schedule(ctx, solver.value)
    models.keep(after, part, solver.value, list(solver.response_proto.solution))
    nxt = models.model(after, hoods.pick(after, set(), size=1))
    hint = nxt.proto.solution_hint
    assert sorted(hint.vars) == list(range(len(nxt.proto.variables)))
    fixed = cp_model.CpSolver()
    fixed.parameters.num_workers = 1
    fixed.parameters.fix_variables_to_their_hinted_value = True
    assert fixed.solve(nxt) == cp_model.OPTIMAL
    assert fixed.objective_value == solver.objective_value
    assert pooled(ctx, extract.schedule(ctx, fixed.value)) == pooled(ctx, after)


def test_each_better_schedule_is_handed_over_as_it_is_kept():
    inst = generate(40, 1)
    seen = []
    settings = SolverSettings(time_limit=6, workers=2, round_seconds=1)
    sol = solve(inst, settings, on_schedule=seen.append)
    objectives = [s.objective for s in seen]
    assert len(seen) >= 2, "the first fit and at least one better schedule"
    assert objectives == sorted(objectives, reverse=True) and len(set(objectives)) == len(seen)
    assert all(validate(inst, s).ok for s in seen)
    assert sol.objective <= objectives[-1]


def _therapist(tid: str, modalities: list[str], windows: list[dict], hours: float) -> dict:
    """A therapist's record in an instance file."""
    return {
        "id": tid,
        "modalities": modalities,
        "availability": windows,
        "max_hours_per_week": hours,
    }


def _staffing_week():
    """One group at Mon 17:00 that either therapist may lead, and P2's individual session,
    which only T1 may lead and only at 17:00."""
    hour = [{"day": "mon", "start": "17:00", "end": "18:00"}]
    data = {
        "name": "staffing",
        "program_hours": hour,
        "rooms": [{"id": "R1", "capacity": 8}, {"id": "R2", "capacity": 2}],
        "therapists": [
            _therapist("T1", ["group", "individual"], hour, 1),
            _therapist("T2", ["group"], hour, 1),
        ],
        "groups": [
            {
                "id": "G1",
                "kind": "group",
                "duration_minutes": 60,
                "meetings_per_week": 1,
                "min_size": 1,
                "max_size": 8,
            }
        ],
        "participants": [
            {
                "id": "P1",
                "availability": hour,
                "plan": {"min_hours": 1, "max_hours": 1, "group_hours": 1},
            },
            {
                "id": "P2",
                "availability": hour,
                "plan": {
                    "min_hours": 1,
                    "max_hours": 1,
                    "individual": {"sessions": 1, "minutes": 60},
                },
            },
        ],
    }
    inst = Instance.model_validate(data)
    # the group led by T1: P2 cannot see anyone
    led_by_t1 = Session(
        id="G1@mon",
        kind="group",
        group="G1",
        day="mon",
        start="17:00",
        end="18:00",
        therapist="T1",
        room="R1",
        participants=["P1"],
    )
    return inst, [led_by_t1]


def test_a_staffing_part_hands_a_group_to_another_therapist_so_a_one_to_one_fits():
    inst, sessions = _staffing_week()
    ctx = build_model(inst)
    nothing = Neighbourhood("none", frozenset(), frozenset())
    code, solver = _solve(restricted_model(ctx, sessions, nothing))
    assert code == cp_model.OPTIMAL
    assert [r.participant for r in extract.unmet(ctx, solver.value)] == ["P2", "P2"]

    staffing = Neighbourhood("staffing", frozenset(), frozenset(), staffing=True)
    code, solver = _solve(restricted_model(ctx, sessions, staffing))
    assert code == cp_model.OPTIMAL
    got = {s.kind: s for s in extract.schedule(ctx, solver.value)}
    assert (got["group"].start, got["group"].therapist, got["group"].participants) == (
        "17:00",
        "T2",
        ["P1"],
    )
    assert (got["individual"].therapist, got["individual"].participants) == ("T1", ["P2"])
    assert extract.unmet(ctx, solver.value) == []


def test_a_staffing_part_keeps_every_group_time_and_cohort():
    _, sessions, ctx, terms, short = first_fit_week()
    hoods = Neighbourhoods(ctx, seed=0)
    part = next(
        p for p in (hoods.pick(sessions, short, 2) for _ in range(200)) if p.kind == "staffing"
    )
    assert part.staffing and not part.groups and not part.participants
    code, solver = _solve(restricted_model(ctx, sessions, part), seconds=3)
    assert code in (cp_model.OPTIMAL, cp_model.FEASIBLE)
    assert solver.objective_value <= sum(t.cost for t in terms)

    def groups(schedule):
        return sorted(
            (s.group, s.day, s.start, sorted(s.participants)) for s in schedule if s.group
        )

    assert groups(extract.schedule(ctx, solver.value)) == groups(sessions)


def test_without_staffing_rounds_no_part_is_a_staffing_part():
    _, sessions, ctx, _, short = first_fit_week()
    kinds = tuple(k for k in Neighbourhoods.KINDS if k != "staffing")
    hoods = Neighbourhoods(ctx, seed=0, kinds=kinds)
    assert {hoods.pick(sessions, short, 2).kind for _ in range(100)} == set(kinds)


def test_a_blocking_part_frees_the_groups_of_the_therapist_a_short_person_needs():
    """P2 is short of an individual session only T1 may lead, and T1 leads G1 at P2's only
    hour: a blocking part frees G1 and P2, and its round hands G1 to T2 and serves P2."""
    inst, sessions = _staffing_week()
    ctx = build_model(inst)
    hoods = Neighbourhoods(ctx, seed=0, kinds=("blocking",))
    part = hoods.pick(sessions, {"P2"}, 1)
    assert (part.kind, part.groups, part.participants) == ("blocking", {"G1"}, {"P1", "P2"})
    code, solver = _solve(restricted_model(ctx, sessions, part))
    assert code == cp_model.OPTIMAL
    got = {s.kind: s for s in extract.schedule(ctx, solver.value)}
    assert (got["group"].therapist, got["individual"].therapist) == ("T2", "T1")
    assert extract.unmet(ctx, solver.value) == []
    unrelated = Neighbourhood("unmet", frozenset(), frozenset({"P2"}))  # P2 alone: still short
    code, solver = _solve(restricted_model(ctx, sessions, unrelated))
    assert code == cp_model.OPTIMAL
    assert {r.participant for r in extract.unmet(ctx, solver.value)} == {"P2"}


def test_a_blocking_part_holds_a_short_person_and_groups_one_of_their_therapists_leads():
    _, sessions, ctx, _, short = first_fit_week()
    hoods = Neighbourhoods(ctx, seed=0, kinds=("blocking",))
    leads: dict[str, set[str]] = {}  # a group's meetings may have different facilitators
    for s in sessions:
        if s.group:
            leads.setdefault(s.group, set()).add(s.therapist)
    parts = [hoods.pick(sessions, short, 2) for _ in range(30)]
    assert sum(bool(p.groups) for p in parts) > 10
    for part in parts:
        assert any(
            all(t in leads[g] for g in part.groups)
            for p in part.participants & short
            for t in hoods.one_to_one_leads.get(p, ())
        ), part


def test_an_aimed_blocking_part_frees_groups_of_the_lacking_session_s_leads_or_the_person():
    """On a generated week, told what each person short lacks: every freed group has a
    meeting led by someone who may lead a 1:1 session the person lacks (any 1:1 session
    when they lack none), or the person in it."""
    inst, sessions, ctx, _, _ = first_fit_week()
    unmet, _ = assess(inst, sessions)
    lacking: dict[str, set[str]] = {}
    for row in unmet:
        lacking.setdefault(row.participant, set()).add(row.requirement)
    assert any(needs & {"individual", "family"} for needs in lacking.values())
    leads: dict[str, set[str]] = {}
    members: dict[str, set[str]] = {}
    for s in sessions:
        if s.group:
            leads.setdefault(s.group, set()).add(s.therapist)
            members.setdefault(s.group, set()).update(s.participants)
    hoods = Neighbourhoods(ctx, seed=0, kinds=("blocking",))
    parts = [hoods.pick(sessions, set(lacking), 2, None, lacking) for _ in range(40)]
    assert sum(bool(p.groups) for p in parts) > 10

    def may_lead(p: str) -> set[str]:
        by_kind = hoods.leads_for.get(p, {})
        aimed = {t for k in lacking[p] for t in by_kind.get(k, ())}
        return aimed or set(hoods.one_to_one_leads.get(p, ()))

    for part in parts:
        assert any(
            all(p in members[g] or t in leads[g] for g in part.groups)
            for p in part.participants & set(lacking)
            for t in may_lead(p)
        ), part


def _aimed_week():
    """T1 leads G1 to G4 at 16:00, 17:00, 18:00 and 19:00 on Monday and is the only one who
    may see P2 alone; T2 may see P2's family.  P2, free from 18:00, has their family session
    at 18:00 and their group G5 (led by T3) at 19:00, and lacks their individual session."""
    day = [{"day": "mon", "start": "16:00", "end": "20:00"}]
    late = [{"day": "mon", "start": "18:00", "end": "20:00"}]
    groups = [f"G{k}" for k in range(1, 6)]
    data = {
        "name": "aimed",
        "program_hours": day,
        "rooms": [{"id": f"R{k}", "capacity": 8} for k in range(1, 4)],
        "therapists": [
            _therapist("T1", ["group", "individual"], day, 8),
            _therapist("T2", ["family"], day, 8),
            _therapist("T3", ["group"], day, 8),
        ],
        "groups": [
            {
                "id": g,
                "kind": "group",
                "duration_minutes": 60,
                "meetings_per_week": 1,
                "min_size": 1,
                "max_size": 8,
            }
            for g in groups
        ],
        "participants": [
            {"id": "P1", "availability": day, "plan": {"min_hours": 4, "max_hours": 4}},
            {
                "id": "P2",
                "availability": late,
                "plan": {
                    "min_hours": 3,
                    "max_hours": 3,
                    "group_hours": 1,
                    "individual": {"sessions": 1, "minutes": 60},
                    "family": {"sessions": 1, "minutes": 60},
                },
            },
        ],
    }
    inst = Instance.model_validate(data)

    def at(key: str, hour: int, therapist: str, people: list[str], group: str | None) -> Session:
        kind = "group" if group else "family"
        start, end = f"{hour}:00", f"{hour + 1}:00"
        return Session(
            id=key, kind=kind, group=group, day="mon", start=start, end=end,
            therapist=therapist, room="R1", participants=people,
        )  # fmt: skip

    sessions = [at(g, 16 + k, "T1", ["P1"], g) for k, g in enumerate(groups[:4])]
    sessions += [at("G5", 19, "T3", ["P2"], "G5"), at("fam", 18, "T2", ["P2"], None)]
    return inst, sessions


def test_a_blocking_part_frees_what_holds_the_lacking_session_s_therapist_and_times():
    """Told that P2 lacks their individual session, every blocking part frees what T1 (the
    only one who may lead it) or P2 does from 18:00, when it could be held: G3, G4 or G5
    (each in some part), never T1's earlier groups.  Not told, some parts free T2's part
    or T1's earlier groups."""
    inst, sessions = _aimed_week()
    ctx = build_model(inst)
    lacking = {"P2": {"individual"}}
    aimed = [
        Neighbourhoods(ctx, seed=seed, kinds=("blocking",)).pick(sessions, {"P2"}, 1, None, lacking)
        for seed in range(20)
    ]
    for part in aimed:
        assert part.groups and part.groups <= {"G3", "G4", "G5"}, part
        assert "P2" in part.participants
    assert {g for p in aimed for g in p.groups} == {"G3", "G4", "G5"}
    unaimed = [
        Neighbourhoods(ctx, seed=seed, kinds=("blocking",)).pick(sessions, {"P2"}, 1)
        for seed in range(20)
    ]
    assert any(not p.groups or p.groups & {"G1", "G2"} for p in unaimed)
