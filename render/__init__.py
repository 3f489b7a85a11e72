"""Render the routines to audio for AudioPlayer: script → speech clips → stitched PCM → MP3."""

import sys
from pathlib import Path

# The function's code lives in lambda/ (the Lambda artifact's root); make it importable when
# the renderer runs from the repository (`make render-audio`, `python -m render.figures`).
_LAMBDA = str(Path(__file__).resolve().parent.parent / "lambda")
if _LAMBDA not in sys.path:
    sys.path.insert(0, _LAMBDA)
