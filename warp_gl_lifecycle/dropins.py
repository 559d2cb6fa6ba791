"""Installs and removes the package's drop-ins for upstream libraries together: Warp's renderer
(:mod:`.warp_compat`) and Newton's viewer (:mod:`.newton_compat`, patched when Newton is imported)."""

from __future__ import annotations

__all__ = ["install", "installed", "uninstall"]


def install() -> bool:
    """Install every drop-in (idempotent; never raises). Returns whether Warp's is installed;
    Newton's waits for Newton's import, or logs one warning for an unsupported Newton."""
    from . import newton_compat, warp_compat  # noqa: PLC0415

    warp_ok = warp_compat.install()
    newton_compat.install()
    return warp_ok


def uninstall() -> None:
    """Give Warp and Newton their own behaviour back for everything made from now on."""
    from . import newton_compat, warp_compat  # noqa: PLC0415

    newton_compat.uninstall()
    warp_compat.uninstall()


def installed() -> bool:
    """True while the drop-ins are installed: Warp's renderer is patched (Newton's viewer is
    patched or waiting for Newton's import, unless this Newton is unsupported)."""
    from . import warp_compat  # noqa: PLC0415

    return warp_compat.installed()
