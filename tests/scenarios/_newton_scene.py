"""Shared by the scenarios that use Newton's ViewerGL: set-up, a small scene, frames, GL name counts.

Environment: WGL_IMPORT=0 leaves warp_gl_lifecycle out (plain Newton, or the scenario runs under
``python -m warp_gl_lifecycle run``); WGL_DEBUG=1 prints the package's debug log (which context
deletes what) on stdout; WGL_DESKTOP=1 opens real windows (Xvfb, GLX) instead of headless EGL;
WGL_DEVICE picks the Warp device (default cpu; on CUDA every CUDA-GL interop path is enabled).
"""

import os
import sys

DESKTOP = os.environ.get("WGL_DESKTOP") == "1"
if not DESKTOP:
    os.environ.setdefault("PYGLET_HEADLESS", "true")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

import pyglet  # noqa: E402

pyglet.options["headless"] = not DESKTOP

if os.environ.get("WGL_IMPORT", "1") == "1":
    import warp_gl_lifecycle  # noqa: F401

if os.environ.get("WGL_DEBUG") == "1":  # the package's debug log (which context deletes what) on stdout
    import logging

    logging.basicConfig(stream=sys.stdout, level=logging.WARNING, format="%(message)s")
    logging.getLogger("warp_gl_lifecycle").setLevel(logging.DEBUG)


def _report():
    if "warp_gl_lifecycle" in sys.modules:
        print("STATS", sorted(sys.modules["warp_gl_lifecycle"].stats().items()), flush=True)


if "pytest" not in sys.modules:  # a scenario run as a program: registered first, so it runs last
    import atexit

    atexit.register(_report)

import warp as wp  # noqa: E402

wp.config.log_level = wp.LOG_WARNING
wp.config.quiet = True
import newton  # noqa: E402
import newton.viewer  # noqa: E402
import numpy as np  # noqa: E402

WIDTH, HEIGHT = 64, 48
DEVICE = os.environ.get("WGL_DEVICE", "cpu")
wp.set_device(DEVICE)
_model = []


def model():
    """A box, a sphere and a ground plane (built once per process)."""
    if not _model:
        with wp.ScopedDevice(DEVICE):
            builder = newton.ModelBuilder()
            body = builder.add_body(xform=wp.transform((0.0, 0.0, 1.0), wp.quat_identity()))
            builder.add_shape_box(body, hx=0.3, hy=0.2, hz=0.1)
            body = builder.add_body(xform=wp.transform((1.0, 0.0, 1.0), wp.quat_identity()))
            builder.add_shape_sphere(body, radius=0.25)
            builder.add_ground_plane()
            built = builder.finalize(device=DEVICE)
            _model.extend([built, built.state()])
    return _model


def viewer():
    interop = getattr(newton.viewer.ViewerGL, "CudaInterop", None)  # every CUDA-GL path Newton has, on CUDA
    if interop is None:  # Newton 1.5: CUDA-GL interop is always on
        return newton.viewer.ViewerGL(width=WIDTH, height=HEIGHT, headless=not DESKTOP)
    return newton.viewer.ViewerGL(width=WIDTH, height=HEIGHT, headless=not DESKTOP,
                                  enable_cuda_interop=interop.ALL if DEVICE.startswith("cuda") else interop.DYNAMIC_MESH)


def draw(v, frames=2):
    """Shapes (MeshGL + MeshInstancerGL), lines (LinesGL), points; ``frames`` frames."""
    v.set_model(model()[0])
    more_frames(v, frames)


def more_frames(v, frames=2):
    """``frames`` more frames of the scene :func:`draw` set up."""
    state = model()[1]
    starts = wp.array([(0.0, 0.0, 0.0)], dtype=wp.vec3, device=DEVICE)
    ends = wp.array([(1.0, 1.0, 1.0)], dtype=wp.vec3, device=DEVICE)
    colors = wp.array([(1.0, 0.0, 0.0)], dtype=wp.vec3, device=DEVICE)
    points = wp.array(np.random.default_rng(0).uniform(-1, 1, (8, 3)).astype(np.float32), dtype=wp.vec3, device=DEVICE)
    for frame in range(frames):
        v.begin_frame(frame / 60.0)
        v.log_state(state)
        v.log_lines("lines", starts, ends, colors)
        v.log_points("points", points, 0.05)
        v.end_frame()


def pixels(v):
    return v.get_frame().numpy()


def rss_mb():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS")) / 1024


def live_names(limit=4000):
    """Live shared GL names by kind, seen from pyglet's shadow context (same object space)."""
    from pyglet import gl

    previous = gl.current_context
    gl._shadow_window.switch_to()
    counts = {kind: sum(1 for n in range(1, limit) if check(n)) for kind, check in
              (("buffers", gl.glIsBuffer), ("textures", gl.glIsTexture),
               ("renderbuffers", gl.glIsRenderbuffer), ("programs", gl.glIsProgram))}
    if previous is not None and previous.canvas is not None:
        previous.set_current()
    return counts
