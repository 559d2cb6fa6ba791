"""The main job: an animated grid of instanced cubes drawn headless, released cleanly, reported.

Run as ``python -m warp_gl_lifecycle demo``. The instance transforms are computed every frame by
a Warp kernel on the chosen device and handed to :class:`ShapeInstancer.update_instances`.
"""

from __future__ import annotations

import argparse
import atexit
import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import warp as wp

__all__ = ["add_arguments", "main"]


def add_arguments(parser) -> None:
    from .cli import frame_size  # noqa: PLC0415

    parser.add_argument("--instances", type=_positive, default=4096, help="number of cubes (default 4096)")
    parser.add_argument("--frames", type=_positive, default=60, help="frames to draw (default 60)")
    parser.add_argument("--device", default=None, help="Warp device (default: cuda:0 if present, else cpu)")
    parser.add_argument("--interop", default="auto", choices=("auto", "shared", "map", "copy"),
                        help="how a CUDA instancer hands matrices to GL (default auto; see docs/api.md)")
    parser.add_argument("--out", default="demo.png", help="PNG file for the last frame (default demo.png)")
    parser.add_argument("--size", type=frame_size, default=(640, 480), help="frame size WIDTHxHEIGHT (default 640x480)")
    parser.add_argument("--leave-open", action="store_true", help="skip close() to show the exit release")
    parser.add_argument("--window", action="store_true", help="draw in a visible window instead of headless")


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


@dataclass
class Report:
    frames: int = 0
    instances: int = 0
    device: str = ""
    interop: str = ""
    update_ms: list[float] = field(default_factory=list)
    names: dict = field(default_factory=dict)
    out: str = ""

    def print(self) -> None:
        from . import glresources, registry  # noqa: PLC0415

        stats = registry.stats()
        alive = sum(len(glresources.live_names(kind, self.names.get(key, []))) for kind, key in _NAME_KINDS)
        per_update = float(np.median(self.update_ms)) if self.update_ms else float("nan")
        print(f"frames drawn          {self.frames}")
        print(f"instances             {self.instances} on {self.device} (interop {self.interop})")
        print(f"instance update       {per_update:.3f} ms median ({per_update * 1e6 / max(self.instances, 1):.1f} ns per instance)")
        print(f"owners released       {stats['released_close']} by close, {stats['released_exit']} at exit, {stats['released_gc']} by gc")
        print(f"GL names alive at end {alive}")
        print(f"last frame            {self.out}")


_left_open: list = []
_NAME_KINDS = (("buffer", "buffers"), ("vao", "vaos"), ("program", "programs"))


def check_arguments(args) -> Any:
    """What can be checked before drawing; returns the Warp device. Raises
    ``argparse.ArgumentTypeError`` naming the option (``__main__`` makes it a usage error).
    Leaves pyglet headless unless ``--window``, and a GL context current.

    ``--window`` asks for a visible window, so it overrides ``PYGLET_HEADLESS=true`` (which the
    Makefile exports); it is refused only where pyglet's GL was already loaded headless in
    this process (nothing could show a window then)."""
    import sys  # noqa: PLC0415

    import pyglet  # noqa: PLC0415

    from . import cli  # noqa: PLC0415

    if args.window:
        if pyglet.options["headless"] and "pyglet.gl" in sys.modules:
            cli.check_display()  # no display at all is the first thing to say
            raise _usage("--window: pyglet's GL is already loaded headless in this process "
                         "(PYGLET_HEADLESS=true), so no window can be shown; leave --window out")
        pyglet.options["headless"] = False
        cli.check_display()
    else:
        pyglet.options["headless"] = True
    cli.output_file(args.out, "--out")
    _check_image_suffix(args.out)
    from .instancer import MAX_INSTANCES  # noqa: PLC0415 - imports pyglet's GL: a context is current

    if args.instances > MAX_INSTANCES:
        raise _usage(f"--instances {args.instances} is more than one instancer holds ({MAX_INSTANCES})")
    cli.check_frame_size(args.size)
    device = cli.warp_device(args.device)
    if not device.is_cuda and args.interop not in ("auto", "copy"):
        raise _usage(f"--interop {args.interop} needs a CUDA device; {device} copies (choose auto or copy)")
    return device


def _check_image_suffix(path: str) -> None:
    """pyglet can write an RGBA image (what the demo saves) to ``path``'s suffix: PNG always;
    more with Pillow installed, though not JPEG (Pillow writes no alpha there). Tried in memory."""
    import io  # noqa: PLC0415
    import os  # noqa: PLC0415

    import pyglet  # noqa: PLC0415

    try:
        pyglet.image.ImageData(1, 1, "RGBA", bytes(4)).save(path, file=io.BytesIO())
    except Exception:  # noqa: BLE001 - no encoder for the suffix, or none for RGBA
        suffix = os.path.splitext(path)[1] or "files without a suffix"
        raise _usage(f"--out {path!r}: pyglet cannot write {suffix}; use .png") from None


def _usage(message: str) -> Exception:
    return argparse.ArgumentTypeError(message)


def _open_window(args) -> Any:
    """The demo's window; a failure to make one is a usage error naming the option."""
    import pyglet  # noqa: PLC0415

    width, height = args.size
    try:
        return pyglet.window.Window(width, height, visible=args.window, caption="warp-gl-lifecycle demo")
    except Exception as exc:  # noqa: BLE001 - pyglet raises several kinds (no display, GL errors)
        option = "--window" if args.window else f"--size {width}x{height}"
        raise _usage(f"{option}: cannot open the window: {exc}") from None


def main(args) -> int:
    """Draw, save, close and report. Checks every argument first (:func:`check_arguments`).
    With ``--window``, closing the window ends the drawing early; the rest (save, close,
    report, exit status 0) is the same."""
    import pyglet  # noqa: PLC0415

    device = check_arguments(args)
    width, height = args.size

    report = Report(instances=args.instances, device=str(device), out=args.out)
    if args.leave_open:
        atexit.register(report.print)  # registered before any context, so it runs after the release

    from pyglet import gl  # noqa: PLC0415

    from . import meshes  # noqa: PLC0415
    from .camera import set_camera  # noqa: PLC0415
    from .instancer import ShapeInstancer  # noqa: PLC0415

    window = _open_window(args)
    cols = math.ceil(math.sqrt(args.instances))
    spacing = 1.5
    extent = cols * spacing
    instancer = ShapeInstancer(device=device, name="demo grid", interop=args.interop)
    instancer.register_shape(*meshes.cube(), color1=(0.2, 0.6, 1.0))
    transforms = wp.zeros(args.instances, dtype=wp.transform, device=device)
    wp.launch(_animate_grid, dim=args.instances, inputs=[0.0, cols, spacing], outputs=[transforms], device=device)
    positions = transforms.numpy()[:, :3]
    hues = np.linspace(0.0, 1.0, args.instances, endpoint=False)
    colors = np.stack([0.5 + 0.5 * np.cos(2 * np.pi * (hues + k / 3)) for k in range(3)], axis=1)
    instancer.allocate_instances(positions, colors1=colors)
    report.interop = instancer.interop
    report.names = instancer._gl.names()

    set_camera(instancer.shape_shader, eye=(0, extent * 0.9, extent * 1.1), fov=45, aspect=width / height,
               near=0.1, far=extent * 4)
    gl.glEnable(gl.GL_DEPTH_TEST)
    gl.glViewport(0, 0, width, height)

    for frame in range(args.frames):
        t = frame / 30.0
        start = time.perf_counter()
        wp.launch(_animate_grid, dim=args.instances, inputs=[t, cols, spacing], outputs=[transforms], device=device)
        instancer.update_instances(transforms)
        wp.synchronize_device(device)
        report.update_ms.append((time.perf_counter() - start) * 1e3)
        gl.glClearColor(0.08, 0.08, 0.1, 1.0)
        gl.glClear(gl.GL_COLOR_BUFFER_BIT | gl.GL_DEPTH_BUFFER_BIT)
        instancer.render()
        report.frames += 1
        if args.window:
            window.flip()
            window.dispatch_events()
            if window.has_exit:  # the user closed the window (pyglet's on_close): stop, as they expect
                break

    with open(args.out, "wb") as file:
        pyglet.image.get_buffer_manager().get_color_buffer().save(args.out, file=file)
    if args.leave_open:
        _left_open.append((window, instancer))  # alive until exit, like a script's globals
    else:
        instancer.close()
        report.print()
        window.close()
    return 0


@wp.kernel
def _animate_grid(t: float, cols: int, spacing: float, transforms: wp.array(dtype=wp.transform)):
    """Cube ``i`` sits on a ``cols``-wide grid, bobbing on a travelling wave and spinning."""
    i = wp.tid()
    row = float(i // cols)
    col = float(i % cols)
    half = float(cols - 1) * spacing * 0.5
    x = col * spacing - half
    z = row * spacing - half
    y = wp.sin(0.35 * (x + z) - 2.0 * t) * spacing * 0.6
    spin = wp.quat_from_axis_angle(wp.normalize(wp.vec3(1.0, 1.0, 0.0)), t + 0.1 * float(i))
    transforms[i] = wp.transform(wp.vec3(x, y, z), spin)
