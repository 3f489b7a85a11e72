"""`make demo`: play a scripted conversation through the real Lambda handler.

DynamoDB is moto's server on 127.0.0.1, started and stopped here: no AWS account needed.
Exits non-zero, with the reason, if any turn goes wrong.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
from pathlib import Path
from typing import Any

from .driver import Handler

SCRIPTS = Path(__file__).resolve().parent / "scripts"


def quietly(handler: Handler) -> Handler:
    """The handler with its stdout (EMF metric blobs, the cold-start one included) held back."""

    def call(event: dict[str, Any], context: Any) -> dict[str, Any]:
        with contextlib.redirect_stdout(io.StringIO()):
            return handler(event, context)

    return call


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("script", nargs="?", type=Path, default=SCRIPTS / "demo.txt", help="script file")
    args = parser.parse_args(argv)

    from pelvic_ease import app  # noqa: PLC0415
    from pelvic_ease.settings import Settings  # noqa: PLC0415
    from pelvic_ease.skill import build_skill  # noqa: PLC0415
    from pelvic_ease.store import DynamoProgressStore  # noqa: PLC0415

    from .driver import DEFAULT_SKILL_ID, Clock  # noqa: PLC0415
    from .local_dynamodb import LOCAL_TABLE, moto_server  # noqa: PLC0415
    from .script import ScriptFailure, Simulator  # noqa: PLC0415

    lines = args.script.read_text(encoding="utf-8").splitlines()
    with moto_server() as url:
        print(f"(DynamoDB: moto on {url}, table {LOCAL_TABLE})")
        clock = Clock()
        store = DynamoProgressStore(LOCAL_TABLE, clock=clock)
        app.use_skill(build_skill(Settings(LOCAL_TABLE, DEFAULT_SKILL_ID), store=store, clock=clock))
        simulator = Simulator(quietly(app.lambda_handler), store, clock, sys.stdout)
        try:
            simulator.run_script(lines)
        except ScriptFailure as failure:
            print(f"\nDEMO FAILED: {failure}", file=sys.stderr)
            return 1
    print("\nDemo finished: every turn answered within Alexa's limits.")
    return 0


def quiet_environment() -> None:
    """Quiet the skill's own JSON logs and metrics so a transcript reads cleanly."""
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "ERROR")
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")


if __name__ == "__main__":
    quiet_environment()
    sys.exit(main())
