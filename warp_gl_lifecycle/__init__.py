"""warp-gl-lifecycle: the OpenGL side of NVIDIA Warp, released exactly once, in the right context.

Importing the package registers the exit hook (see :mod:`warp_gl_lifecycle.registry`) and the
after-fork guard (:mod:`warp_gl_lifecycle.forkguard`), and installs
the drop-ins for Warp's own renderer (:mod:`warp_gl_lifecycle.warp_compat`) and, when Newton is
imported, Newton's viewer (:mod:`warp_gl_lifecycle.newton_compat`) unless the environment sets
``WARP_GL_LIFECYCLE=0``. In a child process of ``run`` (``WARP_GL_LIFECYCLE_RUN=1``, see
:mod:`warp_gl_lifecycle.children`) that has not imported Warp yet, the drop-ins are installed when it
does. It does not import ``pyglet.gl`` or create a GL context; GL-facing names are imported on first use.
"""

from . import forkguard  # noqa: F401 - the after-fork guard, before any GL use
from .managed_classes import managed
from .registry import Reason, Tracked, live, pending, release_all, run_deferred, stats, track
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
    "meshes",
    "owner_counts",
    "pending",
    "release_all",
    "report",
    "run_deferred",
    "set_camera",
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
    "meshes": ".meshes",  # a module: warp_gl_lifecycle.meshes.cube()
    "set_camera": ".camera",
    "uninstall": ".dropins",
}


def __dir__() -> list[str]:
    """What tab completion offers: the module's names, the lazy ones included (before first use)."""
    return sorted(set(globals()) | set(_LAZY))


def __getattr__(name: str):
    if name in _LAZY:
        import importlib  # noqa: PLC0415

        module = importlib.import_module(_LAZY[name], __name__)
        value = module if module.__name__ == f"{__name__}.{name}" else getattr(module, name)
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
    import os  # noqa: PLC0415 - here, not at module level: the package's namespace is its API
    import sys  # noqa: PLC0415

    if os.environ.get("WARP_GL_LIFECYCLE", "1").strip().lower() in ("0", "false", "no", "off"):
        return
    if os.environ.get("WARP_GL_LIFECYCLE_RUN") == "1" and "warp" not in sys.modules:
        from .when_imported import when_imported  # noqa: PLC0415

        # A child process of `run` (see children.py): Warp's import would cost every child ~2 s.
        when_imported("warp", lambda _warp: _install_now())
        return
    _install_now()


def _install_now() -> None:
    try:
        from .dropins import install  # noqa: PLC0415

        install()
    except Exception as exc:  # noqa: BLE001 - importing the package must never fail because of Warp
        import logging  # noqa: PLC0415

        logging.getLogger("warp_gl_lifecycle").warning("Warp's renderer left unpatched: %s", exc)


_registry.hooks_loader = _load_gl_hooks
_install_at_import()
from .notebooks import release_between_cells as _release_between_cells  # noqa: E402

_release_between_cells()  # under IPython: collected owners are released after every cell
