"""The benchmark runs, on a tiny configuration. No timing is asserted: only behaviour."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from bench import run
from pelvic_ease.skill import use_skill


def check_cold_starts(cold: dict[str, Any]) -> None:
    # each variant ran, once here: the artifact, the bare and baseline skills, and after the hooks
    assert cold["runs"] == 1
    for variant in run.VARIANTS:
        figures = cold[variant]
        assert figures["count"] == 1, variant
        for figure in run.FIGURES:
            assert figures[figure]["min"] <= figures[figure]["median"] <= figures[figure]["max"], (
                variant,
                figure,
            )
        assert figures["exec_to_answer_ms"]["median"] > figures["import_ms"]["median"] > 0, variant
        assert figures["process_ms"]["median"] > figures["exec_to_answer_ms"]["median"], variant
        # each child's own peak (VmHWM after exec), not the parent's pages across fork
        assert len(figures["peak_mb_per_run"]) == 1
        assert all(0 < peak < 1024 for peak in figures["peak_mb_per_run"]), variant
        # every side ships bytecode and none had to compile a module of its own code folder
        assert figures["bytecode_shipped"] > 0, variant
        assert figures["compiled_in_code"] == 0, variant
    assert cold["python"] == "3.13"
    assert cold["wrote_files"] == []  # read-only code: no run wrote anything (no __pycache__) into it
    for ratio in ("ratio", "ratio_to_powertools", "ratio_to_baseline", "memory_ratio",
                  "memory_ratio_to_powertools", "process_ratio"):  # fmt: skip
        assert cold[ratio] > 0, ratio
    # the SnapStart variant ran its hooks, then the timed request
    assert cold["snapstart"]["hooks_ms"]["median"] > 0
    assert cold["ours"]["hooks_ms"]["median"] == 0
    assert set(cold["snapstart"]["hooks_registered"]) == {"before_snapshot", "after_restore"}
    assert cold["first_request_after_restore_ms"] == cold["snapstart"]["answer_cpu_ms"]["median"] > 0
    assert cold["snapstart"]["warm_ms"]["median"] > 0
    # the first request after the hooks, over TLS too: the artifact's bundle, and certifi's
    for variant in ("snapstart_tls", "snapstart_tls_certifi"):
        assert cold[variant]["hooks_ms"]["median"] > 0, variant
    assert cold["first_request_after_restore_tls_ms"] == cold["snapstart_tls"]["answer_cpu_ms"]["median"] > 0


def test_callgrind_dumps_are_read_in_the_order_of_their_parts(tmp_path: Path) -> None:
    # callgrind names the final dump without a number; the parts say the order
    for name, part, total in (
        ("callgrind.out", 3, 30),
        ("callgrind.out.1", 1, 10),
        ("callgrind.out.2", 2, 20),
    ):
        (tmp_path / name).write_text(
            f"version: 1\ncreator: callgrind\npart: {part}\nevents: Ir\ntotals: {total}\n"
        )
    assert run.callgrind_parts(tmp_path) == [10, 20, 30]


def test_the_table_says_when_no_hooks_are_registered() -> None:
    assert run.hooks_said(None) == "no hooks registered"
    assert run.hooks_said({"before_snapshot": 0, "after_restore": 0}) == "no hooks registered"
    assert (
        run.hooks_said({"before_snapshot": 1, "after_restore": 2})
        == "hooks: 1 before snapshot, 2 after restore"
    )


@pytest.mark.xdist_group("artifact")  # on the worker that builds it (tests/test_artifact.py)
def test_bench_runs_and_reports_every_figure(
    tmp_path: Path, artifact: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "results.json"
    quick = [
        "--runs",
        "1",
        "--turns",
        "3",
        "--users",
        "4",
        "--workers",
        "2",
        "--plays",
        "2",
        "--no-instructions",
    ]
    # the artifact test_artifact.py checks (build_artifact builds it), not a second build
    assert run.main([*quick, "--artifact", str(artifact), "--render", "tiny", "--json", str(out)]) == 0
    use_skill(None)
    results = json.loads(out.read_text())
    assert set(results) == {
        "cold_start", "warm", "dynamodb", "scale", "artifact", "playback", "render", "targets",
    }  # fmt: skip
    check_cold_starts(results["cold_start"])
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
    for label in ("cold start", "first request after SnapStart hooks", "warm turn compute", "peak memory",
                  "DynamoDB", "artifact", "scale", "bytecode shipped"):  # fmt: skip
        assert label in table
    # every target is printed with whether it is met (those on instruction counts: not measured)
    assert table.count(": met") + table.count(": NOT MET") >= 7
    assert table.count(": not measured") == 3
    assert "over TLS" in table
    counted_rows(results, capsys)
    check_playback(results, table)
    check_render(results, table)

    # --render skip leaves the figures out and says so
    del results["render"]
    skipped = io.StringIO()
    run.report(results, skipped)
    assert "skipped (--render skip)" in skipped.getvalue()


def check_playback(results: dict[str, Any], table: str) -> None:
    """The handler per playback event: every kind measured, each play heard to its end."""
    playback = results["playback"]
    assert playback["plays"] == 2
    assert playback["completed"] == 2
    assert playback["next_median_ms"] == results["warm"]["per_turn"]["next"]["median_ms"]
    assert set(playback["events"]) == set(run.PLAYBACK_EVENTS)
    for kind, figures in playback["events"].items():
        assert figures["count"] >= 2, kind
        assert 0 < figures["median_us"] <= figures["p95_us"], kind
        assert figures["ratio_to_next"] > 0, kind
        assert run.PLAYBACK_EVENTS[kind] in table
    events = playback["events"]
    assert events["finished_last"]["count"] == 2  # the last file's end, once a play
    assert events["finished_last"]["writes_per_event"] == 1  # the completion
    for needs_no_read in ("nearly_finished", "pause"):
        assert events[needs_no_read]["reads_per_event"] == 0
        assert events[needs_no_read]["writes_per_event"] == 0
    assert "playback event compute" in table


def check_render(results: dict[str, Any], table: str) -> None:
    """Rendering, on the tiny library: a fresh render, then a re-render that reuses every file."""
    render = results["render"]
    assert render["scope"] == "tiny"
    for figure in ("seconds", "cpu_seconds", "files", "audio_minutes", "mb", "rerender_seconds", "workers"):
        assert render[figure] > 0, figure
    assert set(render["sounds"]) == {"bed", "nobed", "bed-quiet", "nobed-quiet"}
    assert (
        sum(sound["mb"] for sound in render["sounds"].values()) >= render["mb"] * 0.99
    )  # shared files count in each
    assert render["bytes_per_played_minute"] == pytest.approx(48_000 / 8 * 60, rel=0.02)  # 48 kbps
    assert render["rerender_made"] == 0
    assert render["rerender_reused"] == render["rerender_files"] >= render["files"]
    assert "render library" in table
    assert "re-render, nothing changed" in table
    assert "bytes per played minute" in table


def counted_rows(results: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    """The rows callgrind's counts fill, with made-up counts: each target on them says met or NOT MET."""

    def phases(first_request: float) -> dict[str, Any]:
        per_phase = {"start": 20e6, "import": 600e6, "first_request": first_request}
        return {"phases": per_phase, "to_first_answer": sum(per_phase.values())}

    counted: dict[str, Any] = {variant: phases(400e6) for variant in run.VARIANTS}
    counted |= {
        "snapstart_tls": phases(25e6),
        "snapstart": phases(9e6),
        "snapstart_tls_certifi": phases(210e6),
    }
    counted |= {"ratio": 1.2, "ratio_to_powertools": 1.12, "ratio_to_baseline": 1.05}
    results["cold_start"]["instructions"] = counted
    run.report(results)
    table = capsys.readouterr().out
    assert "<= 1.1x bare + Powertools: NOT MET" in table  # 1.12
    tls = next(line for line in table.splitlines() if "request over TLS, callgrind" in line)
    for figure in ("25.0", "210.0", "<= 30 M: met"):
        assert figure in tls
    http = next(line for line in table.splitlines() if "request over HTTP, callgrind" in line)
    for figure in ("9.0", "<= 30 M: met"):
        assert figure in http
    assert ": not measured" not in table
