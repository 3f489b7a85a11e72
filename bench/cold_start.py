"""One cold start, in a fresh process started by the runtime's Python with -B (the code
folder is read-only, as on Lambda): import a handler, answer one LaunchRequest.

    python3.13 -I -B bench/cold_start.py CODE_DIR MODULE EVENT_FILE [snapstart]

With ``snapstart``, the SnapStart hooks run first (before the snapshot, then after the
restore) and only the first request after them is timed.

Prints one JSON line: milliseconds to import, to answer, from the interpreter's start, and
this process's own peak resident memory (VmHWM: exec starts a new address space, so none of
the parent's pages are counted).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

started = time.perf_counter()


class Context:
    function_name = "bench"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:bench:live"
    aws_request_id = "bench"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 7_000


def peak_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    code, module, event_file = sys.argv[1:4]
    snapstart = sys.argv[4:] == ["snapstart"]
    event = json.loads(Path(event_file).read_text())
    sys.path.insert(0, code)
    before = time.perf_counter()
    handler = __import__(module, fromlist=["lambda_handler"]).lambda_handler
    imported = time.perf_counter()
    hooks_ms = 0.0
    if snapstart:
        from snapshot_restore_py import get_after_restore, get_before_snapshot  # noqa: PLC0415

        for function, args, kwargs in [*get_before_snapshot(), *get_after_restore()]:
            function(*args, **kwargs)
        hooks_ms = (time.perf_counter() - imported) * 1000
        imported = time.perf_counter()
    handler(event, Context())
    answered = time.perf_counter()
    figures = {
        "import_ms": (imported - before) * 1000 if not snapstart else 0.0,
        "answer_ms": (answered - imported) * 1000,
        "total_ms": (answered - started) * 1000,
        "hooks_ms": hooks_ms,
        "peak_mb": peak_mb(),
    }
    print("RESULT " + json.dumps(figures))


if __name__ == "__main__":
    main()
