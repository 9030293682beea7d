"""Hand each person their week: a workbook, CSV tables, calendars and a web page.

* ``xlsx``: one workbook, ``week.xlsx``, with a summary sheet (hours against
  plans) and one sheet per view: by participant, by therapist, by room, by day.
* ``csv``: the same views, one file each.
* ``ics``: one iCalendar file per participant and per therapist, in
  ``calendars/``, dated from the instance's ``week_of`` (floating local clinic
  time), with the room or "online" as location.
* ``html``: ``week.html``, one self-contained page (no network): a days-by-hours
  grid coloured by kind, a filter by participant, therapist or room (also from
  the address, e.g. ``week.html#therapist=T01``), the unmet list, and a printed
  page per participant.

Every file is written atomically.  Only ids appear, never names or notes.
"""

from __future__ import annotations

import datetime as dt
import html
import io
import json
import logging
from pathlib import Path

import pandas as pd

from iopsched.instance import Instance
from iopsched.io import write_bytes_atomic
from iopsched.solution import Session, Solution
from iopsched.timegrid import DAYS, parse_hhmm, windows_union

log = logging.getLogger("iopsched")

FORMATS = ("xlsx", "csv", "ics", "html")
KIND_LABEL = {
    "group": "Group therapy",
    "education": "Psychoeducation",
    "individual": "Individual therapy",
    "family": "Family therapy",
}
KIND_COLOUR = {
    "group": "#8ecae6",
    "education": "#ffd166",
    "individual": "#b5e48c",
    "family": "#f4a3a8",
}


def _minutes(s: Session) -> int:
    return parse_hhmm(s.end) - parse_hhmm(s.start)


def _order(s: Session) -> tuple[int, int, str]:
    return DAYS.index(s.day), parse_hhmm(s.start), s.id


def views(instance: Instance, solution: Solution) -> dict[str, pd.DataFrame]:
    """The tables of the week: summary, by participant, by therapist, by room, by day."""
    sessions = sorted(solution.sessions, key=_order)
    rows = [
        {
            "day": s.day,
            "start": s.start,
            "end": s.end,
            "kind": s.kind,
            "group": s.group or "",
            "therapist": s.therapist,
            "room": s.room or "online",
            "participants": ", ".join(s.participants),
            "session": s.id,
        }
        for s in sessions
    ]
    by_day = pd.DataFrame(rows, columns=list(rows[0]) if rows else ["day"])
    people = [
        {"participant": pid} | {k: v for k, v in row.items() if k != "participants"}
        for s, row in zip(sessions, rows, strict=True)
        for pid in s.participants
    ]
    by_participant = pd.DataFrame(people)
    if not by_participant.empty:
        by_participant = by_participant.sort_values(["participant"], kind="stable")
    by_therapist = by_day.sort_values(["therapist"], kind="stable") if rows else by_day
    by_room = (
        by_day[by_day["room"] != "online"].sort_values(["room"], kind="stable") if rows else by_day
    )
    return {
        "Summary": summary_frame(instance, solution),
        "By participant": by_participant,
        "By therapist": by_therapist,
        "By room": by_room,
        "By day": by_day,
    }


def summary_frame(instance: Instance, solution: Solution) -> pd.DataFrame:
    """Hours and sessions each participant gets against their plan."""
    got: dict[str, dict[str, int]] = {}
    for s in solution.sessions:
        for pid in s.participants:
            mine = got.setdefault(
                pid, {"all": 0, "group": 0, "education": 0, "n_ind": 0, "n_fam": 0}
            )
            mine["all"] += _minutes(s)
            if s.kind in ("group", "education"):
                mine[s.kind] += _minutes(s)
            mine["n_ind"] += s.kind == "individual"
            mine["n_fam"] += s.kind == "family"
    short = {}
    for row in solution.unmet:
        short.setdefault(row.participant, []).append(f"{row.requirement} {row.short:g}")
    out = []
    for p in instance.participants:
        mine = got.get(p.id, {"all": 0, "group": 0, "education": 0, "n_ind": 0, "n_fam": 0})
        plan = p.plan
        out.append(
            {
                "participant": p.id,
                "hours": mine["all"] / 60,
                "plan min hours": plan.min_hours,
                "plan max hours": plan.max_hours,
                "group hours": mine["group"] / 60,
                "plan group hours": plan.group_hours or 0,
                "education hours": mine["education"] / 60,
                "plan education hours": plan.education_hours or 0,
                "individual sessions": mine["n_ind"],
                "plan individual": plan.individual.sessions if plan.individual else 0,
                "family sessions": mine["n_fam"],
                "plan family": plan.family.sessions if plan.family else 0,
                "days": len({s.day for s in solution.sessions if p.id in s.participants}),
                "short": "; ".join(short.get(p.id, [])) or "fully met",
            }
        )
    return pd.DataFrame(out)


# ----------------------------------------------------------------- calendars
def week_start(instance: Instance) -> dt.date:
    """Monday of the planned week (``week_of``; without it, the coming Monday)."""
    if instance.week_of is not None:
        return instance.week_of - dt.timedelta(days=instance.week_of.weekday())
    today = dt.date.today()
    monday = today + dt.timedelta(days=(7 - today.weekday()) % 7)
    log.warning("the instance has no week_of; calendars are dated from %s", monday)
    return monday


def calendar(instance: Instance, sessions: list[Session], who: str, monday: dt.date) -> bytes:
    """An iCalendar (RFC 5545) file of ``who``'s sessions in the week from ``monday``."""
    from icalendar import Calendar, Event

    cal = Calendar()
    cal.add("prodid", "-//iopsched//weekly schedule//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", f"{instance.name}: {who}")
    stamp = dt.datetime.now(dt.UTC).replace(microsecond=0)
    for s in sorted(sessions, key=_order):
        day = monday + dt.timedelta(days=DAYS.index(s.day))
        start = dt.datetime.combine(day, dt.time.fromisoformat(s.start))
        event = Event()
        event.add("uid", f"{s.id}.{who}.{day.isoformat()}@iopsched")
        event.add("dtstamp", stamp)
        event.add("dtstart", start)  # floating: the clinic's local time
        event.add("dtend", start + dt.timedelta(minutes=_minutes(s)))
        title = KIND_LABEL[s.kind] + (f" ({s.group})" if s.group else "")
        event.add("summary", title)
        event.add("location", s.room or "online")
        event.add("description", f"therapist {s.therapist}; session {s.id}")
        cal.add_component(event)
    return cal.to_ical()


# ----------------------------------------------------------------------- html
def page(instance: Instance, solution: Solution) -> str:
    """The week as one self-contained HTML page (see the module docstring)."""
    spans = windows_union(instance.program_hours)
    days = sorted({a // 1440 for a, _ in spans} | {DAYS.index(s.day) for s in solution.sessions})
    first = min([a % 1440 for a, _ in spans] + [parse_hhmm(s.start) for s in solution.sessions])
    last = max(
        [(b - 1) % 1440 + 1 for _, b in spans] + [parse_hhmm(s.end) for s in solution.sessions]
    )
    first, last = first // 60 * 60, -(-last // 60) * 60
    px = 1.2  # pixels per minute
    e = html.escape
    columns = []
    for d in days:
        blocks = []
        mine = sorted((s for s in solution.sessions if DAYS.index(s.day) == d), key=_order)
        for s in mine:
            top = (parse_hhmm(s.start) - first) * px
            height = _minutes(s) * px
            label = s.group or f"{KIND_LABEL[s.kind]}: {', '.join(s.participants)}"
            blocks.append(
                f'<div class="session {s.kind}" style="top:{top:.0f}px;height:{height:.0f}px" '
                f'data-participants="{e(" ".join(s.participants))}" '
                f'data-therapist="{e(s.therapist)}" data-room="{e(s.room or "online")}" '
                f'title="{e(s.id)}">'
                f"<b>{e(s.start)}–{e(s.end)}</b> {e(label)}<br>{e(s.therapist)} · "
                f"{e(s.room or 'online')} · {len(s.participants)}</div>"
            )
        lane = f'<div class="lane" style="height:{(last - first) * px:.0f}px">'
        columns.append(
            f'<div class="day"><h2>{DAYS[d].capitalize()}</h2>{lane}{"".join(blocks)}</div></div>'
        )
    hours = "".join(
        f'<div class="hour" style="top:{(h - first) * px:.0f}px">{h // 60:02d}:00</div>'
        for h in range(first, last + 1, 60)
    )
    options = ['<option value="">everyone</option>']
    for what, ids in (
        ("participant", [p.id for p in instance.participants]),
        ("therapist", [t.id for t in instance.therapists]),
        ("room", [r.id for r in instance.rooms] + ["online"]),
    ):
        options += [f'<option value="{what}={e(i)}">{what} {e(i)}</option>' for i in ids]
    unmet = "".join(
        f"<li>{e(r.participant)}: {e(r.requirement)} short {r.short:g} of {r.required:g}</li>"
        for r in solution.unmet
    )
    printed = []
    for p in instance.participants:
        mine = sorted((s for s in solution.sessions if p.id in s.participants), key=_order)
        rows = "".join(
            f"<tr><td>{s.day.capitalize()}</td><td>{s.start}–{s.end}</td>"
            f"<td>{e(KIND_LABEL[s.kind])}</td><td>{e(s.room or 'online')}</td>"
            f"<td>{e(s.therapist)}</td></tr>"
            for s in mine
        )
        printed.append(
            f'<section class="person"><h2>{e(instance.name)}: {e(p.id)}</h2>'
            f"<table><tr><th>day</th><th>time</th><th>session</th><th>where</th>"
            f"<th>therapist</th></tr>{rows}</table></section>"
        )
    legend = "".join(f'<span class="key {k}">{e(label)}</span>' for k, label in KIND_LABEL.items())
    colours = "".join(f".{k}{{background:{c}}}" for k, c in KIND_COLOUR.items())
    status = f"{solution.status.value}, objective {solution.objective}"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>{e(instance.name)}: week</title>
<style>
body{{font:13px system-ui,sans-serif;margin:1em}}
.grid{{display:flex;position:relative;padding-left:3.5em}}
.hours{{position:absolute;left:0;top:2.2em;width:3em}}
.hour{{position:absolute;font-size:11px;color:#666}}
.day{{flex:1;min-width:9em;margin-right:4px}}
.day h2{{font-size:14px;margin:0;height:2.2em;line-height:2.2em;text-align:center}}
.lane{{position:relative;background:repeating-linear-gradient(
  #fff 0 {60 * px - 1:.0f}px,#ddd {60 * px - 1:.0f}px {60 * px:.0f}px)}}
.session{{position:absolute;left:2px;right:2px;overflow:hidden;border-radius:4px;
  padding:2px 4px;font-size:11px;box-sizing:border-box;border:1px solid #0003}}
.session[hidden]{{display:none}}
.key{{padding:2px 6px;margin-right:6px;border-radius:3px}}
{colours}
.person{{display:none}}
@media print{{
  .screen{{display:none}}
  .person{{display:block;page-break-after:always}}
  table{{border-collapse:collapse}} td,th{{border:1px solid #999;padding:3px 6px}}
}}
</style></head>
<body>
<div class="screen">
<h1>{e(instance.name)}</h1>
<p>{e(status)}. {legend}</p>
<label>Show <select id="filter">{"".join(options)}</select></label>
<div class="grid"><div class="hours">{hours}</div>{"".join(columns)}</div>
<h2>Unmet ({len(solution.unmet)})</h2><ul id="unmet">{unmet or "<li>none</li>"}</ul>
</div>
{"".join(printed)}
<script>
const pick = document.getElementById("filter");
function apply(value) {{
  const [what, id] = value ? value.split("=") : ["", ""];
  for (const b of document.querySelectorAll(".session")) {{
    const ok = !what
      || (what === "participant" && b.dataset.participants.split(" ").includes(id))
      || (what === "therapist" && b.dataset.therapist === id)
      || (what === "room" && b.dataset.room === id);
    b.hidden = !ok;
  }}
}}
pick.addEventListener("change", () => {{ location.hash = pick.value; apply(pick.value); }});
const start = decodeURIComponent(location.hash.slice(1));
if (start) {{ pick.value = start; apply(start); }}
</script>
</body></html>
"""


# ---------------------------------------------------------------------- write
def export(
    instance: Instance, solution: Solution, folder: str | Path, formats: tuple[str, ...] = FORMATS
) -> list[Path]:
    """Write the chosen formats into ``folder``; returns the files written."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []

    def put(name: str, data: bytes) -> None:
        path = out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        write_bytes_atomic(path, data)
        written.append(path)

    tables = views(instance, solution) if {"xlsx", "csv"} & set(formats) else {}
    if "xlsx" in formats:
        buffer = io.BytesIO()
        with pd.ExcelWriter(buffer, engine="openpyxl") as book:
            for sheet, frame in tables.items():
                frame.to_excel(book, sheet_name=sheet, index=False)
        put("week.xlsx", buffer.getvalue())
    if "csv" in formats:
        for sheet, frame in tables.items():
            put(sheet.lower().replace(" ", "-") + ".csv", frame.to_csv(index=False).encode())
    if "ics" in formats:
        monday = week_start(instance)
        for p in instance.participants:
            mine = [s for s in solution.sessions if p.id in s.participants]
            put(f"calendars/participant-{p.id}.ics", calendar(instance, mine, p.id, monday))
        for t in instance.therapists:
            mine = [s for s in solution.sessions if s.therapist == t.id]
            put(f"calendars/therapist-{t.id}.ics", calendar(instance, mine, t.id, monday))
    if "html" in formats:
        put("week.html", page(instance, solution).encode())
    log.info("exported %d files to %s", len(written), json.dumps(str(out)))
    return written
