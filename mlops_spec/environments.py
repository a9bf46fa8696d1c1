"""The environments a pipeline moves through, and the two modes of an install. Pure Python."""

from __future__ import annotations

from typing import Literal

Environment = Literal["dev", "staging", "prod"]
ENVIRONMENTS: tuple[Environment, ...] = ("dev", "staging", "prod")
Mode = Literal["single", "multi"]
MODES: tuple[Mode, ...] = ("single", "multi")
