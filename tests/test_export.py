"""Exports: calendars parse back, the workbook reads back, the page renders in Chromium."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess

import pandas as pd
import pytest
from click.testing import CliRunner
from icalendar import Calendar

from iopsched import solve
from iopsched.cli import main
from iopsched.export import export
from iopsched.generate import generate
from iopsched.io import dump_model, write_json_atomic


@pytest.fixture(scope="module")
def week():
    inst = generate(20, 5, profile="small").model_copy(update={"week_of": dt.date(2026, 11, 30)})
    sol = solve(inst, time_limit=5, workers=2)
    assert sol.status.has_schedule and sol.sessions
    return inst, sol


def test_calendars_parse_back_and_match_the_sessions(week, tmp_path):
    inst, sol = week
    export(inst, sol, tmp_path, ("ics",))
    for p in inst.participants:
        cal = Calendar.from_ical((tmp_path / f"calendars/participant-{p.id}.ics").read_bytes())
        events = sorted(
            (e.decoded("dtstart"), e.decoded("dtend"), str(e["location"]))
            for e in cal.walk("VEVENT")
        )
        days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        want = sorted(
            (
                dt.datetime.combine(
                    dt.date(2026, 11, 30) + dt.timedelta(days=days.index(s.day)),
                    dt.time.fromisoformat(s.start),
                ),
                dt.datetime.combine(
                    dt.date(2026, 11, 30) + dt.timedelta(days=days.index(s.day)),
                    dt.time.fromisoformat(s.end),
                ),
                s.room or "online",
            )
            for s in sol.sessions
            if p.id in s.participants
        )
        assert events == want
        assert all(e.get("uid") and e.get("dtstamp") for e in cal.walk("VEVENT"))
    led = sum(
        len(Calendar.from_ical(f.read_bytes()).walk("VEVENT"))
        for f in (tmp_path / "calendars").glob("therapist-*.ics")
    )
    assert led == len(sol.sessions)


def test_workbook_has_every_view(week, tmp_path):
    inst, sol = week
    export(inst, sol, tmp_path, ("xlsx", "csv"))
    book = pd.read_excel(tmp_path / "week.xlsx", sheet_name=None)
    assert list(book) == ["Summary", "By participant", "By therapist", "By room", "By day"]
    assert len(book["By day"]) == len(sol.sessions)
    assert len(book["By participant"]) == sum(len(s.participants) for s in sol.sessions)
    summary = book["Summary"].set_index("participant")
    assert list(summary.index) == [p.id for p in inst.participants]
    short = {r.participant for r in sol.unmet}
    assert {pid for pid, v in summary["short"].items() if v != "fully met"} == short
    assert len(pd.read_csv(tmp_path / "by-day.csv")) == len(sol.sessions)


@pytest.fixture
def browser() -> str:
    """Chromium's path; skipped without it, unless IOPSCHED_REQUIRE_BROWSER (set by .ci/run)."""
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None and os.environ.get("IOPSCHED_REQUIRE_BROWSER"):
        pytest.fail("chromium is required here (IOPSCHED_REQUIRE_BROWSER is set)")
    if path is None:
        pytest.skip("no chromium here (.ci/run installs it and sets IOPSCHED_REQUIRE_BROWSER)")
    return path


# Headless on a closed network (no background connections), as root, a fresh profile.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _rendered(browser: str, url: str, profile) -> str:
    flags = [*CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--dump-dom"]
    done = subprocess.run([browser, *flags, url], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_page_renders_in_headless_chromium(week, tmp_path, browser):
    inst, sol = week
    export(inst, sol, tmp_path, ("html",))
    url = (tmp_path / "week.html").as_uri()
    dom = _rendered(browser, url, tmp_path / "profile")
    assert dom.count('class="session ') == len(sol.sessions)
    assert dom.count('<section class="person">') == len(inst.participants)
    tid = sol.sessions[0].therapist
    dom = _rendered(browser, f"{url}#therapist={tid}", tmp_path / "profile")
    shown = dom.count('class="session ') - dom.count("hidden=")
    assert shown == sum(1 for s in sol.sessions if s.therapist == tid)


def test_cli_export_and_its_errors(week, tmp_path):
    inst, sol = week
    write_json_atomic(tmp_path / "week.json", dump_model(inst))
    write_json_atomic(tmp_path / "sol.json", dump_model(sol))
    run = CliRunner().invoke
    args = ["export", str(tmp_path / "sol.json"), "--to", str(tmp_path / "out")]
    r = run(main, [*args, "--instance", str(tmp_path / "week.json"), "--format", "csv,html"])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "out/week.html").is_file() and (tmp_path / "out/by-day.csv").is_file()
    r = run(main, [*args, "--instance", str(tmp_path / "week.json"), "--format", "pdf"])
    assert r.exit_code == 2 and "unknown pdf" in r.output
    r = run(main, args)  # no instances/NAME.json in the working directory
    assert r.exit_code == 2 and "--instance" in r.output


def test_page_prints_one_page_per_participant(week, tmp_path, browser):
    inst, sol = week
    export(inst, sol, tmp_path, ("html",))
    pdf = tmp_path / "week.pdf"
    flags = [
        *CHROMIUM_FLAGS,
        f"--user-data-dir={tmp_path / 'profile'}",
        "--no-pdf-header-footer",
        f"--print-to-pdf={pdf}",
    ]
    done = subprocess.run(
        [browser, *flags, (tmp_path / "week.html").as_uri()], capture_output=True, timeout=60
    )
    assert done.returncode == 0 and pdf.is_file(), done.stderr[-2000:]
    import re

    pages = len(re.findall(rb"/Type\s*/Page(?!s)", pdf.read_bytes()))
    assert pages == len(inst.participants)
