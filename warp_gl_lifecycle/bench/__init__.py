"""``python -m warp_gl_lifecycle bench``: cost ratios measured side by side in one run (lower is better).

Each key is a ratio, ours / a baseline, measured in alternation within one process; the report
gives the median over repeats with min and max, the goal, and whether it is met. Timings are wall
clock on whatever machine runs it; the ratios, not the seconds, are what to compare.

One module per subject: :mod:`.registry`, :mod:`.exit`, :mod:`.frame`, :mod:`.cpu`, :mod:`.gpu` and
:mod:`.newton` measure keys; :mod:`.common` holds what they share (the goals, the summary), :mod:`.report`
and :mod:`.plot` the output, :mod:`.command` the CLI that runs them. Arrows point from
:mod:`.command` to the subjects and from the subjects to :mod:`.common` only.
"""

from __future__ import annotations

from .command import GROUPS, add_arguments, check_arguments, main
from .common import GOALS
from .cpu import numpy_instance_matrices

__all__ = ["GOALS", "GROUPS", "add_arguments", "check_arguments", "main", "numpy_instance_matrices"]
