"""warp-gl-lifecycle: the OpenGL side of NVIDIA Warp, released exactly once, in the right context.

Importing the package registers the exit hook (see :mod:`warp_gl_lifecycle.registry`) and installs
the drop-ins for Warp's own renderer (:mod:`warp_gl_lifecycle.warp_compat`) and, when Newton is
imported, Newton's viewer (:mod:`warp_gl_lifecycle.newton_compat`) unless the environment sets
``WARP_GL_LIFECYCLE=0``. It does not import ``pyglet.gl`` or create a GL context; GL-facing
names are imported on first use.
"""

from __future__ import annotations

import os

from .registry import Reason, Tracked, live, managed, pending, release_all, run_deferred, stats, track
from .registry import registry as _registry

__version__ = "0.1.0"

__all__ = [
    "Reason",
    "ShapeInstancer",
    "Tracked",
    "flush",
    "handle_signals",
    "install",
    "installed",
    "live",
    "managed",
    "owner_counts",
    "pending",
    "release_all",
    "report",
    "run_deferred",
    "stats",
    "track",
    "uninstall",
]

_LAZY = {
    "ShapeInstancer": ".instancer",
    "flush": ".glresources",
    "handle_signals": ".signals",
    "owner_counts": ".diagnostics",
    "report": ".diagnostics",
    "install": ".dropins",
    "installed": ".dropins",
    "uninstall": ".dropins",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib  # noqa: PLC0415

        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _load_gl_hooks(context) -> None:
    """The registry met its first context key: if it is a pyglet context, load the GL layer, which
    installs the hooks that make contexts current (so ``managed(..., context=...)`` works before
    any GL part of this package was used)."""
    if type(context).__module__.startswith("pyglet."):
        from . import glresources  # noqa: F401, PLC0415


def _install_at_import() -> None:
    if os.environ.get("WARP_GL_LIFECYCLE", "1").strip().lower() in ("0", "false", "no", "off"):
        return
    try:
        from .dropins import install  # noqa: PLC0415

        install()
    except Exception as exc:  # noqa: BLE001 - importing the package must never fail because of Warp
        import logging  # noqa: PLC0415

        logging.getLogger("warp_gl_lifecycle").warning("Warp's renderer left unpatched: %s", exc)


_registry.hooks_loader = _load_gl_hooks
_install_at_import()
