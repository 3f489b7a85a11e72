"""Precompile, in a built artifact, every module that answering requests loads.

Run by `make build-SkillFunction` with the Lambda runtime's Python (3.13):

    python3.13 tools/precompile_loaded.py ARTIFACT_DIR EVENTS_DIR

Lambda's code folder is read-only, so a module without bytecode is compiled again on
every cold start. Compiling the whole artifact would double its size (most of
ask-sdk-model is never imported), so only what requests load is compiled.

A request's modules include those of botocore's request path. urllib3 is one of them, and
the artifact carries its own copy because ask-sdk-core's `requests` needs it. That copy
shadows the runtime's. So the requests run through a real botocore client, as in Lambda:
the SnapStart rehearsal (pelvic_ease/snapstart.py), then every recorded event, with the
client's sends answered locally (nothing leaves the machine). The runtime's boto3 is not
in the artifact. The first run makes a Python 3.13 environment holding only the pinned
boto3 and snapshot-restore-py, as the Lambda runtime has them, in .cache/, and reruns
itself there.
"""

from __future__ import annotations

import json
import os
import py_compile
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNTIME_PACKAGES = ("boto3", "snapshot-restore-py")


def pins() -> list[str]:
    """The runtime's packages at the versions requirements-dev.txt pins."""
    lines = (ROOT / "requirements-dev.txt").read_text().splitlines()
    found = [line.split("#")[0].strip() for line in lines if line.split("==")[0].strip() in RUNTIME_PACKAGES]
    if len(found) != len(RUNTIME_PACKAGES):
        raise SystemExit(f"requirements-dev.txt must pin {', '.join(RUNTIME_PACKAGES)}")
    return found


def python_3_13() -> Path | None:
    """The Lambda runtime's Python version on this machine, if it has one (PATH or pyenv)."""
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates = [shutil.which("python3.13"), *sorted(pyenv.glob("versions/3.13*/bin/python3.13"))]
    for candidate in filter(None, candidates):
        if subprocess.run([str(candidate), "-c", "pass"], capture_output=True, check=False).returncode == 0:
            return Path(candidate)
    return None


def runtime_python_3_13() -> Path | None:
    """The runtime environment for Python 3.13, where this machine has that Python."""
    base = python_3_13()
    return runtime_python(base) if base else None


def runtime_python(base: Path) -> Path:
    """A cached environment of ``base`` with the runtime's packages, made on first use."""
    version = subprocess.run(
        [str(base), "-c", "import sys; print(*sys.version_info[:2], sep='.')"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    folder = ROOT / ".cache" / f"lambda-runtime-{version}"
    stamp = folder / "pins.txt"
    # made again when a pin or the interpreter changes; botocore and the rest as constraints.txt pins them
    wanted = "\n".join([str(base), *pins()])
    python = folder / "bin" / "python"
    if not (stamp.exists() and stamp.read_text() == wanted and python.exists()):
        subprocess.run([str(base), "-m", "venv", "--clear", str(folder)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *pins(),
             "-c", str(ROOT / "constraints.txt")],
            check=True,
        )  # fmt: skip
        stamp.write_text(wanted)
    return python


def rehearse(artifact: Path, events: Path) -> None:
    """Answer the SnapStart rehearsal and every recorded event from the artifact's code."""
    os.environ.update(
        POWERTOOLS_LOG_LEVEL="CRITICAL",
        POWERTOOLS_METRICS_DISABLED="true",
        PROGRESS_TABLE="precompile",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_ACCESS_KEY_ID="precompile",
        AWS_SECRET_ACCESS_KEY="precompile",  # signs requests that never leave
    )
    for name in ("SKILL_ID", "AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB"):
        os.environ.pop(name, None)
    sys.path.insert(0, str(artifact))
    from pelvic_ease import app, snapstart  # noqa: PLC0415

    recorded = [json.loads(path.read_text()) for path in sorted(events.glob("*.json"))]
    snapstart.rehearse(snapstart.prepare(), [*snapstart.rehearsal_events(None), *recorded], app.answer)


def main(artifact: Path, events: Path) -> int:
    try:
        import botocore  # noqa: F401, PLC0415
    except ImportError:
        python = runtime_python(Path(sys.executable))
        again = [str(python), "-B", "-W", "ignore", __file__, str(artifact), str(events)]
        return subprocess.run(again, check=False).returncode

    rehearse(artifact, events)
    root = artifact.resolve()
    compiled = 0
    for module in list(sys.modules.values()):
        source = getattr(module, "__file__", None)
        if source and source.endswith(".py") and Path(source).resolve().is_relative_to(root):
            py_compile.compile(
                source, doraise=True, invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH
            )
            compiled += 1
    print(f"precompiled {compiled} modules that requests load")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2])))
