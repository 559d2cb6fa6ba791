"""The diagnostics key of ``bench``: reading :func:`~.diagnostics.owner_counts` (names and GL byte sizes
of every live owner) once, as a fraction of one frame of a Warp renderer, timed side by side."""

from __future__ import annotations

import statistics
import time

from .common import GOALS, summary

__all__ = ["bench_owner_counts_per_frame"]


def bench_owner_counts_per_frame(frames: int, repeats: int, device: str | None) -> dict:
    """A 320x240 headless Warp renderer (with the drop-in) draws ``frames`` frames per repeat, each
    followed by one ``owner_counts()``; each frame (up to ``glFinish``) and each reading is timed,
    and the ratio is the median reading over the median frame, per repeat."""
    import warp.render  # noqa: PLC0415
    from pyglet import gl  # noqa: PLC0415

    from ..diagnostics import owner_counts  # noqa: PLC0415

    renderer = warp.render.OpenGLRenderer(screen_width=320, screen_height=240, headless=True, vsync=False,
                                          device=device or "cpu")
    ratios, frame_ms, counts_ms, counts = [], [], [], {}
    try:
        for repeat in range(repeats + 1):  # the first is a warm-up
            frame_times, count_times = [], []
            for frame in range(frames):
                start = time.perf_counter()
                renderer.begin_frame(frame / 60.0)
                renderer.render_box("box", pos=(0, 0.5, 0), rot=(0, 0, 0, 1), extents=(0.3, 0.3, 0.3))
                renderer.end_frame()
                gl.glFinish()
                middle = time.perf_counter()
                counts = owner_counts()
                frame_times.append(middle - start)
                count_times.append(time.perf_counter() - middle)
            if repeat:
                ratios.append(statistics.median(count_times) / statistics.median(frame_times))
                frame_ms.append(statistics.median(frame_times) * 1e3)
                counts_ms.append(statistics.median(count_times) * 1e3)
    finally:
        renderer.close()
    return summary(ratios, GOALS["owner_counts_per_frame"], {"frame_ms": round(statistics.median(frame_ms), 3),
                                   "owner_counts_ms": round(statistics.median(counts_ms), 3),
                                   "owners": counts.get("owners"), "buffers": counts["names"]["buffers"]})
