"""One cold start, in a fresh process started by the runtime's Python with -B (the code
folder is read-only, as on Lambda): import a handler, answer one LaunchRequest, then a few
more as warm requests.

    python3.13 -I -B bench/cold_start.py CODE_DIR MODULE EVENT_FILE [snapstart]

With ``snapstart``, the SnapStart hooks that the handler's import registered run first (every
before-snapshot hook, then every after-restore hook, as Lambda runs them) and the first
request after them is timed on its own.

Prints one line, ``RESULT`` and JSON: milliseconds to import, to answer the first request
(wall clock and this process's CPU time, which leaves out the DynamoDB server's share), the
warm requests' median, from the parent's exec to the answer (BENCH_SPAWNED_NS, the parent's
CLOCK_MONOTONIC just before it started this process), this process's own peak resident
memory (VmHWM: exec starts a new address space, so none of the parent's pages are counted),
and the modules it had to compile from source because no valid bytecode was beside them.

Between phases it calls os.getloadavg(), which nothing else here calls: under
``valgrind --tool=callgrind --dump-before=getloadavg`` each phase's instructions are dumped
apart (the phases are listed in the result, in order).
"""

from __future__ import annotations

import importlib.util
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

started = time.perf_counter()
WARM_REQUESTS = 5
phases = ["start"]  # the interpreter's start and this script's, to main()


class Context:
    function_name = "bench"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:bench:live"
    aws_request_id = "bench"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 7_000


def mark(phase: str) -> None:
    """The phase that starts here (a callgrind dump point, see above)."""
    os.getloadavg()
    phases.append(phase)


def peak_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def bytecode_valid(source: Path, cached: Path) -> bool:
    """Whether the import system would take ``cached`` for ``source`` (PEP 552's header)."""
    try:
        header = cached.read_bytes()[:16]
    except OSError:
        return False
    if len(header) < 16 or header[:4] != importlib.util.MAGIC_NUMBER:
        return False
    flags = int.from_bytes(header[4:8], "little")
    if flags & 0b01:  # hash-based: unchecked ones are taken as they are
        return not flags & 0b10 or header[8:16] == importlib.util.source_hash(source.read_bytes())
    stat = source.stat()
    return header[8:16] == (int(stat.st_mtime) & 0xFFFFFFFF).to_bytes(4, "little") + (
        stat.st_size & 0xFFFFFFFF
    ).to_bytes(4, "little")


def compiled_from_source(code: str) -> dict[str, Any]:
    """The loaded modules that had no valid bytecode, so this process compiled them: those in
    the code folder, and those elsewhere (the runtime's boto3 and the standard library)."""
    inside: list[str] = []
    outside: list[str] = []
    size = 0
    for name, module in list(sys.modules.items()):
        spec = getattr(module, "__spec__", None)
        origin, cached = getattr(spec, "origin", None), getattr(spec, "cached", None)
        if not (origin and cached and origin.endswith(".py")) or bytecode_valid(Path(origin), Path(cached)):
            continue
        if origin.startswith(code + os.sep):
            inside.append(name)
            size += Path(origin).stat().st_size
        elif name != "__main__":
            outside.append(name)
    return {"in_code": len(inside), "in_code_kb": size / 1024, "elsewhere": len(outside),
            "in_code_modules": sorted(inside)[:20]}  # fmt: skip


def main() -> None:
    code, module, event_file = sys.argv[1:4]
    snapstart = sys.argv[4:] == ["snapstart"]
    spawned_ns = int(os.environ.get("BENCH_SPAWNED_NS", "0"))
    event = json.loads(Path(event_file).read_text())
    sys.path.insert(0, code)
    mark("import")
    begun = time.perf_counter()
    handler = __import__(module, fromlist=["lambda_handler"]).lambda_handler
    figures: dict[str, Any] = {"import_ms": (time.perf_counter() - begun) * 1000, "hooks_ms": 0.0}
    if snapstart:
        mark("hooks")
        begun = time.perf_counter()
        from snapshot_restore_py import get_after_restore, get_before_snapshot  # noqa: PLC0415

        before_snapshot, after_restore = list(get_before_snapshot()), list(get_after_restore())
        figures["hooks_registered"] = {
            "before_snapshot": len(before_snapshot),
            "after_restore": len(after_restore),
        }
        for function, args, kwargs in [*before_snapshot, *after_restore]:
            function(*args, **kwargs)
        figures["hooks_ms"] = (time.perf_counter() - begun) * 1000
    mark("first_request")
    cpu = time.process_time()
    begun = time.perf_counter()
    handler(event, Context())
    answered = time.perf_counter()
    answered_ns = time.monotonic_ns()
    figures["answer_cpu_ms"] = (time.process_time() - cpu) * 1000
    figures["answer_ms"] = (answered - begun) * 1000
    figures["peak_mb"] = peak_mb()  # the cold start's peak, before the warm requests
    mark("warm_requests")
    warm: list[float] = []
    warm_cpu: list[float] = []
    for _ in range(WARM_REQUESTS):
        cpu = time.process_time()
        begun = time.perf_counter()
        handler(event, Context())
        warm.append((time.perf_counter() - begun) * 1000)
        warm_cpu.append((time.process_time() - cpu) * 1000)
    mark("exit")
    figures |= {
        "warm_ms": statistics.median(warm),
        "warm_cpu_ms": statistics.median(warm_cpu),
        "total_ms": (answered - started) * 1000,  # from this script's first line
        "exec_to_answer_ms": (answered_ns - spawned_ns) / 1e6 if spawned_ns else 0.0,
        "compiled": compiled_from_source(os.path.abspath(code)),
        "phases": phases,
    }
    print("RESULT " + json.dumps(figures))


if __name__ == "__main__":
    main()
