"""The test suite; ``python -m tests.understanding`` runs from here too."""

import sys
from pathlib import Path

# The function's code lives in lambda/ (the Lambda artifact's root): importable when a module
# of the suite runs on its own (pytest puts it on the path itself).
_LAMBDA = str(Path(__file__).resolve().parent.parent / "lambda")
if _LAMBDA not in sys.path:
    sys.path.insert(0, _LAMBDA)
