"""What every bench key shares: the goals, the summary of a key's ratios, the progress line, the
triangle the instancer keys draw, and the alternating-pairs timer of the two frame keys."""

from __future__ import annotations

import statistics
import sys
import time
from typing import Callable

import numpy as np

__all__ = ["GOALS", "TRIANGLE", "Progress", "alternating_ratios", "best", "summary"]


GOALS = {
    "track_release_vs_finalize": 1.0,
    "exit_release_overhead": 1.5,
    "exit_release_scaling": 11.0,
    "frame_overhead": 1.02,
    "owner_counts_per_frame": 0.05,  # one diagnostics.owner_counts() / one Warp renderer frame
    "creation_overhead": 1.05,  # creating Warp's renderer with the drop-in / without
    "cpu_update_vs_numpy": 1.0,  # keyed by size: cpu_update_vs_numpy@100k, @1M
    "cpu_update_vs_warp": 1.0,
    "gpu_kernel_vs_bandwidth": 2.0,
    "gpu_update_vs_warp": 0.5,
    "newton_frame_overhead": 1.02,  # a Newton ViewerGL frame with the drop-in / without
    "newton_cycle_rss": 0.03,  # RSS per ViewerGL cycle, ours / plain Newton's (2 MB of 71)
}


class Progress:
    """One status line on stderr for runs longer than a few seconds."""

    def __init__(self, total: int) -> None:
        self.total, self.done, self.start = total, 0, time.perf_counter()

    def step(self, what: str) -> None:
        self.done += 1
        elapsed = time.perf_counter() - self.start
        print(f"\r[{self.done}/{self.total}] {elapsed:5.1f}s {what:<40}", end="", file=sys.stderr, flush=True)

    def finish(self) -> None:
        print(file=sys.stderr, flush=True)


def summary(ratios: list[float], goal: float, detail: dict | None = None) -> dict:
    median = statistics.median(ratios)
    return {
        "median": round(median, 4),
        "min": round(min(ratios), 4),
        "max": round(max(ratios), 4),
        "repeats": len(ratios),
        "goal": goal,
        "met": median <= goal,
        **({"detail": detail} if detail else {}),
    }


def best(fn: Callable[[], float], times: int) -> float:
    return min(fn() for _ in range(times))


TRIANGLE = np.array([[-1, -1, 0, 0, 0, 1, 0, 0], [1, -1, 0, 0, 0, 1, 1, 0], [1, 1, 0, 0, 0, 1, 1, 1]], dtype=np.float32)


def alternating_ratios(run: Callable[[int], float], switch: Callable[[bool], None], frames: int, repeats: int,
                       pairs: int = 20) -> tuple[list[float], float, float]:
    """Ours / the baseline, timed in many short adjacent pairs whose order alternates: a ratio per
    pair, their median per repeat (drift on a shared machine then hits both sides of a pair alike).
    ``switch(True)`` installs ours, ``switch(False)`` the baseline; ``run(count)`` draws ``count``
    frames and returns seconds per frame. Returns the ratios and the median ms per frame of each."""
    ratios, with_ms, without_ms = [], [], []
    for i in range(repeats):
        pair_ratios, measured = [], {True: [], False: []}
        for pair in range(pairs):
            order = (True, False) if (i + pair) % 2 == 0 else (False, True)
            times = {}
            for installed in order:
                switch(installed)
                run(2)  # not timed: install() scans the heap for owners to adopt
                times[installed] = run(frames)
                measured[installed].append(times[installed])
            pair_ratios.append(times[True] / times[False])
        ratios.append(statistics.median(pair_ratios))
        with_ms.append(statistics.median(measured[True]) * 1e3)
        without_ms.append(statistics.median(measured[False]) * 1e3)
    return ratios, statistics.median(with_ms), statistics.median(without_ms)
