"""The benchmark ladder runs end to end on a tiny ladder (timings are not asserted)."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent.parent / "benchmarks"))

import ladder


def test_tiny_ladder_writes_csv_and_plot(tmp_path):
    out = tmp_path / "ladder.csv"
    args = ["--sizes", "10", "12@2", "--seeds", "0", "--time-limit", "2", "--out", str(out)]
    ladder.main(args)
    rows = list(csv.DictReader(out.open()))
    assert [r["size"] for r in rows] == ["10", "12@2"]
    assert all(r["valid"] == "True" and r["greedy_valid"] == "True" for r in rows)
    assert all(float(r["compliance"]) >= float(r["greedy_compliance"]) for r in rows)
    assert all(float(r["peak_mb"]) > 0 for r in rows)
    assert out.with_suffix(".png").stat().st_size > 10_000
