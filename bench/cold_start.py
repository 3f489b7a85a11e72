"""One cold start, in a fresh process: import a handler, answer one LaunchRequest.

    python bench/cold_start.py ours|baseline EVENT_FILE

Prints one JSON line: milliseconds to import, to answer, and the peak resident memory.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

started = time.perf_counter()
ROOT = Path(__file__).resolve().parent.parent


class Context:
    function_name = "bench"
    memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:bench"
    aws_request_id = "bench"


def main() -> None:
    which, event_file = sys.argv[1], sys.argv[2]
    event = json.loads(Path(event_file).read_text())
    before = time.perf_counter()
    if which == "ours":
        sys.path.insert(0, str(ROOT / "lambda"))
        from pelvic_ease.app import lambda_handler  # noqa: PLC0415
    else:
        sys.path.insert(0, str(ROOT))
        from bench.baseline_skill import lambda_handler  # noqa: PLC0415
    imported = time.perf_counter()
    lambda_handler(event, Context())
    answered = time.perf_counter()
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        "RESULT "
        + json.dumps(
            {
                "import_ms": (imported - before) * 1000,
                "answer_ms": (answered - imported) * 1000,
                "total_ms": (answered - started) * 1000,
                "peak_mb": peak_kib / 1024,
            }
        )
    )


if __name__ == "__main__":
    main()
