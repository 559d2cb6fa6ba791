"""A safe point that imports no GL module: deferred releases run, and GL queues are flushed only
where the program has loaded the GL layer (shared by creation's safe point and notebook cells)."""

from __future__ import annotations

import sys

__all__ = ["flush_loaded"]


def flush_loaded() -> None:
    """A safe point that imports no GL module: :func:`~.glresources.flush` once the GL layer is
    loaded; before that no GL owner can exist, and only the registry's deferred releases run.
    (Importing ``pyglet.gl`` here, before Warp's ``__init__`` sets ``pyglet.options["debug_gl"]``,
    would turn pyglet's per-call error checking on for the whole program.) Main thread."""
    glresources = sys.modules.get(f"{__package__}.glresources")
    if glresources is not None:
        glresources.flush()
        return
    from .registry import registry  # noqa: PLC0415

    if registry.pending():
        registry.run_deferred()
