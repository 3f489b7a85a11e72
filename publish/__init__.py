"""Publishing the skill: what certification and the deploy need beside the function's code.

The CA bundle the function trusts, the skill's images and legal pages (made here, hosted on
the stack's CloudFront distribution), the step that points skill.json at the deployed stacks
of every region, the pruning of old SnapStart versions, and the offline certification
pre-check (`make certify`).
"""

import sys
from pathlib import Path

# The function's code lives in lambda/ (the Lambda artifact's root), as for sim/ and render/.
_LAMBDA = str(Path(__file__).resolve().parent.parent / "lambda")
if _LAMBDA not in sys.path:
    sys.path.insert(0, _LAMBDA)
