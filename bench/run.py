"""`make bench`: our skill against a bare ASK SDK skill, side by side, in one run.

Prints a table with every figure beside its target, and whether it is met, and writes the
figures as JSON (default bench/results.json). Timings are medians over repeated runs on this
machine; ratios are what carry over to Lambda.

The cold starts measure what is deployed: the artifact `make build-SkillFunction` builds (the
target `sam build` runs), copied into a read-only folder, each start a fresh CPython 3.13
process (`python -I -B`) beside only the runtime's pinned boto3, botocore and
snapshot-restore-py. Against it, alternating run by run: a bare skill (ask-sdk-core and
botocore, bench/bare_skill.py) and the Powertools + boto3 baseline (bench/baseline_skill.py),
each in a folder of its own installed the same way with all its bytecode compiled; and the
artifact again with the SnapStart hooks run first, timing only the request after them. Each
child reports its own peak memory (VmHWM). ``--instructions`` also counts one cold start of
each under callgrind. The audio sections: what each of the
player's reports (and "Alexa, pause") costs the handler, as a ratio to a spoken "next",
and rendering the whole library with espeak-ng in every sound (with the bed and without,
every breath spoken and every other one), its size by sound and per played minute, then
again with nothing changed (``--render tiny`` renders one short routine instead,
``--render skip`` none).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "lambda"), str(ROOT)]

from pelvic_ease import app  # noqa: E402
from pelvic_ease.audio import AudioLibrary, Manifest, Token  # noqa: E402
from pelvic_ease.content import Library, default_library  # noqa: E402
from pelvic_ease.markets import LOCALES  # noqa: E402
from pelvic_ease.memory_table import MemoryTable  # noqa: E402
from pelvic_ease.observability import logger  # noqa: E402
from pelvic_ease.progress import Progress  # noqa: E402
from pelvic_ease.repository import DynamoTable, ProgressKey, decode  # noqa: E402
from pelvic_ease.settings import Settings  # noqa: E402
from pelvic_ease.skill import build_skill, use_skill  # noqa: E402
from publish import ca_bundle  # noqa: E402
from sim.driver import DEFAULT_SKILL_ID, Clock, Conversation, Reply  # noqa: E402
from sim.local_dynamodb import LOCAL_TABLE, child_environment, moto_server  # noqa: E402
from sim.memory_dynamodb import MemoryDynamoDB  # noqa: E402
from sim.player import Player, named_size  # noqa: E402
from sim.script import Simulator  # noqa: E402
from sim.tls_endpoint import tls_endpoint  # noqa: E402

TARGETS = {
    # instructions to the first answer, the deployed artifact against the bare skill with
    # Powertools Logger and Metrics set up as ours are (bench/powertools_skill.py)
    "cold_ratio_to_powertools": 1.10,
    # the first request after the SnapStart hooks, over TLS (DynamoDB as on Lambda) and over
    # plain HTTP, in millions of instructions (callgrind), and our CPU time over HTTP
    "first_request_after_restore_minstr": 30.0,
    "first_request_after_restore_ms": 10.0,
    "warm_median_ms": 1.0,
    "memory_ratio_to_powertools": 1.05,  # each process's own peak, against bare + Powertools
    "artifact_zipped_mb": 5.0,
    "render_seconds": 240.0,  # the whole library from nothing, every sound, on this 2-core machine
}
SEED_USER = "amzn1.ask.account.BENCHCOLD"
AUDIO_BASE_URL = "https://example.cloudfront.net/"
# The player's reports and "Alexa, pause", as results.json names them and the table shows them.
PLAYBACK_EVENTS = {
    "started": "PlaybackStarted",
    "nearly_finished": "PlaybackNearlyFinished",
    "stopped": "PlaybackStopped",
    "finished_last": "PlaybackFinished, last file",
    "pause": '"Alexa, pause" (playing)',
}
PLAYED = ("down_training", "normal", 10)  # "a ten minute relaxation"
# --render tiny: one short routine, at one pace, in one locale
TINY_ROUTINE = "daily_massage.hips"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


@contextlib.contextmanager
def silenced() -> Iterator[None]:
    """Logs and EMF lines go nowhere (they cost the same in both skills' real runs)."""
    sink = io.StringIO()
    previous = logger.registered_handler.setStream(sink)  # type: ignore[attr-defined]
    try:
        with contextlib.redirect_stdout(sink):
            yield
    finally:
        logger.registered_handler.setStream(previous)  # type: ignore[attr-defined]


# -- 1 and 4: cold start and memory ---------------------------------------------------------------
# What each cold start runs: the code folder, the handler's module, whether the SnapStart
# hooks run before the timed request, and how it reaches DynamoDB: plain HTTP, or TLS trusting
# the artifact's CA bundle (as template.yaml sets AWS_CA_BUNDLE) or certifi's whole bundle (as
# botocore does without it), each with the local endpoint's throwaway CA added. Run in this
# order, round after round.
VARIANTS = {
    "ours": ("ours", "pelvic_ease.app", False, "http"),
    "bare": ("bare", "bare_skill", False, "http"),
    "powertools": ("powertools", "powertools_skill", False, "http"),
    "baseline": ("baseline", "baseline_skill", False, "http"),
    "snapstart": ("ours", "pelvic_ease.app", True, "http"),
    "snapstart_tls": ("ours", "pelvic_ease.app", True, "tls"),
    "snapstart_tls_certifi": ("ours", "pelvic_ease.app", True, "tls_certifi"),
}
REFERENCES = ("bare", "powertools", "baseline")  # the skills ours is measured against, in the table's order
# The reference skills' dependencies (boto3 and botocore are the runtime's).
SKILL_PACKAGES = {
    "bare": ["ask-sdk-core"],
    "powertools": ["ask-sdk-core", "aws-lambda-powertools"],
    "baseline": ["ask-sdk-core", "aws-lambda-powertools"],
}
PIP_FOR_THE_RUNTIME = [
    "--platform", "manylinux2014_aarch64", "--implementation", "cp", "--python-version", "3.13",
    "--only-binary=:all:",
]  # fmt: skip
# Each child's figures, summarised as spreads over the runs.
FIGURES = ("exec_to_answer_ms", "process_ms", "total_ms", "import_ms", "hooks_ms", "answer_ms",
           "answer_cpu_ms", "warm_ms", "warm_cpu_ms", "peak_mb")  # fmt: skip


def runtime_python() -> Path:
    """CPython 3.13 (the Lambda runtime's) in the cached environment the build's precompile step
    uses, holding only what the runtime has beside the code (the pinned boto3 and
    snapshot-restore-py)."""
    sys.path.insert(0, str(ROOT / "tools"))
    import precompile_loaded  # type: ignore[import-not-found]  # noqa: PLC0415 - a build tool

    python: Path | None = precompile_loaded.runtime_python_3_13()
    if python is None:
        raise SystemExit("the cold-start benchmark needs Python 3.13 (the Lambda runtime's)")
    return python


def build_artifact(target: Path, manifest: Path | None = None) -> Path:
    """The deployed artifact, built by the target `sam build` runs; ``manifest``: the audio
    manifest it carries (default: the Makefile's, build/audio/manifest.json, if there)."""
    subprocess.run(
        ["make", "-s", "build-SkillFunction", f"ARTIFACTS_DIR={target}", f"PYTHON={sys.executable}",
         *([f"AUDIO_MANIFEST={manifest}"] if manifest else [])],
        cwd=ROOT, check=True, capture_output=True,
    )  # fmt: skip
    return target


def writable(folder: Path, *, allow: bool) -> None:
    for path in [folder, *folder.rglob("*")]:
        mode = path.stat().st_mode
        path.chmod(mode | 0o200 if allow else mode & ~0o222)


def build_code(folder: Path, python: Path, artifact: Path) -> dict[str, Path]:
    """The three code folders, read-only: a copy of the artifact, and the bare and baseline
    skills with their dependencies installed the same way (the same wheels for the runtime,
    boto3 and botocore left to it) and all their bytecode compiled (the artifact ships its own)."""
    folders = {"ours": Path(shutil.copytree(artifact, folder / "ours", symlinks=True))}  # mtimes kept
    for name, packages in SKILL_PACKAGES.items():
        target = folder / name
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", "--no-compile", "--target", str(target),
             *PIP_FOR_THE_RUNTIME, *packages, "-c", str(ROOT / "constraints.txt")],
            check=True, capture_output=True,
        )  # fmt: skip
        for provided in ("boto3", "botocore", "s3transfer", "bin"):
            for path in target.glob(f"{provided}*"):
                shutil.rmtree(path)
        shutil.copy(ROOT / "bench" / f"{name}_skill.py", target)
        subprocess.run(
            [str(python), "-m", "compileall", "-q", "--invalidation-mode", "unchecked-hash", str(target)],
            check=True, capture_output=True,
        )  # fmt: skip
        folders[name] = target
    for code in folders.values():
        writable(code, allow=False)
    return folders


def spread(values: list[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "p10": percentile(values, 0.1), "p90": percentile(values, 0.9),
            "min": min(values), "max": max(values)}  # fmt: skip


def child_command(python: Path, folder: Path, variant: str, event_file: Path) -> list[str]:
    _, module, hooks, _ = VARIANTS[variant]
    return [str(python), "-I", "-B", "-W", "ignore", str(ROOT / "bench" / "cold_start.py"), str(folder), module,
            str(event_file), *(["snapstart"] if hooks else [])]  # fmt: skip


def result_line(stdout: str) -> dict[str, Any]:
    line = next(line for line in stdout.splitlines() if line.startswith("RESULT "))
    figures: dict[str, Any] = json.loads(line.removeprefix("RESULT "))
    return figures


def cold_start(command: list[str], env: dict[str, str]) -> dict[str, Any]:
    """One cold start in a fresh process; the parent times it from just before the exec to its exit."""
    spawned = time.monotonic_ns()
    done = subprocess.run(command, env={**env, "BENCH_SPAWNED_NS": str(spawned)}, capture_output=True,
                          text=True, check=True)  # fmt: skip
    exited = time.monotonic_ns()
    figures = result_line(done.stdout)
    figures["process_ms"] = (exited - spawned) / 1e6
    return figures


def callgrind_parts(folder: Path) -> list[int]:
    """The instructions in each dump callgrind wrote under ``folder``, in the order of its parts."""
    parts: list[tuple[int, int]] = []
    for dump in folder.iterdir():
        fields = dict(
            line.split(": ", 1)
            for line in dump.read_text().splitlines()
            if line.startswith(("part: ", "totals: "))
        )
        parts.append((int(fields["part"]), int(fields["totals"].split()[0])))
    return [instructions for _, instructions in sorted(parts)]


def instructions(
    python: Path, folders: dict[str, Path], envs: dict[str, dict[str, str]], event_file: Path
) -> dict[str, Any]:
    """Instructions executed by one cold start of each variant, per phase, under callgrind: free
    of the noise of a shared machine (the DynamoDB server is not counted, only its client)."""
    counted: dict[str, Any] = {}
    for variant, (code, _, _, transport) in VARIANTS.items():
        env = envs[transport]
        with tempfile.TemporaryDirectory() as scratch:
            # -I would ignore PYTHONHASHSEED: -s -P isolate as well, and a fixed seed makes the count repeatable
            child = child_command(python, folders[code], variant, event_file)
            command = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={scratch}/callgrind.out",
                       "--dump-before=getloadavg", child[0], "-s", "-P", *child[2:]]  # fmt: skip
            done = subprocess.run(command, env={**env, "PYTHONHASHSEED": "0"}, capture_output=True, text=True,
                                  check=True)  # fmt: skip
            phases = result_line(done.stdout)["phases"]
            parts = callgrind_parts(Path(scratch))
        if len(parts) != len(phases):
            raise SystemExit(f"callgrind dumped {len(parts)} parts for the {len(phases)} phases {phases}")
        per_phase = dict(zip(phases, parts, strict=True))
        # to the first answer: everything but the warm requests and the interpreter's exit
        cold = sum(count for phase, count in per_phase.items() if phase not in ("warm_requests", "exit"))
        counted[variant] = {"phases": per_phase, "to_first_answer": cold}
    ours = counted["ours"]["to_first_answer"]
    counted["ratio"] = ours / counted["bare"]["to_first_answer"]
    counted["ratio_to_powertools"] = ours / counted["powertools"]["to_first_answer"]
    counted["ratio_to_baseline"] = ours / counted["baseline"]["to_first_answer"]
    return counted


def transports(
    env: dict[str, str], tls_url: str, folder: Path, ours: Path, certificate: Path
) -> dict[str, dict[str, str]]:
    """Each way to reach DynamoDB, as the environment a child gets: plain HTTP to moto, or TLS
    to the local endpoint in front of it, trusting a bundle with the endpoint's CA added."""
    local = certificate.read_text(encoding="ascii")

    def trusting(bundle: Path, name: str) -> dict[str, str]:
        path = folder / name
        path.write_text(bundle.read_text(encoding="ascii") + local, encoding="ascii")
        return {**env, "AWS_ENDPOINT_URL_DYNAMODB": tls_url, "AWS_CA_BUNDLE": str(path)}

    return {
        "http": env,
        "tls": trusting(ours / ca_bundle.IN_ARTIFACT, "amazon-roots+local.pem"),
        # what botocore trusts without AWS_CA_BUNDLE: certifi's bundle, the artifact's copy
        "tls_certifi": trusting(ours / "certifi" / "cacert.pem", "certifi+local.pem"),
    }


def cold_starts(
    runs: int, url: str, event_file: Path, artifact: Path, *, count_instructions: bool = False
) -> dict[str, Any]:
    """Cold starts of each variant, alternating run by run so drift hits all alike."""
    python = runtime_python()
    # -I ignores PYTHON* variables, so -B is what keeps bytecode out; the variable is for
    # anything the child starts, and a check below catches any file written all the same.
    env = child_environment(url, SKILL_ID=DEFAULT_SKILL_ID, POWERTOOLS_METRICS_NAMESPACE="Bench",
                            PYTHONDONTWRITEBYTECODE="1")  # fmt: skip
    results: dict[str, list[dict[str, Any]]] = {name: [] for name in VARIANTS}
    with tempfile.TemporaryDirectory() as scratch, tls_endpoint(url) as tls:
        folders = build_code(Path(scratch), python, artifact)
        envs = transports(env, tls.url, Path(scratch), folders["ours"], tls.certificate)
        before = {code: set(folder.rglob("*")) for code, folder in folders.items()}
        shipped = {code: sum(1 for _ in folder.rglob("*.pyc")) for code, folder in folders.items()}
        try:
            for _ in range(runs):
                for name, (code, _, _, transport) in VARIANTS.items():
                    results[name].append(
                        cold_start(child_command(python, folders[code], name, event_file), envs[transport])
                    )
            counted = instructions(python, folders, envs, event_file) if count_instructions else None
            # No run may have written anything into a code folder (as none can on Lambda).
            wrote = sorted(
                str(p) for code, folder in folders.items() for p in set(folder.rglob("*")) - before[code]
            )
        finally:
            for folder in folders.values():  # writable again, so the folder can be removed
                writable(folder, allow=True)
    summary: dict[str, Any] = {"runs": runs, "python": "3.13", "read_only": True, "wrote_files": wrote}
    for name, rows in results.items():
        code = VARIANTS[name][0]
        summary[name] = {
            "count": len(rows),
            **{figure: spread([row[figure] for row in rows]) for figure in FIGURES},
            "bytecode_shipped": shipped[code],
            # the most modules any run had to compile from source (no valid bytecode beside them)
            "compiled_in_code": max(row["compiled"]["in_code"] for row in rows),
            "compiled_in_code_kb": max(row["compiled"]["in_code_kb"] for row in rows),
            "compiled_elsewhere": max(row["compiled"]["elsewhere"] for row in rows),
            "peak_mb_per_run": [row["peak_mb"] for row in rows],
        }
    snap = results["snapstart"]
    summary["snapstart"]["hooks_registered"] = snap[0].get("hooks_registered") if snap else None

    def median(variant: str, figure: str) -> float:
        value: float = summary[variant][figure]["median"]
        return value

    for reference in REFERENCES:
        suffix = "" if reference == "bare" else f"_to_{reference}"
        summary[f"ratio{suffix}"] = median("ours", "exec_to_answer_ms") / median(
            reference, "exec_to_answer_ms"
        )
        summary[f"memory_ratio{suffix}"] = median("ours", "peak_mb") / median(reference, "peak_mb")
    summary["process_ratio"] = median("ours", "process_ms") / median("bare", "process_ms")
    # our own compute: this process's CPU time, without the DynamoDB server's share of the wall clock
    summary["first_request_after_restore_ms"] = median("snapstart", "answer_cpu_ms")
    summary["first_request_after_restore_wall_ms"] = median("snapstart", "answer_ms")
    summary["first_request_after_restore_tls_ms"] = median("snapstart_tls", "answer_cpu_ms")
    summary["first_request_after_restore_tls_certifi_ms"] = median("snapstart_tls_certifi", "answer_cpu_ms")
    if counted is not None:
        summary["instructions"] = counted
    return summary


# -- 2: warm turns -------------------------------------------------------------------------------
def warm_turns(iterations: int) -> dict[str, Any]:
    clock = Clock()
    table = MemoryTable()
    use_skill(build_skill(Settings(LOCAL_TABLE, DEFAULT_SKILL_ID), table=table, clock=clock))
    timings: dict[str, list[float]] = {k: [] for k in ("launch", "start routine", "next", "repeat", "resume")}

    def timed(kind: str) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
        def call(event: dict[str, Any], context: Any) -> dict[str, Any]:
            begun = time.perf_counter_ns()
            result = app.lambda_handler(event, context)
            timings[kind].append((time.perf_counter_ns() - begun) / 1e6)
            return result

        return call

    with silenced():
        for i in range(iterations):
            conv = Conversation(timed("launch"), user_id=f"amzn1.ask.account.WARM{i}", strict=False)
            conv.say("open pelvic ease")
            conv.handler = timed("start routine")
            conv.say("release my psoas")
            conv.handler = timed("next")
            conv.say("next")
            conv.handler = timed("repeat")
            conv.say("repeat")
            conv.drop_session()
            conv.handler = timed("resume")
            conv.say("ask pelvic ease to resume")
    use_skill(None)

    from bench import baseline_skill  # noqa: PLC0415

    baseline_skill._client = MemoryDynamoDB()
    baseline_times: list[float] = []
    event = Conversation(baseline_skill.lambda_handler, strict=False).envelope({"type": "LaunchRequest"})
    from sim.driver import LambdaContext  # noqa: PLC0415

    with silenced():
        for _ in range(iterations):
            begun = time.perf_counter_ns()
            baseline_skill.lambda_handler(event, LambdaContext())
            baseline_times.append((time.perf_counter_ns() - begun) / 1e6)
    everything = [t for values in timings.values() for t in values]
    return {
        "per_turn": {
            kind: {"median_ms": statistics.median(v), "p95_ms": percentile(v, 0.95)}
            for kind, v in timings.items()
        },
        "ours_median_ms": statistics.median(everything),
        "ours_p95_ms": percentile(everything, 0.95),
        "baseline_median_ms": statistics.median(baseline_times),
        "baseline_p95_ms": percentile(baseline_times, 0.95),
    }


# -- 3: DynamoDB cost ------------------------------------------------------------------------------
def dynamodb_cost() -> dict[str, Any]:
    import boto3  # noqa: PLC0415

    client = boto3.client("dynamodb")
    calls: Counter[str] = Counter()
    client.meta.events.register("before-call.dynamodb", lambda model, **_: calls.update([model.name]))
    clock = Clock()
    table = DynamoTable(LOCAL_TABLE, client_factory=lambda: client, clock=clock)
    use_skill(build_skill(Settings(LOCAL_TABLE, DEFAULT_SKILL_ID), table=table, clock=clock))
    # the main steps; after the last, "next" asks about the tennis ball and "no" completes
    steps = len([s for s in default_library().routines["psoas_release"].steps if not s.optional])
    scenarios = {
        "whole_routine": ["/user whole", "open pelvic ease", "release my psoas", "help", "repeat",
                          *["next"] * steps, "no", "no"],
        "interrupted_and_resumed": ["/user resumed", "open pelvic ease", "release my psoas", "next", "/timeout",
                                    "open pelvic ease", "yes", *["next"] * (steps - 1), "no", "no"],
    }  # fmt: skip
    counted: dict[str, dict[str, int]] = {}
    simulator = Simulator(app.lambda_handler, table, clock, io.StringIO())
    with silenced():
        for name, lines in scenarios.items():
            calls.clear()
            simulator.run_script(lines)
            counted[name] = dict(calls)
    one, two = counted["whole_routine"], counted["interrupted_and_resumed"]
    use_skill(None)
    return {
        # disclaimer heard, start, a move per later main step, the completion
        "whole_routine": {"reads": one.get("GetItem", 0), "writes": one.get("PutItem", 0), "sessions": 1,
                          "progress_turns": 1 + 1 + (steps - 1) + 1},
        # disclaimer, start, next, resume, the moves after it, the completion
        "interrupted_and_resumed": {"reads": two.get("GetItem", 0), "writes": two.get("PutItem", 0), "sessions": 2,
                                    "progress_turns": 1 + 1 + 1 + 1 + (steps - 2) + 1},
    }  # fmt: skip


# -- 5: artifact -------------------------------------------------------------------------------------
def artifact(target: Path) -> dict[str, Any]:
    """The size of the artifact the cold starts ran, unzipped and zipped as `sam deploy` uploads it."""
    unzipped = sum(p.stat().st_size for p in target.rglob("*") if p.is_file())
    with tempfile.TemporaryDirectory() as folder:
        archive = Path(folder) / "artifact.zip"
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bundle:
            for path in target.rglob("*"):
                bundle.write(path, path.relative_to(target))
        return {"zipped_mb": archive.stat().st_size / 1e6, "unzipped_mb": unzipped / 1e6}


# -- 6: scale ------------------------------------------------------------------------------------------
def scale(users: int, workers: int) -> dict[str, Any]:
    clock = Clock()
    table = DynamoTable(LOCAL_TABLE, clock=clock)
    use_skill(build_skill(Settings(LOCAL_TABLE, DEFAULT_SKILL_ID), table=table, clock=clock))
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    steps = len(default_library().routines["lower_back"].steps)

    def timed(event: dict[str, Any], context: Any) -> dict[str, Any]:
        begun = time.perf_counter()
        result = app.lambda_handler(event, context)
        with lock:
            latencies.append((time.perf_counter() - begun) * 1000)
        return result

    def person(index: int) -> None:
        try:
            conv = Conversation(timed, user_id=f"amzn1.ask.account.SCALE{index}")
            replies: list[Reply] = [conv.say("ask pelvic ease to massage my lower back")]
            replies += [conv.say("next") for _ in range(steps - 1)]
            replies.append(conv.say("no"))
        except Exception as error:  # counted: the figure is the number of failures
            with lock:
                errors.append(f"{type(error).__name__}: {error}")

    with silenced(), ThreadPoolExecutor(max_workers=workers) as pool:
        begun = time.perf_counter()
        list(pool.map(person, range(users)))
        elapsed = time.perf_counter() - begun
    use_skill(None)
    import boto3  # noqa: PLC0415

    items = boto3.client("dynamodb").scan(TableName=LOCAL_TABLE)["Items"]
    scale_items = [Progress.from_dict(decode(i)) for i in items]
    completed = sum(p.completed.get("lower_back", 0) for p in scale_items)
    return {
        "users": users,
        "workers": workers,
        "turns": len(latencies),
        "errors": len(errors),
        "first_error": errors[0] if errors else None,
        "lost_progress": users - completed,
        "turn_ms_p50": percentile(latencies, 0.5),
        "turn_ms_p95": percentile(latencies, 0.95),
        "turn_ms_p99": percentile(latencies, 0.99),
        "turns_per_second": len(latencies) / elapsed,
    }


# -- 7: the handler per playback event ---------------------------------------------------------------
class CountingTable(MemoryTable):
    """The in-memory table, counting reads and writes for the event under way."""

    def __init__(self) -> None:
        super().__init__()
        self.kind: str | None = None
        self.calls: Counter[tuple[str | None, str]] = Counter()

    def get(self, key: ProgressKey) -> dict[str, Any] | None:
        self.calls[self.kind, "reads"] += 1
        return super().get(key)

    def put(self, key: ProgressKey, record: dict[str, Any], expected_version: int) -> None:
        self.calls[self.kind, "writes"] += 1
        super().put(key, record, expected_version)


def playback_events(plays: int, manifest_path: Path, next_median_ms: float) -> dict[str, Any]:
    """Each play, on its own device: a ten minute relaxation starts, is paused half a minute
    in, resumed, and plays to its end; the player reports all along, through the real
    handler. Timed: each report and the pause, by kind (PlaybackFinished only for the last
    file, the routine's completion)."""
    manifest = Manifest.load(manifest_path)
    audio = AudioLibrary(manifest, AUDIO_BASE_URL)
    tracks = audio.tracks("en-US")
    track = tracks.get(*PLAYED) if tracks is not None else None
    if track is None:
        raise SystemExit(f"the manifest at {manifest_path} has no {PLAYED} track for en-US")
    last = len(track.files) - 1
    # the player measures a stream by its length in the manifest (nothing is fetched)
    lengths = {
        audio.url(f.path): f.ms
        for rows in manifest.locales.values()
        for t in rows.tracks.values()
        for f in t.files
    }
    clock = Clock()
    table = CountingTable()
    settings = Settings(LOCAL_TABLE, DEFAULT_SKILL_ID)
    use_skill(build_skill(settings, table=table, clock=clock, audio=audio))
    timings: dict[str, list[float]] = {kind: [] for kind in PLAYBACK_EVENTS}

    def kind_of(request: dict[str, Any]) -> str | None:
        if request["type"] == "IntentRequest":
            return "pause" if request["intent"]["name"] == "AMAZON.PauseIntent" else None
        kind = {
            "AudioPlayer.PlaybackStarted": "started",
            "AudioPlayer.PlaybackNearlyFinished": "nearly_finished",
            "AudioPlayer.PlaybackStopped": "stopped",
            "AudioPlayer.PlaybackFinished": "finished_last",
        }.get(request["type"])
        token = Token.parse(request.get("token"))
        if kind == "finished_last" and (token is None or token.file != last):
            return None
        return kind

    def timed(event: dict[str, Any], context: Any) -> dict[str, Any]:
        kind = table.kind = kind_of(event["request"])
        begun = time.perf_counter_ns()
        result = app.lambda_handler(event, context)
        elapsed = (time.perf_counter_ns() - begun) / 1e3
        if kind is not None:
            timings[kind].append(elapsed)
        table.kind = None
        return result

    users = [f"amzn1.ask.account.PLAY{i}" for i in range(plays)]
    with silenced():
        for user in users:
            player = Player(clock, measure=lengths.__getitem__, look=named_size)
            conv = Conversation(timed, user_id=user, player=player)
            conv.say("open pelvic ease")
            conv.say("a ten minute relaxation")  # plays: PlaybackStarted
            conv.wait(30)
            conv.say("alexa pause")  # a Stop directive: PlaybackStopped
            conv.say("resume")  # PlaybackStarted
            conv.wait(track.ms / 1000 + 30)  # NearlyFinished, Finished, Started... to the end
    use_skill(None)
    completed = sum(
        Progress.from_dict(record).completed.get(PLAYED[0], 0) == 1
        for key in map(ProgressKey.of, users)
        if (record := table.get(key)) is not None
    )
    events: dict[str, Any] = {}
    for kind, values in timings.items():
        median = statistics.median(values)
        events[kind] = {
            "count": len(values),
            "median_us": median,
            "p95_us": percentile(values, 0.95),
            "ratio_to_next": median / 1000 / next_median_ms,
            "reads_per_event": table.calls[kind, "reads"] / len(values),
            "writes_per_event": table.calls[kind, "writes"] / len(values),
        }
    return {
        "plays": plays,
        "track": {"routine": PLAYED[0], "pace": PLAYED[1], "minutes": PLAYED[2], "files": len(track.files)},
        "completed": completed,
        "next_median_ms": next_median_ms,
        "events": events,
    }


# -- 8: rendering the library ------------------------------------------------------------------------
def tiny_library(locale: str) -> Library:
    """One short routine at the default pace: enough to render in a few seconds."""
    library = default_library(locale)
    return replace(
        library,
        routines={TINY_ROUTINE: library.routines[TINY_ROUTINE]},
        paces={library.default_pace: library.paces[library.default_pace]},
    )


def render_cost(scope: str) -> dict[str, Any]:
    """Render with espeak-ng into a fresh folder, then again into the same folder, where
    every file is there already. Beside the time: the library by sound (with the bed and
    without, every breath spoken and every other one) and the bytes a played minute costs."""
    from render.pipeline import default_workers, render_library  # noqa: PLC0415
    from render.synth import Espeak  # noqa: PLC0415

    locales: tuple[str, ...] = LOCALES
    libraries: Callable[[str], Library] = default_library
    if scope == "tiny":
        locales, libraries = ("en-US",), tiny_library
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder)
        begun = time.perf_counter()
        manifest, first = render_library(Espeak(), out, locales, libraries)
        seconds = time.perf_counter() - begun
        begun = time.perf_counter()
        _, again = render_library(Espeak(), out, locales, libraries)
        again_seconds = time.perf_counter() - begun
        mp3s = list(out.glob("*.mp3"))
        total = sum(p.stat().st_size for p in mp3s)
        sounds: dict[str, dict[str, float]] = {}
        for rows in manifest["locales"].values():
            for row in rows:
                code = ("bed" if row["bed"] else "nobed") + ("-quiet" if row["quiet"] else "")
                sounds.setdefault(code, {})
                for file in row["files"]:
                    sounds[code][file["path"]] = file["ms"]
        by_sound = {
            code: {
                "files": len(files),
                "audio_minutes": sum(files.values()) / 60_000,
                "mb": sum((out / path).stat().st_size for path in files) / 1e6,
            }
            for code, files in sounds.items()
        }
        return {
            "scope": scope,
            "locales": list(locales),
            "workers": default_workers(),
            "seconds": seconds,
            "cpu_seconds": first.cpu_seconds,
            "files": len(mp3s),
            "audio_minutes": first.audio_seconds / 60,
            "mb": total / 1e6,
            "bytes_per_played_minute": total / (first.audio_seconds / 60),
            "sounds": by_sound,
            "rerender_seconds": again_seconds,
            "rerender_files": again.made + again.reused,
            "rerender_reused": again.reused,
            "rerender_made": again.made,
        }


def seed_cold_record(url: str, folder: Path) -> Path:
    """A returning user's record, so both cold starts read a real item."""
    clock = Clock()
    table = DynamoTable(LOCAL_TABLE, clock=clock)
    use_skill(build_skill(Settings(LOCAL_TABLE, DEFAULT_SKILL_ID), table=table, clock=clock))
    with silenced():
        conv = Conversation(app.lambda_handler, user_id=SEED_USER)
        conv.say("open pelvic ease")
        conv.say("release my psoas")
        conv.say("stop")
    use_skill(None)
    event = conv.envelope({"type": "LaunchRequest"})
    event["session"] = {**event.get("session", {})} or {
        "new": True,
        "sessionId": "amzn1.echo-api.session.bench",
        "application": {"applicationId": DEFAULT_SKILL_ID},
        "attributes": {},
        "user": {"userId": SEED_USER},
    }
    path = folder / "launch.json"
    path.write_text(json.dumps(event))
    return path


Row = tuple[str, str, str, str, str]


def playback_rows(playback: dict[str, Any]) -> list[Row]:
    def calls(v: dict[str, Any]) -> str:
        reads, writes = v["reads_per_event"], v["writes_per_event"]
        return f"{reads:g} read{'' if reads == 1 else 's'}, {writes:g} write{'' if writes == 1 else 's'}"

    rows: list[Row] = [
        (f"playback event compute, {playback['plays']} plays", "", "", f"ratio to a spoken next "
         f"({playback['next_median_ms'] * 1000:.0f} µs)", ""),
    ]  # fmt: skip
    for kind, label in PLAYBACK_EVENTS.items():
        v = playback["events"][kind]
        target = "no read" if kind in ("nearly_finished", "pause") else ""
        rows.append((f"  {label} (median / p95 µs)", f"{v['median_us']:.0f} / {v['p95_us']:.0f}", "",
                     f"ratio {v['ratio_to_next']:.2f}, {calls(v)}", target))  # fmt: skip
    rows.append(
        ("  plays counted complete", f"{playback['completed']} of {playback['plays']}", "", "", "all")
    )
    return rows


def render_rows(render: dict[str, Any] | None) -> list[Row]:
    if render is None:
        return [("render library, espeak-ng", "skipped (--render skip)", "", "", "")]
    whole = render["scope"] == "all"
    scope = "all locales" if whole else f"tiny: {TINY_ROUTINE}, en-US"
    target = (
        verdict(f"<= {TARGETS['render_seconds']:.0f} s", render["seconds"] <= TARGETS["render_seconds"])
        if whole
        else ""
    )
    rows: list[Row] = [
        (f"render library, espeak-ng, {scope} (s)", f"{render['seconds']:.1f}", "",
         f"{render['files']} files, {render['audio_minutes']:.0f} min of audio, {render['mb']:.1f} MB, "
         f"{render['workers']} processes, {render['cpu_seconds']:.0f} s of processor time", target),
    ]  # fmt: skip
    for code, sound in render["sounds"].items():
        rows.append((f"  {code} (MB)", f"{sound['mb']:.1f}", "",
                     f"{sound['files']} files, {sound['audio_minutes']:.0f} min of audio", ""))  # fmt: skip
    rows += [
        ("  bytes per played minute", f"{render['bytes_per_played_minute'] / 1e3:.0f} kB", "", "48 kbps mono", ""),
        ("  re-render, nothing changed (s)", f"{render['rerender_seconds']:.3f}", "",
         f"{render['rerender_reused']} of {render['rerender_files']} files reused", "every file reused"),
    ]  # fmt: skip
    return rows


def verdict(target: str, met: bool) -> str:
    return f"{target}: {'met' if met else 'NOT MET'}"


def hooks_said(registered: dict[str, int] | None) -> str:
    if not registered or not any(registered.values()):
        return "no hooks registered"
    return (
        f"hooks: {registered['before_snapshot']} before snapshot, {registered['after_restore']} after restore"
    )


def cold_rows(cold: dict[str, Any]) -> list[Row]:
    ours, snap, tls, certifi = (
        cold[v] for v in ("ours", "snapstart", "snapstart_tls", "snapstart_tls_certifi")
    )
    references = [cold[v] for v in REFERENCES]

    def each(figure: str, stat: str, digits: int = 0) -> tuple[str, str]:
        """Ours, and the references' (bare / bare + Powertools / baseline)."""
        o, *refs = (f"{v[figure][stat]:.{digits}f}" for v in (ours, *references))
        return o, " / ".join(refs)

    def pair(figure: str, low: str, high: str, digits: int = 0) -> tuple[str, str]:
        o, *refs = (
            f"{v[figure][low]:.{digits}f} / {v[figure][high]:.{digits}f}" for v in (ours, *references)
        )
        return o, "; ".join(refs)

    def bytecode(v: dict[str, Any]) -> str:
        shipped = f"yes ({v['bytecode_shipped']} .pyc)" if v["bytecode_shipped"] else "no"
        return f"{shipped}, {v['compiled_in_code']} compiled"

    def ratios(source: dict[str, Any]) -> str:
        return (
            f"ratio {source['ratio']:.3f} to bare, {source['ratio_to_powertools']:.3f} to bare + Powertools, "
            f"{source['ratio_to_baseline']:.3f} to baseline"
        )

    rows: list[Row] = [
        (f"cold start: the artifact, 3.13, read-only, exec to first answer, {cold['runs']} runs (median ms)",
         *each("exec_to_answer_ms", "median"), ratios(cold), ""),
        ("  p10 / p90 (ms)", *pair("exec_to_answer_ms", "p10", "p90"), "", ""),
        ("  min / max (ms)", *pair("exec_to_answer_ms", "min", "max"), "", ""),
        ("  whole process, exec to exit, timed by the parent (median ms)", *each("process_ms", "median"),
         f"ratio {cold['process_ratio']:.3f} to bare", ""),
        ("  of which import (median ms)", *each("import_ms", "median"), "", ""),
    ]  # fmt: skip
    o, refs = each("answer_ms", "median")
    oc, refs_cpu = each("answer_cpu_ms", "median")
    rows.append(("  of which first answer (median ms)", o, refs, f"CPU {oc}; {refs_cpu} ms", ""))
    rows.append(("  bytecode shipped; modules compiled at start", bytecode(ours),
                 " / ".join(bytecode(v) for v in references), "", "0 compiled"))  # fmt: skip
    counted = cold.get("instructions")
    limit = TARGETS["cold_ratio_to_powertools"]
    if counted is None:
        rows.append(("  instructions to first answer, callgrind", "not counted (--no-instructions)", "", "",
                     f"<= {limit}x bare + Powertools: not measured"))  # fmt: skip
    else:

        def millions(phase: str | None) -> tuple[str, str]:
            def of(v: str) -> str:
                figure = counted[v]["to_first_answer"] if phase is None else counted[v]["phases"][phase]
                return f"{figure / 1e6:.0f}"

            return of("ours"), " / ".join(of(v) for v in REFERENCES)

        met = counted["ratio_to_powertools"] <= limit
        rows += [
            ("  instructions to first answer, callgrind, 1 run (millions)", *millions(None), ratios(counted),
             verdict(f"<= {limit}x bare + Powertools", met)),
            *((f"    of which {phase.replace('_', ' ')} (millions)", *millions(phase), "", "")
              for phase in ("start", "import", "first_request")),
        ]  # fmt: skip
    first, target = cold["first_request_after_restore_ms"], TARGETS["first_request_after_restore_ms"]
    rows += [
        ("first request after SnapStart hooks, HTTP, our CPU (median ms)", f"{first:.1f}", "",
         f"wall {snap['answer_ms']['median']:.1f} ms, with the DynamoDB server's share",
         verdict(f"<= {target:.0f} ms", first <= target)),
        ("  the same over TLS, our CPU (median ms)", f"{cold['first_request_after_restore_tls_ms']:.1f}", "",
         f"wall {tls['answer_ms']['median']:.1f} ms; trusting certifi's whole bundle "
         f"{cold['first_request_after_restore_tls_certifi_ms']:.1f} ms CPU, wall {certifi['answer_ms']['median']:.1f}",
         ""),
        ("  a warm request after it, CPU / wall (median ms)",
         f"{snap['warm_cpu_ms']['median']:.1f} / {snap['warm_ms']['median']:.1f}", "", "", ""),
        ("  hooks run before it", hooks_said(snap.get("hooks_registered")), "",
         f"{snap['hooks_ms']['median']:.0f} ms, before the snapshot", ""),
    ]  # fmt: skip
    limit_m = TARGETS["first_request_after_restore_minstr"]
    if counted is None:
        for transport in ("TLS", "HTTP"):
            rows.append((f"  instructions of that request over {transport}, callgrind", "not counted", "", "",
                         f"<= {limit_m:.0f} M: not measured"))  # fmt: skip
    else:
        over = {name: counted[name]["phases"]["first_request"] / 1e6 for name in
                ("snapstart_tls", "snapstart", "snapstart_tls_certifi")}  # fmt: skip
        rows += [
            ("  instructions of that request over TLS, callgrind (millions)", f"{over['snapstart_tls']:.1f}", "",
             f"the five Amazon roots (AWS_CA_BUNDLE); certifi's bundle: {over['snapstart_tls_certifi']:.1f}",
             verdict(f"<= {limit_m:.0f} M", over["snapstart_tls"] <= limit_m)),
            ("  instructions of that request over HTTP, callgrind (millions)", f"{over['snapstart']:.1f}", "", "",
             verdict(f"<= {limit_m:.0f} M", over["snapstart"] <= limit_m)),
        ]  # fmt: skip
    rows.append(("  files written into the read-only code folders", f"{len(cold['wrote_files'])}", "", "",
                 verdict("none", not cold["wrote_files"])))  # fmt: skip
    o, refs = each("peak_mb", "median", 1)
    memory_limit = TARGETS["memory_ratio_to_powertools"]
    rows += [
        ("peak memory, each cold process's own VmHWM (median MB)", o, refs,
         f"ratio {cold['memory_ratio']:.3f} to bare, {cold['memory_ratio_to_powertools']:.3f} to bare + Powertools, "
         f"{cold['memory_ratio_to_baseline']:.3f} to baseline; after hooks {snap['peak_mb']['median']:.1f}",
         verdict(f"<= {memory_limit}x bare + Powertools", cold["memory_ratio_to_powertools"] <= memory_limit)),
        ("  min / max (MB)", *pair("peak_mb", "min", "max", digits=1), "", ""),
    ]  # fmt: skip
    return rows


def report(results: dict[str, Any], out: Any = None) -> None:
    out = out or sys.stdout
    warm, scaled = results["warm"], results["scale"]
    whole, resumed = results["dynamodb"]["whole_routine"], results["dynamodb"]["interrupted_and_resumed"]
    rows = [
        *cold_rows(results["cold_start"]),
        ("warm turn compute, in-memory store (median ms)", f"{warm['ours_median_ms']:.2f}",
         f"- / - / {warm['baseline_median_ms']:.2f}", "baseline: one launch",
         verdict(f"<= {TARGETS['warm_median_ms']} ms", warm["ours_median_ms"] <= TARGETS["warm_median_ms"])),
        ("warm turn compute (p95 ms)", f"{warm['ours_p95_ms']:.2f}", f"- / - / {warm['baseline_p95_ms']:.2f}", "", ""),
        *[(f"  {kind} (median / p95 ms)", f"{v['median_ms']:.2f} / {v['p95_ms']:.2f}", "", "", "")
          for kind, v in warm["per_turn"].items()],
        ("DynamoDB, whole routine", f"{whole['reads']} reads, {whole['writes']} writes", "",
         f"{whole['progress_turns']} progress turns",
         verdict("1 read/session, <=1 write/progress turn",
                 whole["reads"] <= whole["sessions"] and whole["writes"] <= whole["progress_turns"])),
        ("DynamoDB, interrupted + resumed", f"{resumed['reads']} reads, {resumed['writes']} writes", "",
         f"{resumed['progress_turns']} progress turns, 2 sessions", verdict("2 reads", resumed["reads"] <= 2)),
        ("artifact (MB zipped / unzipped)",
         f"{results['artifact']['zipped_mb']:.2f} / {results['artifact']['unzipped_mb']:.2f}", "", "",
         verdict(f"<= {TARGETS['artifact_zipped_mb']} MB zipped",
                 results["artifact"]["zipped_mb"] <= TARGETS["artifact_zipped_mb"])),
        (f"scale: {scaled['users']} users, {scaled['workers']} threads",
         f"{scaled['errors']} errors, {scaled['lost_progress']} lost", "", "",
         verdict("0 errors, 0 lost", scaled["errors"] == scaled["lost_progress"] == 0)),
        ("  turn latency p50 / p95 / p99 (ms)",
         f"{scaled['turn_ms_p50']:.1f} / {scaled['turn_ms_p95']:.1f} / {scaled['turn_ms_p99']:.1f}", "",
         f"{scaled['turns_per_second']:.0f} turns/s", ""),
    ]  # fmt: skip
    rows += playback_rows(results["playback"]) + render_rows(results.get("render"))
    header = ("measure", "ours", "bare / bare + Powertools / baseline", "", "target")
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(5)]
    for row in [header, tuple("-" * w for w in widths), *rows]:
        print("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)), file=out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15, help="cold starts of each variant (alternating)")
    parser.add_argument("--artifact", type=Path, help="an artifact already built by make build-SkillFunction "
                        "(default: build one); the cold starts run a read-only copy of it")  # fmt: skip
    parser.add_argument("--instructions", action=argparse.BooleanOptionalAction, default=True,
                        help="count one cold start's instructions per variant under callgrind (about 3 min; "
                             "the cold-start ratio and the first request's targets are set on these)")  # fmt: skip
    parser.add_argument("--turns", type=int, default=400, help="warm conversations (5 turns each)")
    parser.add_argument("--users", type=int, default=200, help="simulated users at once")
    parser.add_argument("--workers", type=int, default=16, help="threads for the scale run")
    parser.add_argument("--plays", type=int, default=200, help="relaxations played through, each on a device")
    parser.add_argument(
        "--render",
        choices=("all", "tiny", "skip"),
        default="all",
        help="render the whole library with espeak-ng (about 3 min), one short routine, or nothing",
    )
    parser.add_argument("--json", type=Path, default=ROOT / "bench" / "results.json")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    if args.instructions and shutil.which("valgrind") is None:
        parser.error("counting instructions needs valgrind (apt-get install valgrind), or --no-instructions")
    os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "Bench")
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as scratch, moto_server() as url:
        built = args.artifact or build_artifact(Path(scratch) / "SkillFunction")
        event = seed_cold_record(url, Path(scratch))
        results["cold_start"] = cold_starts(
            args.runs, url, event, built, count_instructions=args.instructions
        )
        results["artifact"] = artifact(built)
        results["dynamodb"] = dynamodb_cost()
        results["scale"] = scale(args.users, args.workers)
    results["warm"] = warm_turns(args.turns)
    from sim.local_audio import ensure_rendered  # noqa: PLC0415

    next_ms = results["warm"]["per_turn"]["next"]["median_ms"]
    results["playback"] = playback_events(args.plays, ensure_rendered(quiet=True), next_ms)
    if args.render != "skip":
        results["render"] = render_cost(args.render)
    results["targets"] = TARGETS
    args.json.write_text(json.dumps(results, indent=2) + "\n")
    report(results)
    print(f"\n(figures written to {args.json})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
