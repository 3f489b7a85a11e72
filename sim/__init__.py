"""Talk to Pelvic Ease without an Echo: the conversation driver, scripts and the demo."""

import sys
from pathlib import Path

# The function's code lives in lambda/ (the Lambda artifact's root); make it importable
# when the simulator runs from the repository.
_LAMBDA = str(Path(__file__).resolve().parent.parent / "lambda")
if _LAMBDA not in sys.path:
    sys.path.insert(0, _LAMBDA)
