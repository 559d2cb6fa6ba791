"""``frame_overhead``: a frame of Warp's ``OpenGLRenderer`` with the drop-in installed / uninstalled."""

from __future__ import annotations

import time

from .common import GOALS, alternating_ratios, summary

__all__ = ["bench_frame_overhead"]


def bench_frame_overhead(frames: int, repeats: int, device: str | None) -> dict:
    import warp.render  # noqa: PLC0415

    from .. import warp_compat  # noqa: PLC0415

    renderer = warp.render.OpenGLRenderer(screen_width=320, screen_height=240, headless=True, vsync=False,
                                          device=device or "cpu")
    can_draw_shapes = device is not None  # plain Warp 1.19 cannot draw shapes on a CPU device

    def run(count: int) -> float:
        start = time.perf_counter()
        for frame in range(count):
            renderer.begin_frame(frame / 60.0)
            if can_draw_shapes:
                renderer.render_box("box", pos=(0, 0.5, 0), rot=(0, 0, 0, 1), extents=(0.3, 0.3, 0.3))
            renderer.end_frame()
        from pyglet import gl  # noqa: PLC0415

        gl.glFinish()
        return (time.perf_counter() - start) / count

    run(5)
    try:
        ratios, with_ms, without_ms = alternating_ratios(
            run, lambda installed: (warp_compat.install if installed else warp_compat.uninstall)(), frames, repeats)
    finally:
        warp_compat.install()
        renderer.close()
    return summary(ratios, GOALS["frame_overhead"], {
        "scene": "box" if can_draw_shapes else "grid, sky and axis (no shapes: plain Warp cannot draw them on a CPU device)",
        "with_ms": round(with_ms, 3), "without_ms": round(without_ms, 3)})
