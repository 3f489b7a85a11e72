"""`make demo`: play a scripted conversation through the real Lambda handler.

DynamoDB is moto's server on 127.0.0.1, started and stopped here: no AWS account needed.
The device has an audio player: the routines are rendered with espeak-ng (the first time,
about a minute) and served on 127.0.0.1, and a played routine plays on the script clock.
Exits non-zero, with the reason, if any turn goes wrong.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .local_skill import local_skill, quiet_environment
from .script import ScriptFailure, Simulator

SCRIPTS = Path(__file__).resolve().parent / "scripts"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("script", nargs="?", type=Path, default=SCRIPTS / "demo.txt", help="script file")
    args = parser.parse_args(argv)
    lines = args.script.read_text(encoding="utf-8").splitlines()
    with local_skill(audio=True) as skill:
        print(f"({skill.where})")
        simulator = Simulator(
            skill.handler, skill.table, skill.clock, sys.stdout, audio=True, alexa_api=skill.alexa_api
        )
        try:
            simulator.run_script(lines)
        except ScriptFailure as failure:
            print(f"\nDEMO FAILED: {failure}", file=sys.stderr)
            return 1
    print("\nDemo finished: every turn answered within Alexa's limits.")
    return 0


if __name__ == "__main__":
    quiet_environment()
    sys.exit(main())
