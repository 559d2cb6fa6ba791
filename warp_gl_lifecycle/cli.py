"""Argument checks shared by the ``demo`` and ``bench`` commands: a mistake ends in one
argparse-style line (exit 2) before any work starts, not in a traceback after it.

Each check raises ``argparse.ArgumentTypeError`` naming the option; ``__main__`` turns it into
the command's usage error. Nothing here imports pyglet's GL or Warp before it is needed.
"""

from __future__ import annotations

import argparse
import errno
import os
import re
import sys
from typing import Any

__all__ = ["check_display", "check_frame_size", "frame_size", "output_file", "warp_device"]

_SIZE = re.compile(r"\s*(\d+)\s*[xX]\s*(\d+)\s*")


def frame_size(text: str) -> tuple[int, int]:
    """argparse ``type=``: ``WIDTHxHEIGHT`` as two positive ints (the upper bound needs a GL
    context: :func:`check_frame_size`)."""
    match = _SIZE.fullmatch(text)
    if not match:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT such as 640x480, got {text!r}")
    width, height = int(match[1]), int(match[2])
    if width <= 0 or height <= 0:
        raise argparse.ArgumentTypeError(f"width and height must be positive, got {text!r}")
    return width, height


def check_frame_size(size: tuple[int, int]) -> None:
    """``--size`` within what the current GL context can draw and read back (its viewport and
    renderbuffer limits). Main thread; does nothing without a current context."""
    from pyglet import gl  # noqa: PLC0415

    if gl.current_context is None:
        return
    viewport = (gl.GLint * 2)()
    gl.glGetIntegerv(gl.GL_MAX_VIEWPORT_DIMS, viewport)
    renderbuffer = gl.GLint()
    gl.glGetIntegerv(gl.GL_MAX_RENDERBUFFER_SIZE, renderbuffer)
    limits = (min(viewport[0], renderbuffer.value), min(viewport[1], renderbuffer.value))
    if size[0] > limits[0] or size[1] > limits[1]:
        raise argparse.ArgumentTypeError(
            f"--size {size[0]}x{size[1]} is larger than this GL can draw: at most {limits[0]}x{limits[1]}"
        )


def check_display(option: str = "--window") -> None:
    """A visible window needs a display: on Linux, ``DISPLAY`` (pyglet draws through X11), and
    one pyglet can connect to (importing its GL connects and makes its hidden shadow window)."""
    if sys.platform.startswith("linux") and not os.environ.get("DISPLAY"):
        raise argparse.ArgumentTypeError(f"{option} needs a display, and DISPLAY is not set; "
                                         "leave it out to draw headless")
    try:
        import pyglet.gl  # noqa: F401, PLC0415
    except Exception as exc:  # noqa: BLE001 - pyglet raises its own kinds for a missing display
        raise argparse.ArgumentTypeError(f"{option}: cannot use display {os.environ.get('DISPLAY')!r}: {exc}") from None


def output_file(path: str, option: str, suffixes: tuple[str, ...] | None = None, make_parents: bool = False) -> None:
    """``path`` can be written as a file: not a directory, a known suffix, and creatable or
    writable (tried: an existing file is opened for appending, a new one created and removed).
    ``make_parents``: the command creates missing parent directories when it writes; checked
    here without creating any (the nearest existing one must be a directory we may write in),
    so a command refused later leaves nothing behind."""
    if os.path.isdir(path):
        raise argparse.ArgumentTypeError(f"{option} {path!r} is a directory; give a file name")
    suffix = os.path.splitext(path)[1].lower()
    if suffixes is not None and suffix not in suffixes:
        raise argparse.ArgumentTypeError(
            f"{option} {path!r}: cannot write {suffix or 'files without a suffix'}; use {' or '.join(suffixes)}"
        )
    parent = os.path.dirname(os.path.abspath(path))
    if make_parents and not os.path.isdir(parent):
        _check_creatable(parent, path, option)
        return
    existed = os.path.exists(path)
    try:
        with open(path, "ab"):
            pass
    except OSError as exc:
        raise argparse.ArgumentTypeError(f"{option} {path!r} cannot be written: {exc.strerror}") from None
    if not existed:
        os.remove(path)


def _check_creatable(folder: str, path: str, option: str) -> None:
    """The missing ``folder`` (and ``path`` in it) could be created: its nearest existing
    ancestor is a directory this process may write in. Creates nothing."""
    ancestor = folder
    while not os.path.exists(ancestor):
        ancestor = os.path.dirname(ancestor)
    if not os.path.isdir(ancestor):
        reason = os.strerror(errno.ENOTDIR)
    elif not os.access(ancestor, os.W_OK | os.X_OK):
        reason = os.strerror(errno.EACCES)
    else:
        return
    raise argparse.ArgumentTypeError(f"{option} {path!r} cannot be written: {reason}")


def warp_device(name: str | None, option: str = "--device", cuda_only: bool = False) -> Any:
    """The Warp device ``name`` names (None: cuda:0 when present, else cpu); initialises Warp."""
    from .warp_compat import quiet_warp  # noqa: PLC0415

    wp = quiet_warp()
    wp.init()
    if name is None:
        return wp.get_device("cuda:0" if wp.is_cuda_available() else "cpu")
    available = ", ".join(str(d) for d in wp.get_devices())
    try:
        device = wp.get_device(name)
    except Exception:  # noqa: BLE001 - Warp raises ValueError or RuntimeError for unknown devices
        raise argparse.ArgumentTypeError(f"{option} {name!r} is not a device here; this machine has {available}") from None
    if cuda_only and not device.is_cuda:
        raise argparse.ArgumentTypeError(f"{option} must be a CUDA device, got {name!r}; this machine has {available}")
    return device
