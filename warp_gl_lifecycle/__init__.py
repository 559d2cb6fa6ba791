"""warp-gl-lifecycle: the OpenGL side of NVIDIA Warp, released exactly once, in the right context.

Importing the package registers the exit hook (see :mod:`warp_gl_lifecycle.registry`); it does
not import pyglet or create a GL context. GL-facing names are imported on first use.
"""

from __future__ import annotations

from .registry import Reason, Tracked, live, managed, pending, registry, release_all, run_deferred, stats, track

__version__ = "0.1.0"

__all__ = [
    "Reason",
    "ShapeInstancer",
    "Tracked",
    "flush",
    "live",
    "managed",
    "pending",
    "registry",
    "release_all",
    "run_deferred",
    "stats",
    "track",
]

_LAZY = {"ShapeInstancer": ".instancer", "flush": ".glresources"}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib  # noqa: PLC0415

        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
