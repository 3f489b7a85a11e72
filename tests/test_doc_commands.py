"""Every command the README and docs/ give, run the way they write it where it can run
offline; the others are listed here with the reason they cannot. A command added to a doc
fails this test until it is run or given its reason."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from tests.support import ROOT

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# What a command that reads a terminal is typed, then how it is left.
TYPED = {"make chat": "open pelvic ease\n/quit\n"}
# Commands that need what a test does not have, by their start: the reason.
NOT_OFFLINE = {
    "make test": "the suite itself",
    "make bench": "minutes; tests/test_bench.py runs it on a tiny configuration",
    "make understanding": "every sentence of the corpus in five states; tests/test_understanding.py does it",
    "make build": "installs the SAM CLI from the package index; CI runs it (make deploy-checks)",
    "make deploy-checks": "installs the SAM CLI and checkov; CI runs it",
    'make chat ARGS="--endpoint': "needs DynamoDB Local running on localhost:8000",
    'make render-audio ARGS="--synth polly': "Amazon Polly and the stack's bucket",
    "ask ": "the Alexa developer account (ASK CLI)",
    "SKILL_ID=": "reads .ask/ask-states.json, which the first `ask deploy` writes",
    ".venv-sam/bin/sam ": "an AWS account (sam local needs Docker)",
    "output()": "the AWS CLI, against the deployed stacks",
    "aws ": "the AWS CLI, against the deployed stacks",
    "--query": "the rest of the output() definition",
    ".venv/bin/python -m publish.": "the deployed stacks; tests/test_publish.py runs it against moto",
    'make site ARGS="--upload': "the stack's bucket; tests/test_publish.py uploads to moto",
    'make certify ARGS="--deployed"': "needs step 4's skill.json; tests/test_publish.py runs it on one",
}


def commands(page: Path) -> list[str]:
    """The commands of a page's ```sh blocks: one a line, comments and continuations joined,
    a here-document's body left out (tests/test_deploy.py runs the step-4 script)."""
    found: list[str] = []
    for block in re.findall(r"```sh\n(.*?)```", page.read_text(), re.DOTALL):
        for line in re.sub(r"<<'(\w+)'\n.*?\n\1\n", "\n", block, flags=re.DOTALL).splitlines():
            text = line.split("  #", 1)[0].strip()
            if text and not text.startswith("#") and not re.match(r"^\w+ *#", text):
                found.append(text)
    return found


def documented() -> list[tuple[str, str]]:
    """(the first page that gives it, the command), each command once."""
    first: dict[str, str] = {}
    for page in PAGES:
        for command in commands(page):
            first.setdefault(command, page.name)
    return [(page, command) for command, page in first.items()]


def reason_not_run(command: str) -> str | None:
    return next((why for start, why in NOT_OFFLINE.items() if command.startswith(start)), None)


OFFLINE = [(page, command) for page, command in documented() if reason_not_run(command) is None]


def test_every_documented_command_is_run_here_or_has_its_reason() -> None:
    assert OFFLINE, "no documented command runs offline: the collection is broken"
    for page, command in OFFLINE:
        assert command.startswith("make "), f"{page}: {command!r} is neither run here nor given a reason"


@pytest.mark.parametrize(("page", "command"), OFFLINE, ids=[f"{p}: {c}" for p, c in OFFLINE])
def test_the_command_runs_as_the_docs_write_it(page: str, command: str) -> None:
    before = set(ROOT.iterdir())
    typed = next((text for start, text in TYPED.items() if command.startswith(start)), "")
    # As a reader runs it, from the project folder; the environment is already installed
    # (a stale stamp would make `make` reinstall it from the package index, which no test may reach).
    env = {**os.environ, "MAKEFLAGS": "--old-file=.venv/.installed-stamp"}
    try:
        done = subprocess.run(
            ["bash", "-c", command], cwd=ROOT, input=typed, capture_output=True, text=True,
            timeout=300, env=env, check=False,
        )  # fmt: skip
    finally:
        for made in set(ROOT.iterdir()) - before:  # what it wrote into the project folder
            made.unlink()
    assert done.returncode == 0, f"{page}: {command}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
