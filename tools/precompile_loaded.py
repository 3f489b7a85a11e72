"""Precompile, in a built artifact, the modules that answering requests actually loads.

Run by `make build-SkillFunction` with the Lambda runtime's Python (3.13):

    python3.13 tools/precompile_loaded.py ARTIFACT_DIR EVENTS_DIR

Lambda's code folder is read-only, so a module without bytecode is compiled again on
every cold start. Compiling the whole artifact would double its size (most of
ask-sdk-model is never imported), so only what the recorded events load is compiled.
"""

from __future__ import annotations

import json
import os
import py_compile
import sys
from pathlib import Path


class Context:
    function_name = "precompile"
    memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:precompile"
    aws_request_id = "precompile"


def main(artifact: Path, events: Path) -> int:
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "CRITICAL")
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    sys.path.insert(0, str(artifact))
    from pelvic_ease import app  # noqa: PLC0415
    from pelvic_ease.memory_table import MemoryTable  # noqa: PLC0415
    from pelvic_ease.settings import Settings  # noqa: PLC0415
    from pelvic_ease.skill import build_skill  # noqa: PLC0415

    app.use_skill(build_skill(Settings("precompile"), table=MemoryTable()))
    for path in sorted(events.glob("*.json")):
        try:
            app.lambda_handler(json.loads(path.read_text()), Context())
        except Exception:  # a rejected event still loaded its modules
            continue

    root = artifact.resolve()
    compiled = 0
    for module in list(sys.modules.values()):
        source = getattr(module, "__file__", None)
        if source and source.endswith(".py") and Path(source).resolve().is_relative_to(root):
            py_compile.compile(
                source, doraise=True, invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH
            )
            compiled += 1
    print(f"precompiled {compiled} modules the events load")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2])))
