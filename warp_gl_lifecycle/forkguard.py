"""After ``fork``: the child forgets the parent's GL contexts and, if the parent had used GL, refuses
to make its own (which would hang) with an error naming spawn and forkserver.

Registered with ``os.register_at_fork`` when the package is imported (``import warp_gl_lifecycle``
or ``python -m warp_gl_lifecycle run``), so it covers GL used in any way before the fork: the
program's own pyglet window, ``import pyglet.gl`` (which makes pyglet's shadow window), a
renderer made before the import, and everything this package makes. It imports nothing: a
process that never imported ``pyglet.gl`` has used no GL through pyglet, and its children are
left alone.
"""

from __future__ import annotations

import os
import sys

__all__ = ["REFUSAL", "parent_used_gl"]

REFUSAL = (
    "OpenGL cannot be used in a process forked from one that had used it (its driver's display "
    "connection and worker threads stay with the parent; a context made here would hang): start the "
    "process with multiprocessing.get_context(\"spawn\") or multiprocessing.get_context(\"forkserver\") "
    "instead of fork"
)


def parent_used_gl() -> bool:
    """Whether this process has used GL through pyglet: a current context, an open window or
    pyglet's shadow window. Imports nothing; any thread."""
    gl = sys.modules.get("pyglet.gl")
    if gl is None:
        return False
    app = sys.modules.get("pyglet.app")
    windows = list(getattr(app, "windows", ()) or ())
    return gl.current_context is not None or getattr(gl, "_shadow_window", None) is not None or bool(windows)


def _after_fork_in_child() -> None:
    """In a forked child: the parent's GL contexts are not usable here (EGL and GLX state belongs
    to the parent process), and destroying them from the child, as pyglet does when an inherited
    window is collected at exit, can hang in the driver. The child forgets them: inherited
    windows count as closed, no context is current, queued names are the parent's business.

    If the parent had used GL, the child cannot use it either: the driver's display connection is
    the parent's and its worker threads (Mesa llvmpipe's rasterizer, a GPU driver's) do not exist
    in the child, so a context made here hangs at its first draw, and again at exit. Making a
    pyglet context in such a child (a window, a renderer) raises ``RuntimeError`` at once (see
    :data:`REFUSAL`); a child that does not touch GL is unaffected.
    """
    if not parent_used_gl():
        return
    gl = sys.modules["pyglet.gl"]
    app = sys.modules.get("pyglet.app")
    windows = getattr(app, "windows", None)
    for window in [*(windows or ()), getattr(gl, "_shadow_window", None)]:
        if window is not None:
            window._context = None  # what Window.close() leaves behind, without destroying
    if windows is not None:
        windows.clear()
    gl._shadow_window = None
    gl.current_context = None
    base = sys.modules.get("pyglet.gl.base")
    if base is not None and not getattr(base.Context.__init__, "refuses_after_fork", False):

        def refuse_after_fork(self, *args, **kwargs):
            raise RuntimeError(REFUSAL)

        refuse_after_fork.refuses_after_fork = True
        base.Context.__init__ = refuse_after_fork  # every pyglet context (EGL, GLX, ...) starts here


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
