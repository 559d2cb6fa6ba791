"""The ``creation_overhead`` key of ``bench``: creating Warp's OpenGLRenderer (headless, device cpu)
with the drop-in / without, side by side in one process.

With the drop-in a creation also tracks the renderer, runs a safe point (what was dropped before
is released), clears the exit flag a closed window left in pyglet's event loop and looks IPython
up; frames pay none of this. Only the constructor is timed; each renderer is closed untimed.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import time

from .common import GOALS, alternating_ratios, summary

__all__ = ["GOAL", "bench_creation_overhead"]

GOAL = GOALS["creation_overhead"]


@contextlib.contextmanager
def _native_stderr_once(seen: list[str] | None):
    """With ``seen``: what native code writes to stderr meanwhile (plain Warp on a machine without a
    CUDA driver writes two lines per renderer, its failed CUDA-GL registration) goes into ``seen``,
    each distinct line once, to be shown once after the benchmark. Without: nothing changes."""
    if seen is None:
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+") as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            seen += [line for line in dict.fromkeys(captured.read().splitlines()) if line and line not in seen]


def bench_creation_overhead(quick: bool, repeats: int) -> dict:
    """Seconds per ``OpenGLRenderer(...)``, ours / plain Warp's (:func:`.warp_compat.uninstall`), in
    short adjacent pairs of alternating order (:func:`.common.alternating_ratios`)."""
    import warp.render  # noqa: PLC0415

    from .. import warp_compat  # noqa: PLC0415

    def run(count: int) -> float:
        seconds = 0.0
        with _native_stderr_once(None if warp_compat.installed() else seen):
            for _ in range(count):
                start = time.perf_counter()
                renderer = warp.render.OpenGLRenderer(screen_width=320, screen_height=240, headless=True,
                                                      vsync=False, device="cpu")
                seconds += time.perf_counter() - start
                renderer.close()
        return seconds / count

    seen: list[str] = []
    run(2)
    try:
        ratios, with_ms, without_ms = alternating_ratios(
            run, lambda installed: (warp_compat.install if installed else warp_compat.uninstall)(),
            2 if quick else 4, repeats, pairs=4 if quick else 10)
    finally:
        warp_compat.install()
        if seen:
            sys.stderr.write("".join(f"{line}\n" for line in seen))
    return summary(ratios, GOAL, {"renderer": "OpenGLRenderer(320x240, headless, cpu)",
                                   "with_ms": round(with_ms, 3), "without_ms": round(without_ms, 3)})
