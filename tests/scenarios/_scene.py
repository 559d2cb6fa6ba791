"""Shared set-up for the exit scenarios: headless pyglet, quiet Warp, a quad mesh, a window."""

import os
import sys

os.environ.setdefault("PYGLET_HEADLESS", "true")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

import numpy as np  # noqa: E402
import pyglet  # noqa: E402

pyglet.options["headless"] = True

QUAD = np.array(
    [[-1, -1, 0, 0, 0, 1, 0, 0], [1, -1, 0, 0, 0, 1, 1, 0], [1, 1, 0, 0, 0, 1, 1, 1], [-1, 1, 0, 0, 0, 1, 0, 1]],
    dtype=np.float32,
)
QUAD_INDICES = [0, 1, 2, 0, 2, 3]


def quiet_warp():
    from warp_gl_lifecycle.warp_compat import quiet_warp

    return quiet_warp()


def window(size=32):
    return pyglet.window.Window(size, size, visible=False)


def instancer(count=4, name=None, device=os.environ.get("WGL_DEVICE", "cpu")):
    """A ShapeInstancer with a quad shape and ``count`` instances, in the current context."""
    quiet_warp()
    from warp_gl_lifecycle import ShapeInstancer

    inst = ShapeInstancer(device=device, name=name, interop=os.environ.get("WGL_INTEROP", "auto"))
    inst.register_shape(QUAD * [0.1, 0.1, 1, 1, 1, 1, 1, 1], QUAD_INDICES, (1.0, 0.0, 0.0))
    inst.allocate_instances(np.zeros((count, 3)))
    inst.render()
    return inst


def report_at_exit():
    """Print the registry's figures after its exit hook has run (registered first, runs last)."""
    import atexit

    from warp_gl_lifecycle import stats

    atexit.register(lambda: print("STATS", sorted(stats().items())))
