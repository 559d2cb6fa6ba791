"""Releases between notebook cells: under IPython or Jupyter, owners collected during a cell are
released right after it, on the main thread, through IPython's ``post_run_cell`` event.

IPython is never imported here: it is looked up in ``sys.modules`` (a kernel imports it before the
user's first cell), at ``import warp_gl_lifecycle`` and again at every renderer's or viewer's
creation (a shell started after the package was imported, ``IPython.embed()`` say, is found then).
"""

from __future__ import annotations

import logging
import sys
from typing import Any

__all__ = ["after_cell", "release_between_cells"]

logger = logging.getLogger("warp_gl_lifecycle")


def release_between_cells() -> bool:
    """If an IPython shell runs this process, register :func:`after_cell` on its ``post_run_cell``
    event, once per shell. Main thread. Returns whether it is registered (False outside IPython)."""
    ipython = sys.modules.get("IPython")
    get_ipython = getattr(ipython, "get_ipython", None)
    shell = get_ipython() if get_ipython is not None else None
    events = getattr(shell, "events", None)
    if events is None:
        return False
    if after_cell not in events.callbacks.get("post_run_cell", ()):
        events.register("post_run_cell", after_cell)
    return True


def after_cell(*_result: Any) -> None:
    """IPython's ``post_run_cell`` callback (main thread, between cells): a safe point. Releases
    owners collected during the cell and deletes queued GL names; imports no GL module the program
    has not used. Never raises an ``Exception`` into IPython (it is logged)."""
    from .safe_point import flush_loaded  # noqa: PLC0415

    try:
        flush_loaded()
    except Exception as exc:  # noqa: BLE001 - a failed release must not break the user's next cell
        logger.warning("warp_gl_lifecycle: release after the cell failed: %s: %s", type(exc).__name__, exc)
