"""Assemble the CP-SAT model of one week from the rule families."""

from __future__ import annotations

from collections.abc import Callable

from ortools.sat.python import cp_model

from iopsched.instance import Instance
from iopsched.model import groups, participants, pins, rooms, sessions, therapists
from iopsched.model import objective as soft
from iopsched.model.context import Ctx, Term
from iopsched.model.grid import Limits
from iopsched.weights import Weights

BROKEN_PIN_MINUTES = 60  # a broken pin weighs as much as an hour below a daily minimum

HARD_RULES: list[Callable[[Ctx], None]] = [
    groups.group_meets_its_weekly_count,
    groups.mandatory_groups_run,
    groups.cohort_size_within_limits,
    groups.identical_groups_filled_in_order,
    groups.avoided_pairs_never_share_a_group,
    groups.one_facilitator_per_meeting,
    groups.in_person_meetings_have_a_room_that_seats_the_cohort,
    sessions.one_to_one_sessions_are_placed,
    sessions.one_to_one_sessions_in_order,
    therapists.therapist_free_for_what_they_deliver,
    therapists.therapist_never_in_two_places,
    therapists.therapist_within_weekly_hours,
    therapists.therapist_within_daily_hours,
    therapists.therapist_works_at_their_sites,
    rooms.room_free_when_used,
    rooms.room_holds_one_session_at_a_time,
    rooms.group_room_at_every_members_site,
    participants.participant_free_for_their_groups,
    participants.participant_never_in_two_places,
    participants.participant_within_max_hours,
    participants.attendance_days_defined,
    participants.participant_within_max_days,
    participants.participant_daily_hours_within_limits,
    pins.pinned_sessions_are_kept,
]

SOFT_RULES: list[Callable[[Ctx], list[Term]]] = [
    soft.plan_minimums_met,
    soft.fewer_attendance_days,
    soft.same_facilitator_all_week,
    soft.balanced_therapist_load,
    soft.preferred_times,
    soft.stay_in_last_weeks_groups,
]


def build_model(
    instance: Instance,
    *,
    diagnose: bool = False,
    limits: Limits | None = None,
    repair: bool = False,
    twin_order: bool | None = True,
) -> Ctx:
    """The CP-SAT model of a week.

    ``limits`` (``limits.limits_for``) narrow who may join a group and who may
    lead a session; the model is then a restriction of the week.

    With ``repair`` daily minimums and pins may be broken, and what is broken (minutes
    below daily minimums, an hour's worth a broken pin) is the objective, to repair a
    schedule that breaks them (``repair.py``); the week's costs are still in
    ``ctx.terms``.

    With ``twin_order`` interchangeable groups are run and filled in order of their ids
    (``groups.identical_groups_filled_in_order``), a symmetry breaking that removes no
    schedule's cost and helps a search that proves bounds; with False it is left out,
    which keeps neighbourhood moves between twins open (CP-SAT then detects the symmetry
    itself); None leaves the choice to the caller (``Ctx.order_twins``).
    docs/how-it-works.md has the measurements.

    With ``diagnose`` the rules that can make a week infeasible (mandatory
    groups, pins) are switched by assumption literals and there is no
    objective, so an infeasible week can name the rules in conflict.
    """
    ctx = Ctx(
        instance=instance,
        weights=Weights.resolve(instance.weights),
        diagnose=diagnose,
        limits=limits or Limits(),
        repair=repair,
    )
    for rule in HARD_RULES:
        rule(ctx)
    if twin_order is not None:
        ctx.order_twins(twin_order)
    if diagnose:
        ctx.model.add_assumptions(list(ctx.switches.values()))
        return ctx
    for rule_terms in SOFT_RULES:
        ctx.terms += rule_terms(ctx)
    if repair:  # what is broken only: far faster to pay off than with every cost besides
        ctx.model.minimize(repair_debt(ctx))
    else:
        ctx.model.minimize(sum(t.weight * t.expr for t in ctx.terms if t.weight))
    return ctx


def repair_debt(ctx: Ctx) -> cp_model.LinearExprT:
    """What a repair model's schedule still breaks: minutes below daily minimums, and
    broken pins at ``BROKEN_PIN_MINUTES`` each (0 without ``repair``)."""
    below = [x for days in ctx.below_daily_minimum.values() for x in days]
    return sum(below) + BROKEN_PIN_MINUTES * sum(ctx.pin_broken.values())
