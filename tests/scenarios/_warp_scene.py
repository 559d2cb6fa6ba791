"""Shared by the scenarios that use Warp's own OpenGLRenderer: set-up, a scene, pixels.

Environment: WGL_IMPORT=0 leaves warp_gl_lifecycle out (for the "fails without it" half, or when
the scenario runs under ``python -m warp_gl_lifecycle run``); WGL_DESKTOP=1 draws in a real
window (Xvfb, GLX) instead of headless EGL; WGL_DEVICE picks the Warp device (default cpu).
"""

import os
import sys

DESKTOP = os.environ.get("WGL_DESKTOP") == "1"
DEVICE = os.environ.get("WGL_DEVICE", "cpu")
if not DESKTOP:
    os.environ.setdefault("PYGLET_HEADLESS", "true")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

import numpy as np  # noqa: E402
import pyglet  # noqa: E402

pyglet.options["headless"] = not DESKTOP

if os.environ.get("WGL_IMPORT", "1") == "1":
    import warp_gl_lifecycle  # noqa: F401



def _report():
    if "warp_gl_lifecycle" in sys.modules:  # imported above, later, or by `python -m warp_gl_lifecycle run`
        print("STATS", sorted(sys.modules["warp_gl_lifecycle"].stats().items()), flush=True)


if "pytest" not in sys.modules:  # a scenario run as a program: registered first, so it runs last
    import atexit

    atexit.register(_report)

import warp as wp  # noqa: E402

# warp_gl_lifecycle.warp_compat.quiet_warp, repeated here: importing the package would install the drop-in.
if hasattr(wp, "LOG_WARNING"):
    wp.config.log_level = wp.LOG_WARNING
else:  # Warp before 1.14
    wp.config.quiet = True
import warp.render  # noqa: E402

WIDTH, HEIGHT = 64, 48
MESH_POINTS = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]], dtype=np.float32)
MESH_INDICES = np.array([0, 1, 2, 0, 2, 3, 0, 3, 1, 1, 3, 2], dtype=np.int32)


def renderer(**kwargs):
    return warp.render.OpenGLRenderer(
        screen_width=WIDTH, screen_height=HEIGHT, headless=not DESKTOP, device=DEVICE, vsync=False, **kwargs
    )


def draw(r, frames=24):
    """Meshes, boxes, spheres, points and lines, moving a little each frame."""
    rng = np.random.default_rng(0)
    points = rng.uniform(-1, 1, (50, 3)).astype(np.float32)
    for frame in range(frames):
        t = frame / 24.0
        r.begin_frame(t)
        r.render_box("box", pos=(0.0, 0.5 + 0.1 * t, 0.0), rot=(0.0, 0.0, 0.0, 1.0), extents=(0.4, 0.4, 0.4))
        r.render_sphere("sphere", pos=(1.0, 0.5, 0.0), rot=(0.0, 0.0, 0.0, 1.0), radius=0.3)
        r.render_mesh("mesh", MESH_POINTS + t, MESH_INDICES, pos=(-1.0, 0.0, 0.0))
        r.render_points("points", points, radius=0.05)
        r.render_line_strip("lines", [(0, 0, 0), (1, 0, 0), (1, 1, 0)], color=(1.0, 0.0, 0.0))
        r.end_frame()


def empty_frames(r, frames):
    """Frames with nothing but grid, sky and axis: what plain Warp can draw on a CPU device."""
    for frame in range(frames):
        r.begin_frame(frame / 24.0)
        r.end_frame()


def pixels(r):
    image = wp.zeros((HEIGHT, WIDTH, 3), dtype=wp.float32, device=DEVICE)
    r.get_pixels(image, split_up_tiles=False)
    return image.numpy()
