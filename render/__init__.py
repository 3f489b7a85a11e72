"""Render the routines to audio for AudioPlayer: script → speech clips → stitched PCM → MP3."""

import sys
from pathlib import Path

# The function's code lives in lambda/ (the Lambda artifact's root): importable when
# `make render-audio` (python -m render) runs from the repository, as sim/ does for itself.
_LAMBDA = str(Path(__file__).resolve().parent.parent / "lambda")
if _LAMBDA not in sys.path:
    sys.path.insert(0, _LAMBDA)
