"""How to solve a week: the solver's settings, never part of the instance."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class SolverSettings(BaseModel):
    """How to solve (never part of the instance)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    time_limit: float = Field(default=60.0, gt=0, description="seconds")
    workers: int = Field(default=0, ge=0, description="search workers; 0 = one per core, up to 8")
    seed: int = Field(default=0, ge=0)
    relative_gap_limit: float = Field(default=0.0, ge=0)
    log_search: bool = False
    diagnose_seconds: float = Field(default=20.0, gt=0, description="budget to explain infeasible")
    warm_start: bool = Field(default=True, description="start from the first-fit schedule")
    carry_forward: bool = Field(
        default=True,
        description=(
            "with no start schedule given, start from last week's schedule (the instance's "
            "previous) carried into this week, when it costs less than the first fit: people "
            "who left taken out, what breaks this week's hard rules dropped, and the week "
            "completed around the rest by first fit"
        ),
    )
    neighbourhood_search: bool = Field(
        default=True, description="after the whole-week search, re-solve parts of the week"
    )
    whole_week_share: float = Field(
        default=0.1, gt=0, le=1, description="longest whole-week search, as a share of the limit"
    )
    whole_week_first_up_to: int | None = Field(
        default=8000,
        ge=0,
        description=(
            "weeks whose model has more variables than this start with neighbourhood rounds, "
            "and search the whole week only once the rounds stall: presolving a large week "
            "outlasts the first window (the 80-person example, 14,247 variables, needs about "
            "15 s before its first whole-week schedule on 2 cores); None: always whole week first"
        ),
    )
    stall_share: float = Field(
        default=0.25,
        gt=0,
        le=1,
        description="either search hands over to the other after this share without a gain",
    )
    first_fit_share: float = Field(
        default=0.03,
        ge=0,
        le=1,
        description=(
            "share of the limit spent on variants of the first fit (other intake and group "
            "orders) after it, keeping the best (a variant begun before the share is up is "
            "finished); 0: the first fit alone, as in deterministic solves, where how many "
            "variants fit would depend on the machine"
        ),
    )
    served_first_share: float = Field(
        default=0.5,
        ge=0,
        le=1,
        description=(
            "at most this share of the limit spent first on a whole-week search for the most "
            "people fully served (iopsched.model.served), keeping each schedule that costs "
            "less by the week's objective; it ends sooner once it has found nothing better "
            "(by its own objective) for served_first_stall of the limit; 0: never (0.9 until "
            "2026-11-28, when half left time for the rounds that serve the last people and "
            "ended lower on 10 of 12 seeds of the 80-person example, docs/how-it-works.md)"
        ),
    )
    served_first_stall: float = Field(
        default=0.15, gt=0, le=1, description="see served_first_share (at least 3 s)"
    )
    served_first_wait: float = Field(
        default=0.5,
        gt=0,
        le=1,
        description=(
            "that window ends when CP-SAT has found no schedule of its own within this share "
            "of the limit (its first comes 1.3 to 2.3 s in on the 80-person example), leaving "
            "the rest to the neighbourhood rounds"
        ),
    )
    served_first_lns_only: bool = Field(
        default=True,
        description=(
            "that window runs CP-SAT's neighbourhood search alone (use_lns_only), without its "
            "full-problem worker, whose bound the window never uses: on the 80-person "
            "example at 60 s on 2 workers it ended lower on 10 of 12 seeds "
            "(docs/how-it-works.md); False: CP-SAT's default portfolio"
        ),
    )
    served_first_probing: float = Field(
        default=0.05,
        gt=0,
        description=(
            "that window's presolve probes for at most this much deterministic work "
            "(CP-SAT's probing_deterministic_time_limit, whose default 1.0 took 8 s of the "
            "window's 9 s presolve on the 80-person example; with 0.05 the window's "
            "objective was lower at 45 s on 6 of 6 seeds, docs/how-it-works.md)"
        ),
    )
    served_first_up_to: int | None = Field(
        default=None,
        ge=0,
        description=(
            "that first window is for weeks whose model is too large for the whole-week "
            "search first (whole_week_first_up_to) and has at most this many variables; "
            "None (the default since 2026-11-28, 30,000 before): no upper limit, so every "
            "week searched without candidate limits (limits_from) gets it"
        ),
    )
    served_by_track: bool = Field(
        default=True,
        description=(
            "in a week of several tracks (people linked by the groups open to them), that "
            "window searches one track at a time, the rest of the week fixed: first the track "
            "with the most people not fully served, then the others by turns, until every "
            "track with someone short has had a turn without a gain since the last gain or "
            "less than half a turn is left (docs/how-it-works.md); False: the whole week at once"
        ),
    )
    served_turn_up_to: int | None = Field(
        default=400,
        ge=0,
        description=(
            "the most people one turn of that window frees: a track with more takes its turns "
            "site by site (its people at each site, with the groups open to them), and a week "
            "searched with candidate limits (limits_from) whose turns are still larger skips "
            "the window (tracks of 505 to 766 people at 2,000 over 10 sites ended higher than "
            "without it, the same week site by site lower; 0: weeks with candidate limits "
            "skip it, as all did until 2026-11-29; docs/how-it-works.md); None: whole tracks, "
            "at any size"
        ),
    )
    served_track_share: float = Field(
        default=1 / 6,
        gt=0,
        le=1,
        description="the most one track's turn in that window takes, as a share of the limit",
    )
    served_turn_stall: float | None = Field(
        default=0.05,
        gt=0,
        le=1,
        description=(
            "a track's turn in that window ends once it has found nothing better for this "
            "share of the limit (at least 2 s), leaving the rest of the window to the next "
            "track; None: a turn ends by served_first_stall like the window (the default "
            "until 2026-11-29; 0.05 ended lower on 10 of 12 seeds of a 200-person week and "
            "on 12 of 24 of the 80-person example, docs/how-it-works.md)"
        ),
    )
    twin_order: bool | None = Field(
        default=None,
        description=(
            "break the symmetry of interchangeable groups in the week's model (the first runs "
            "and is filled before the second): it removes no schedule's cost and helps the "
            "whole-week search prove bounds, but closes moves between twins to every "
            "neighbourhood that frees one twin and not the other; None: on for weeks whose "
            "whole week is searched first (whole_week_first_up_to), off for the larger ones "
            "(docs/how-it-works.md)"
        ),
    )
    round_seconds: float = Field(default=3.0, gt=0, description="time limit of one LNS round")
    probing_work: float | None = Field(
        default=0.01,
        gt=0,
        description=(
            "in a week whose model has more than probing_cut_above variables, every search's "
            "presolve probes for at most this much deterministic work (CP-SAT's "
            "probing_deterministic_time_limit, default 1.0, which took 2.2 to 2.7 s of each "
            "3 s round on the 200-person week, so rounds found nothing); None: CP-SAT's "
            "default everywhere (docs/how-it-works.md)"
        ),
    )
    probing_cut_above: int | None = Field(
        default=30000,
        ge=0,
        description=(
            "see probing_work (the 80-person example, 14,248 variables, is no better for "
            "the cut); None: in every week"
        ),
    )
    repair: bool = Field(
        default=True,
        description=(
            "when the first fit breaks a daily minimum or a pin, repair it with neighbourhood "
            "rounds that minimise what it breaks (iopsched.model.repair) before searching the "
            "week from scratch"
        ),
    )
    repair_stall_rounds: int = Field(
        default=8, ge=1, description="repair gives up after this many rounds without a gain"
    )
    round_people: int | None = Field(
        default=20,
        ge=1,
        description=(
            "most participants the first LNS round frees; each round CP-SAT settles allows a "
            "fifth more, each that runs out of time without a gain a fifth fewer (a freed "
            "group's other members then stay in it as they are); None: a round frees all in its "
            "groups (on the 80-person example an education group alone frees 31 people)"
        ),
    )
    presolve_passes: int = Field(
        default=1,
        ge=1,
        description=(
            "most passes of CP-SAT's presolve per search (CP-SAT's default is 3): on the "
            "80-person example each pass probes for about half a second of a 3 s round"
        ),
    )
    local_search: bool = Field(
        default=False,
        description=(
            "CP-SAT's local-search subsolvers (feasibility jump and violation local search); "
            "never with a single presolve pass, which can leave a room pool's cumulative "
            "in pieces without variables, on which OR-Tools 9.15 crashes in them"
        ),
    )
    adaptive_neighbourhoods: bool = Field(
        default=True,
        description=(
            "draw the kind of part each round frees by what the kind has gained per second "
            "lately; False: every kind equally often"
        ),
    )
    staffing_rounds: bool = Field(
        default=True,
        description=(
            "some rounds keep every group's times and cohort and re-solve who leads each "
            "meeting together with every 1:1 session"
        ),
    )
    deterministic: bool = Field(
        default=False,
        description=(
            "count time (the limit and each round's) in CP-SAT's deterministic work, "
            "iopsched.search.run.work_per_second units for each second, instead of on the "
            "wall clock: the same seed and workers give the same schedule on every run and "
            "machine, while the wall time varies with the week and the machine"
        ),
    )
    isolated: bool = Field(
        default=False,
        description=(
            "run the search in a child process (iopsched.isolate): should CP-SAT crash, "
            "the caller's process survives and gets the best schedule found until then"
        ),
    )
    relaxation_share: float = Field(
        default=0.15,
        ge=0,
        le=1,
        description=(
            "most of the limit spent proving a bound on the week without staff and room "
            "limits, track by track (iopsched.relaxation), before the search (after it when "
            "first fit gives no schedule, so the first schedule is not delayed); 0: never"
        ),
    )
    relaxation_track_size: int = Field(
        default=30,
        ge=1,
        description=(
            "only tracks of at most this many participants are solved for that bound (larger "
            "ones are seldom proven within the share and count their cost floor)"
        ),
    )
    limits_from: int | None = Field(
        default=300,
        ge=1,
        description=(
            "weeks of at least this many participants get the candidate limits below "
            "(the model then grows linearly); smaller weeks are solved exactly; None: never"
        ),
    )
    therapists_per_session: int | None = Field(
        default=6,
        ge=1,
        description=(
            "large weeks: offer each group, and each participant's 1:1 sessions, at most this "
            "many therapists (those first fit used, then the least booked); None offers all"
        ),
    )
    copies_per_person: int | None = Field(
        default=4,
        ge=1,
        description=(
            "large weeks: offer each participant at most this many copies of a repeated group "
            "(those first fit suggests); None offers every copy. A limited week reports "
            "the cost floor (iopsched.bounds) as its bound, since its own does not hold "
            "for the whole week"
        ),
    )
