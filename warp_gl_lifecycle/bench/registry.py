"""``track_release_vs_finalize``: the registry's track + close per owner / ``weakref.finalize``'s."""

from __future__ import annotations

import gc
import statistics
import time
import weakref

from .common import GOALS, summary

__all__ = ["bench_track_release"]


class _Owner:
    pass


def _ignore(_reason=None) -> None:
    pass


def bench_track_release(n: int, repeats: int) -> dict:
    from ..registry import Registry  # noqa: PLC0415

    registry = Registry()

    def ours() -> float:
        owners = [_Owner() for _ in range(n)]
        start = time.perf_counter()
        records = [registry.track(owner, _ignore, warn=False) for owner in owners]
        for record in records:
            record.close()
        return time.perf_counter() - start

    def finalize() -> float:
        owners = [_Owner() for _ in range(n)]
        start = time.perf_counter()
        finalizers = [weakref.finalize(owner, _ignore) for owner in owners]
        for finalizer in finalizers:
            finalizer()
        return time.perf_counter() - start

    ratios, per_object = [], []
    gc.disable()
    try:
        for i in range(repeats):
            a, b = (ours(), finalize()) if i % 2 == 0 else tuple(reversed((finalize(), ours())))
            ratios.append(a / b)
            per_object.append((a / n * 1e6, b / n * 1e6))
    finally:
        gc.enable()
    us = statistics.median(p[0] for p in per_object), statistics.median(p[1] for p in per_object)
    return summary(ratios, GOALS["track_release_vs_finalize"], {"n": n, "ours_us": round(us[0], 3), "finalize_us": round(us[1], 3)})
