"""The Newton keys of ``bench``: a ViewerGL frame with the drop-in / without, and RSS per viewer
create/draw/close cycle, ours beside plain Newton's. Headless, device cpu; needs ``newton``."""

from __future__ import annotations

import gc
import statistics
import time
from typing import Any

from .common import GOALS, alternating_ratios, summary

__all__ = ["bench_newton_cycle_rss", "bench_newton_frame_overhead", "newton_available"]


def newton_available() -> bool:
    import importlib.util  # noqa: PLC0415

    return importlib.util.find_spec("newton") is not None


def _scene() -> tuple[Any, Any]:
    import newton  # noqa: PLC0415
    import warp as wp  # noqa: PLC0415

    with wp.ScopedDevice("cpu"):
        builder = newton.ModelBuilder()
        body = builder.add_body(xform=wp.transform((0.0, 0.0, 1.0), wp.quat_identity()))
        builder.add_shape_box(body, hx=0.3, hy=0.2, hz=0.1)
        builder.add_shape_sphere(builder.add_body(), radius=0.25)
        builder.add_ground_plane()
        model = builder.finalize(device="cpu")
    return model, model.state()


def _viewer(model: Any) -> Any:
    import newton.viewer  # noqa: PLC0415

    viewer = newton.viewer.ViewerGL(width=320, height=240, headless=True)
    viewer.set_model(model)
    return viewer


def bench_newton_frame_overhead(frames: int, repeats: int) -> dict:
    """A ViewerGL frame (begin_frame, log_state, end_frame) with the drop-in / without, in short
    adjacent pairs of alternating order (``common.alternating_ratios``)."""
    from pyglet import gl  # noqa: PLC0415

    from .. import newton_compat  # noqa: PLC0415

    model, state = _scene()
    newton_compat.install()
    viewer = _viewer(model)

    def run(count: int) -> float:
        start = time.perf_counter()
        for frame in range(count):
            viewer.begin_frame(frame / 60.0)
            viewer.log_state(state)
            viewer.end_frame()
        gl.glFinish()
        return (time.perf_counter() - start) / count

    run(3)
    try:
        ratios, with_ms, without_ms = alternating_ratios(
            run, lambda installed: (newton_compat.install if installed else newton_compat.uninstall)(),
            frames, repeats, pairs=10)
    finally:
        newton_compat.install()
        viewer.close()
    return summary(ratios, GOALS["newton_frame_overhead"], {"scene": "box, sphere, ground plane; 320x240",
                                  "with_ms": round(with_ms, 3), "without_ms": round(without_ms, 3)})


def _rss_mb() -> float:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS")) / 1024


def _cycle_growth(model: Any, state: Any, cycles: int) -> float:
    """RSS growth per create/draw/close cycle in MB, after one cycle not counted."""
    def cycle() -> None:
        viewer = _viewer(model)
        for frame in range(2):
            viewer.begin_frame(frame / 60.0)
            viewer.log_state(state)
            viewer.end_frame()
        viewer.close()
        del viewer
        gc.collect()

    cycle()
    start = _rss_mb()
    for _ in range(cycles):
        cycle()
    return (_rss_mb() - start) / cycles


def bench_newton_cycle_rss(cycles: int, repeats: int) -> dict:
    """MB of RSS per ViewerGL create/draw/close cycle: ours / plain Newton's (uninstalled), side
    by side. Plain Newton's growth stays in the process (it is what leaks), so few cycles."""
    from .. import newton_compat  # noqa: PLC0415

    model, state = _scene()
    ratios, ours_mb, plain_mb = [], [], []
    try:
        for _ in range(repeats):
            newton_compat.install()
            ours = _cycle_growth(model, state, cycles)
            newton_compat.uninstall()
            plain = _cycle_growth(model, state, cycles)
            ours_mb.append(ours)
            plain_mb.append(plain)
            ratios.append(max(ours, 0.01) / plain if plain > 0 else float("inf"))  # < 0.01 MB counts as 0.01
    finally:
        newton_compat.install()
    return summary(ratios, GOALS["newton_cycle_rss"], {
        "ours_mb_per_cycle": round(statistics.median(ours_mb), 2),
        "plain_mb_per_cycle": round(statistics.median(plain_mb), 2), "cycles": cycles})
