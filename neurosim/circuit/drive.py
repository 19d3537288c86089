"""What a host sets on a network from outside, in model units (DESIGN.md §3.1)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

Arrays = Mapping[str, np.ndarray]


@dataclass(frozen=True)
class Drive:
    """What a host sets from outside: clamped inputs, spring targets, nudges.

    ``inputs``: input layer -> (batch, size). ``targets``: visible layer -> spring
    target x_t (batch, size). ``nudge_targets``: layer -> (batch, size), pulled with
    conductance ``nudge_strength`` (model units; may be negative).
    """

    inputs: Arrays = field(default_factory=dict)
    targets: Arrays = field(default_factory=dict)
    nudge_targets: Arrays = field(default_factory=dict)
    nudge_strength: float = 0.0
