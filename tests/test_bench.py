"""The benchmark runs, on a tiny configuration. No timing is asserted: only behaviour."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import run
from pelvic_ease import app


def test_bench_runs_and_reports_every_figure(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "results.json"
    assert (
        run.main(["--runs", "1", "--turns", "3", "--users", "4", "--workers", "2", "--json", str(out)]) == 0
    )
    app.use_skill(None)
    results = json.loads(out.read_text())
    assert set(results) == {"cold_start", "warm", "dynamodb", "scale", "artifact", "targets"}
    assert results["cold_start"]["ours"]["peak_mb_median"] > 0
    assert results["cold_start"]["baseline"]["process_ms_median"] > 0
    whole = results["dynamodb"]["whole_routine"]
    assert whole["reads"] == 1  # one read per session
    assert whole["writes"] == whole["progress_turns"]  # one write per progress turn, none on help/repeat
    resumed = results["dynamodb"]["interrupted_and_resumed"]
    assert resumed["reads"] == resumed["sessions"]
    assert resumed["writes"] == resumed["progress_turns"]
    assert results["scale"]["errors"] == 0
    assert results["scale"]["lost_progress"] == 0
    assert results["scale"]["turns"] == 4 * 5
    assert results["artifact"]["zipped_mb"] < 5
    table = capsys.readouterr().out
    for label in ("cold start", "warm turn compute", "peak memory", "DynamoDB", "artifact", "scale"):
        assert label in table
