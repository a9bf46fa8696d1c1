"""What the Pulumi CLI runs for `--policy-pack policy_pack`: the guardrails as a mandatory policy pack."""

import sys
from pathlib import Path

# The pack's rules are the repo's (components/guardrails/): make the repo root importable whichever
# interpreter runs the pack. The CLI puts this directory on sys.path, so the sibling module imports.
_REPO_ROOT = str(Path(__file__).resolve().parent.parent)
if _REPO_ROOT not in sys.path:
    sys.path.insert(0, _REPO_ROOT)

from guardrail_policies import serve  # noqa: E402

serve()
