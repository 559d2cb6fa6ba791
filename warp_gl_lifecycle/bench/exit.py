"""``exit_release_overhead`` and ``exit_release_scaling``: ``release_all()`` of tracked instancers
beside deleting the same GL names by hand, and how it grows from N to 10 N owners."""

from __future__ import annotations

import time
import warnings

import numpy as np

from .common import GOALS, TRIANGLE, Progress, summary

__all__ = ["bench_exit_release", "time_direct_delete", "time_release_all"]


def _make_instancers(n: int, shader) -> list:
    from ..instancer import ShapeInstancer  # noqa: PLC0415

    instancers = []
    for _ in range(n):
        inst = ShapeInstancer(shader, "cpu")
        inst.register_shape(TRIANGLE, [0, 1, 2])
        inst.allocate_instances(np.zeros((1, 3), dtype=np.float32))
        instancers.append(inst)
    return instancers


def time_release_all(n: int, shader) -> float:
    from pyglet import gl  # noqa: PLC0415

    from ..registry import release_all  # noqa: PLC0415

    instancers = _make_instancers(n, shader)
    gl.glFinish()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        start = time.perf_counter()
        release_all()
        gl.glFinish()
        elapsed = time.perf_counter() - start
    del instancers
    return elapsed


def time_direct_delete(n: int, shader) -> float:
    """The same GL objects (instancers built the same way), untracked and deleted by hand: per
    owner one ``glDeleteVertexArrays`` and one ``glDeleteBuffers`` call, as a hand-written
    cleanup would do."""
    from pyglet import gl  # noqa: PLC0415

    owners = []
    for inst in _make_instancers(n, shader):
        names = inst._gl.names()
        inst._tracked.detach()  # the registry no longer releases it: we do, by hand
        owners.append((gl.GLuint(names["vaos"][0]), (gl.GLuint * len(names["buffers"]))(*names["buffers"])))
    gl.glFinish()
    start = time.perf_counter()
    for vao, buffers in owners:
        gl.glDeleteVertexArrays(1, vao)
        gl.glDeleteBuffers(len(buffers), buffers)
    gl.glFinish()
    return time.perf_counter() - start


def bench_exit_release(n: int, scale_n: int, repeats: int, progress: Progress) -> tuple[dict, dict, dict]:
    from ..instancer import default_shape_shader  # noqa: PLC0415

    shader = default_shape_shader()
    overhead, ours_s, direct_s = [], [], []
    for _ in range(repeats):
        a, b = time_release_all(n, shader), time_direct_delete(n, shader)
        overhead.append(a / b)
        ours_s.append(a)
        direct_s.append(b)
    progress.step("exit release scaling")
    scaling, small_s, large_s = [], [], []
    for _ in range(repeats):
        # best of two at each size, alike for both, to keep one slow run from setting the ratio
        small = min(time_release_all(scale_n, shader) for _ in range(2))
        large = min(time_release_all(10 * scale_n, shader) for _ in range(2))
        scaling.append(large / small)
        small_s.append(small)
        large_s.append(large)
    # For reading the scaling: the driver's own, deleting the same names by hand at both sizes.
    direct_scaling = time_direct_delete(10 * scale_n, shader) / time_direct_delete(scale_n, shader)
    shader.delete()
    curve = {"n": [scale_n, 10 * scale_n], "seconds": [min(small_s), min(large_s)]}
    return (
        summary(overhead, GOALS["exit_release_overhead"],
                 {"n": n, "ours_ms": round(min(ours_s) * 1e3, 2), "direct_ms": round(min(direct_s) * 1e3, 2)}),
        summary(scaling, GOALS["exit_release_scaling"], {"n": scale_n, "ms": [round(s * 1e3, 2) for s in curve["seconds"]],
                                                          "direct_deletion_scaling": round(direct_scaling, 2)}),
        curve,
    )
