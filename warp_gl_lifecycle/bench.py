"""``python -m warp_gl_lifecycle bench``: cost ratios measured side by side in one run (lower is better).

Each key is a ratio, ours / a baseline, measured in alternation within one process; the report
gives the median over repeats with min and max, the goal, and whether it is met. Timings are wall
clock on whatever machine runs it; the ratios, not the seconds, are what to compare.
"""

from __future__ import annotations

import gc
import json
import platform
import statistics
import sys
import time
import warnings
import weakref
from typing import Any, Callable

import numpy as np

__all__ = ["add_arguments", "main"]

GOALS = {
    "track_release_vs_finalize": 1.0,
    "exit_release_overhead": 1.5,
    "exit_release_scaling": 11.0,
    "frame_overhead": 1.02,
    "owner_counts_per_frame": 0.05,  # one diagnostics.owner_counts() / one Warp renderer frame (bench_diagnostics)
    "cpu_update_vs_numpy": 1.0,  # keyed by size: cpu_update_vs_numpy@100k, @1M
    "cpu_update_vs_warp": 1.0,
    "gpu_kernel_vs_bandwidth": 2.0,
    "gpu_update_vs_warp": 0.5,
    "newton_frame_overhead": 1.02,  # a Newton ViewerGL frame with the drop-in / without
    "newton_cycle_rss": 0.03,  # RSS per ViewerGL cycle, ours / plain Newton's (2 MB of 71)
}


GROUPS = ("registry", "exit", "frame", "cpu", "gpu", "newton")


def _groups(text: str) -> tuple[str, ...]:
    chosen = tuple(part.strip() for part in text.split(",") if part.strip())
    unknown = [part for part in chosen if part not in GROUPS]
    if unknown or not chosen:
        import argparse  # noqa: PLC0415

        raise argparse.ArgumentTypeError(f"choose from {', '.join(GROUPS)}; got {text!r}")
    return chosen


def add_arguments(parser) -> None:
    parser.add_argument("--quick", action="store_true", help="small sizes and few repeats (a smoke test)")
    parser.add_argument("--json", metavar="PATH", help="write the results as JSON")
    parser.add_argument("--plot", metavar="PATH", help="plot time against N (needs matplotlib: pip install '.[plot]')")
    parser.add_argument("--only", metavar="GROUPS", type=_groups, default=GROUPS,
                        help=f"comma-separated subset of {','.join(GROUPS)} (default all)")
    parser.add_argument("--device", default=None, help="CUDA device for the GPU keys (default cuda:0 when present)")


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


def _summary(ratios: list[float], goal: float, detail: dict | None = None) -> dict:
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


def _best(fn: Callable[[], float], times: int) -> float:
    return min(fn() for _ in range(times))


# -- registry --------------------------------------------------------------------------------------


class _Owner:
    pass


def _ignore(_reason=None) -> None:
    pass


def bench_track_release(n: int, repeats: int) -> dict:
    from .registry import Registry  # noqa: PLC0415

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
    return _summary(ratios, GOALS["track_release_vs_finalize"], {"n": n, "ours_us": round(us[0], 3), "finalize_us": round(us[1], 3)})


# -- exit release ----------------------------------------------------------------------------------


_TRIANGLE = np.array([[-1, -1, 0, 0, 0, 1, 0, 0], [1, -1, 0, 0, 0, 1, 1, 0], [1, 1, 0, 0, 0, 1, 1, 1]], dtype=np.float32)


def _make_instancers(n: int, shader) -> list:
    from .instancer import ShapeInstancer  # noqa: PLC0415

    instancers = []
    for _ in range(n):
        inst = ShapeInstancer(shader, "cpu")
        inst.register_shape(_TRIANGLE, [0, 1, 2])
        inst.allocate_instances(np.zeros((1, 3), dtype=np.float32))
        instancers.append(inst)
    return instancers


def _time_release_all(n: int, shader) -> float:
    from pyglet import gl  # noqa: PLC0415

    from .registry import release_all  # noqa: PLC0415

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


def _time_direct_delete(n: int, shader) -> float:
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
    from .instancer import default_shape_shader  # noqa: PLC0415

    shader = default_shape_shader()
    overhead, ours_s, direct_s = [], [], []
    for _ in range(repeats):
        a, b = _time_release_all(n, shader), _time_direct_delete(n, shader)
        overhead.append(a / b)
        ours_s.append(a)
        direct_s.append(b)
    progress.step("exit release scaling")
    scaling, small_s, large_s = [], [], []
    for _ in range(repeats):
        # best of two at each size, alike for both, to keep one slow run from setting the ratio
        small = min(_time_release_all(scale_n, shader) for _ in range(2))
        large = min(_time_release_all(10 * scale_n, shader) for _ in range(2))
        scaling.append(large / small)
        small_s.append(small)
        large_s.append(large)
    # For reading the scaling: the driver's own, deleting the same names by hand at both sizes.
    direct_scaling = _time_direct_delete(10 * scale_n, shader) / _time_direct_delete(scale_n, shader)
    shader.delete()
    curve = {"n": [scale_n, 10 * scale_n], "seconds": [min(small_s), min(large_s)]}
    return (
        _summary(overhead, GOALS["exit_release_overhead"],
                 {"n": n, "ours_ms": round(min(ours_s) * 1e3, 2), "direct_ms": round(min(direct_s) * 1e3, 2)}),
        _summary(scaling, GOALS["exit_release_scaling"], {"n": scale_n, "ms": [round(s * 1e3, 2) for s in curve["seconds"]],
                                                          "direct_deletion_scaling": round(direct_scaling, 2)}),
        curve,
    )


# -- frames of Warp's renderer ---------------------------------------------------------------------


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


def bench_frame_overhead(frames: int, repeats: int, device: str | None) -> dict:
    import warp.render  # noqa: PLC0415

    from . import warp_compat  # noqa: PLC0415

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
    return _summary(ratios, GOALS["frame_overhead"], {
        "scene": "box" if can_draw_shapes else "grid, sky and axis (no shapes: plain Warp cannot draw them on a CPU device)",
        "with_ms": round(with_ms, 3), "without_ms": round(without_ms, 3)})


# -- instance updates ------------------------------------------------------------------------------


def _random_transforms(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    q = rng.normal(size=(n, 4)).astype(np.float32)
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    return np.hstack([rng.uniform(-10, 10, (n, 3)).astype(np.float32), q])


def numpy_instance_matrices(transforms: np.ndarray, scalings: np.ndarray) -> np.ndarray:
    """Vectorised NumPy reference: (N, 4, 4) float32, rows in memory = columns of T R S."""
    x, y, z, w = transforms[:, 3], transforms[:, 4], transforms[:, 5], transforms[:, 6]
    sx, sy, sz = scalings[:, 0], scalings[:, 1], scalings[:, 2]
    out = np.zeros((len(transforms), 4, 4), dtype=np.float32)
    out[:, 0, 0] = (1 - 2 * (y * y + z * z)) * sx
    out[:, 0, 1] = 2 * (x * y + z * w) * sx
    out[:, 0, 2] = 2 * (x * z - y * w) * sx
    out[:, 1, 0] = 2 * (x * y - z * w) * sy
    out[:, 1, 1] = (1 - 2 * (x * x + z * z)) * sy
    out[:, 1, 2] = 2 * (y * z + x * w) * sy
    out[:, 2, 0] = 2 * (x * z + y * w) * sz
    out[:, 2, 1] = 2 * (y * z - x * w) * sz
    out[:, 2, 2] = (1 - 2 * (x * x + y * y)) * sz
    out[:, 3, :3] = transforms[:, :3]
    out[:, 3, 3] = 1
    return out


def bench_cpu_update(n: int, repeats: int) -> tuple[dict, dict, dict]:
    import ctypes  # noqa: PLC0415

    import warp as wp  # noqa: PLC0415
    from pyglet import gl  # noqa: PLC0415

    from .instancer import ShapeInstancer, default_shape_shader  # noqa: PLC0415
    from .warp_compat import warp_update_vbo_transforms  # noqa: PLC0415

    shader = default_shape_shader()
    inst = ShapeInstancer(shader, "cpu")
    inst.register_shape(_TRIANGLE, [0, 1, 2])
    inst.allocate_instances(np.zeros((n, 3), dtype=np.float32))
    host = _random_transforms(n)
    scalings = np.ones((n, 3), dtype=np.float32)
    transforms = wp.array(host, dtype=wp.transform, device="cpu")
    wp_scalings = wp.array(scalings, dtype=wp.vec3, device="cpu")
    ids = wp.array(np.arange(n, dtype=np.int32), dtype=wp.int32, device="cpu")
    warp_out = wp.empty(n, dtype=wp.mat44, device="cpu")
    kernel = warp_update_vbo_transforms()
    buffer = inst.instance_transform_gl_buffer

    def upload(pointer: int) -> None:
        gl.glBindBuffer(gl.GL_ARRAY_BUFFER, buffer)
        gl.glBufferSubData(gl.GL_ARRAY_BUFFER, 0, n * 64, ctypes.c_void_p(pointer))
        gl.glBindBuffer(gl.GL_ARRAY_BUFFER, 0)
        gl.glFinish()

    def ours() -> float:
        start = time.perf_counter()
        inst.update_instances(transforms)
        gl.glFinish()
        return time.perf_counter() - start

    def numpy_path() -> float:
        start = time.perf_counter()
        matrices = numpy_instance_matrices(host, scalings)
        upload(matrices.ctypes.data)
        return time.perf_counter() - start

    def warp_path() -> float:
        start = time.perf_counter()
        wp.launch(kernel, dim=n, inputs=[ids, None, transforms, wp_scalings, None], outputs=[warp_out], device="cpu")
        upload(warp_out.ptr)
        return time.perf_counter() - start

    ours(), numpy_path(), warp_path()  # compile and warm
    vs_numpy, vs_warp, seconds = [], [], {"ours": [], "numpy": [], "warp": []}
    for _ in range(repeats):
        a, b, c = _best(ours, 3), _best(numpy_path, 3), _best(warp_path, 3)
        vs_numpy.append(a / b)
        vs_warp.append(a / c)
        for key, value in zip(("ours", "numpy", "warp"), (a, b, c)):
            seconds[key].append(value)
    inst.close()
    shader.delete()
    ms = {f"{key}_ms": round(min(values) * 1e3, 3) for key, values in seconds.items()}
    return (
        _summary(vs_numpy, GOALS["cpu_update_vs_numpy"], {"n": n, **ms}),
        _summary(vs_warp, GOALS["cpu_update_vs_warp"], {"n": n, **ms}),
        {key: min(values) for key, values in seconds.items()},
    )


def _label(n: int) -> str:
    return f"{n // 1_000_000}M" if n >= 1_000_000 and n % 1_000_000 == 0 else f"{n // 1000}k"


def _gpu_seconds(device: str, fn: Callable[[], None], count: int = 50) -> float:
    """Device time per call of ``fn`` (CUDA events around ``count`` back-to-back calls)."""
    import warp as wp  # noqa: PLC0415

    fn()
    stream = wp.get_stream(device)
    start, end = wp.Event(device, enable_timing=True), wp.Event(device, enable_timing=True)
    stream.record_event(start)
    for _ in range(count):
        fn()
    stream.record_event(end)
    wp.synchronize_event(end)
    return wp.get_event_elapsed_time(start, end) / 1e3 / count


def _wall_seconds(device: str, fn: Callable[[], None], count: int = 20) -> float:
    """Wall time per call of ``fn``, the device drained before and after ``count`` calls."""
    import warp as wp  # noqa: PLC0415

    fn()
    wp.synchronize_device(device)
    start = time.perf_counter()
    for _ in range(count):
        fn()
    wp.synchronize_device(device)
    return (time.perf_counter() - start) / count


class _GpuUpdates:
    """Our instancer, by interop mode (``auto``, the default, then each CUDA mode that works
    here), and Warp's, each with ``n`` instances on one device, in the current context."""

    def __init__(self, device: str, n: int) -> None:
        import warp as wp  # noqa: PLC0415
        from .instancer import ShapeInstancer, shared_shape_shader  # noqa: PLC0415
        from .warp_compat import warp_shape_instancer  # noqa: PLC0415

        shader = shared_shape_shader()
        host = _random_transforms(n)
        self.transforms = wp.array(host, dtype=wp.transform, device=device)
        # All start from the transforms each update passes, so all draw the same picture: Warp
        # 1.19's update_instances recomputes from the allocation's transforms, not the ones passed.
        self.ours: dict[str, Any] = {}
        self.unavailable: dict[str, str] = {}
        for mode in ("auto", "shared", "map") if wp.get_device(device).is_cuda else ("auto",):
            instancer = ShapeInstancer(shader, device, interop=mode)
            instancer.register_shape(_TRIANGLE, [0, 1, 2])
            try:
                instancer.allocate_instances(host[:, :3], host[:, 3:])
            except RuntimeError as exc:
                self.unavailable[mode] = str(exc)
                instancer.close()
                continue
            self.ours[mode] = instancer
        self.theirs = warp_shape_instancer()(shader, device)
        self.theirs.register_shape(_TRIANGLE, np.array([0, 1, 2], dtype=np.int32))
        self.theirs.allocate_instances(host[:, :3], host[:, 3:])

    def update(self, mode: str) -> Callable[[], None]:
        """One update of our instancer in ``mode``."""
        instancer, transforms = self.ours[mode], self.transforms
        return lambda: instancer.update_instances(transforms)

    def warp_update(self) -> None:
        self.theirs.update_instances(self.transforms)

    def close(self) -> None:
        for instancer in self.ours.values():
            instancer.close()
        self.theirs.close()


def bench_gpu(device: str, n: int, repeats: int) -> tuple[dict, dict, dict]:
    """``gpu_kernel_vs_bandwidth``: device time of our CUDA matrix kernel at ``n`` / a device copy
    that reads and writes as many bytes as the kernel moves (a copy of half its bytes; the
    detail also gives the ratio to a copy of all of them). ``gpu_update_vs_warp``: wall time of
    our full ``update_instances`` with the default interop / Warp's (map, kernel, unmap), same
    device and array. The details break both down: Warp's kernel, our one-thread-per-instance
    kernel, our update in each interop mode and its ratio to Warp's (``shared``: kernel and a
    stream sync, no map), map + unmap alone."""
    import warp as wp  # noqa: PLC0415
    from .kernels import instance_matrices, instance_matrix_rows  # noqa: PLC0415
    from .warp_compat import warp_instancer_registration, warp_update_vbo_transforms  # noqa: PLC0415

    updates = _GpuUpdates(device, n)
    transforms, scalings = updates.transforms, wp.ones(n, dtype=wp.vec3, device=device)
    moved = n * (28 + 12 + 64)  # the kernel reads a transform and a scale, writes a matrix
    half_src = wp.empty(moved // 8, dtype=wp.float32, device=device)
    half_dst = wp.empty_like(half_src)
    full_src = wp.empty(moved // 4, dtype=wp.float32, device=device)
    full_dst = wp.empty_like(full_src)
    elements = wp.empty(16 * n, dtype=wp.float32, device=device)
    matrices = wp.empty(n, dtype=wp.mat44, device=device)
    ids = wp.array(np.arange(n, dtype=np.int32), dtype=wp.int32, device=device)
    record = {"device": device, "record_cmd": True}
    kernel = wp.launch(instance_matrix_rows, dim=4 * n, inputs=[transforms, scalings], outputs=[elements], **record)
    per_instance = wp.launch(instance_matrices, dim=n, inputs=[transforms, scalings], outputs=[matrices], **record)
    warps_kernel = wp.launch(warp_update_vbo_transforms(), dim=n, inputs=[ids, None, transforms, scalings, None],
                             outputs=[matrices], **record)
    mapped = updates.ours.get("map")
    ours_registration = mapped._registration if mapped is not None else None  # noqa: SLF001 - broken down
    warps_registration = warp_instancer_registration(updates.theirs)

    def map_unmap(registration) -> Callable[[], None]:
        def run() -> None:
            registration.map(dtype=wp.float32, shape=(16 * n,))
            registration.unmap()

        return run

    vs_bandwidth, vs_warp = [], []
    mode_vs_warp: dict[str, list[float]] = {}
    seconds: dict[str, list[float]] = {}

    def keep(key: str, value: float) -> float:
        seconds.setdefault(key, []).append(value)
        return value

    for _ in range(repeats):
        k = keep("kernel", _gpu_seconds(device, kernel.launch))
        c = keep("copy_half", _gpu_seconds(device, lambda: wp.copy(half_dst, half_src)))
        keep("copy_full", _gpu_seconds(device, lambda: wp.copy(full_dst, full_src)))
        keep("per_instance_kernel", _gpu_seconds(device, per_instance.launch))
        keep("warp_kernel", _gpu_seconds(device, warps_kernel.launch))
        vs_bandwidth.append(k / c)
        theirs = keep("warp_update", _wall_seconds(device, updates.warp_update))
        for mode in updates.ours:
            ours = keep(f"ours_{mode}_update", _wall_seconds(device, updates.update(mode)))
            mode_vs_warp.setdefault(mode, []).append(ours / theirs)
        vs_warp.append(mode_vs_warp["auto"][-1])
        if ours_registration is not None:
            keep("ours_map_unmap", _wall_seconds(device, map_unmap(ours_registration)))
        if warps_registration is not None and getattr(warps_registration, "resource", None):
            keep("warp_map_unmap", _wall_seconds(device, map_unmap(warps_registration)))
    updates.close()
    ms = {f"{key}_ms": round(statistics.median(values) * 1e3, 4) for key, values in seconds.items()}
    kernel_detail = {
        "n": n,
        "kernel_bytes": moved,
        "copy_bytes": moved // 2,
        "vs_copy_of_all_kernel_bytes": round(statistics.median(seconds["kernel"]) / statistics.median(seconds["copy_full"]), 4),
        **ms,
    }
    return (
        _summary(vs_bandwidth, GOALS["gpu_kernel_vs_bandwidth"], kernel_detail),
        _summary(vs_warp, GOALS["gpu_update_vs_warp"], {
            "n": n,
            "interop": updates.ours["auto"].interop,
            **{f"{mode}_vs_warp": round(statistics.median(values), 4) for mode, values in mode_vs_warp.items() if mode != "auto"},
            **{f"{mode}_unavailable": why for mode, why in updates.unavailable.items()},
            **ms,
        }),
        {key: min(values) for key, values in seconds.items()},
    )


def gpu_update_curve(device: str, n: int) -> dict[str, float]:
    """Wall seconds per update at ``n`` instances: ours in each interop mode, and Warp's (for ``--plot``)."""
    updates = _GpuUpdates(device, n)
    try:
        curve = {f"ours {mode}": _wall_seconds(device, updates.update(mode)) for mode in updates.ours}
        return {**curve, "warp": _wall_seconds(device, updates.warp_update)}
    finally:
        updates.close()


# -- report ----------------------------------------------------------------------------------------


def machine() -> dict:
    import warp as wp  # noqa: PLC0415
    from pyglet import gl  # noqa: PLC0415

    def text(name):
        return ctypes_string(gl.glGetString(name))

    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "warp": wp.config.version,
        "gl_renderer": text(gl.GL_RENDERER),
        "gl_version": text(gl.GL_VERSION),
        "cuda_devices": [str(d) for d in wp.get_cuda_devices()],
    }


def ctypes_string(pointer) -> str:
    import ctypes  # noqa: PLC0415

    return ctypes.cast(pointer, ctypes.c_char_p).value.decode(errors="replace")


def print_table(results: dict) -> None:
    print(f"{'key':<28} {'median':>8} {'min':>8} {'max':>8} {'goal':>6}  met")
    for key, value in results.items():
        if "skipped" in value:
            print(f"{key:<28} {'-':>8} {'-':>8} {'-':>8} {value['goal']:>6}  skipped: {value['skipped']}")
            continue
        met = "yes" if value["met"] else "NO"
        print(f"{key:<28} {value['median']:>8.3f} {value['min']:>8.3f} {value['max']:>8.3f} {value['goal']:>6}  {met}")


def _parent(path: str) -> str:
    import os  # noqa: PLC0415

    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    return path


def plot(path: str, curves: dict) -> None:
    try:
        import matplotlib  # noqa: PLC0415

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt  # noqa: PLC0415
    except ImportError:
        raise SystemExit("--plot needs matplotlib: pip install 'warp-gl-lifecycle[plot]'") from None
    fig, (updates, release) = plt.subplots(1, 2, figsize=(11, 4.2))
    for axes, panel, title, xlabel in ((updates, "update", "instance update (kernel + upload)", "instances"),
                                        (release, "release", "exit release of tracked instancers", "owners")):
        drawn = [(name, points) for name, points in curves[panel].items() if points["n"]]
        for name, points in drawn:
            axes.loglog(points["n"], [s * 1e3 for s in points["seconds"]], marker="o", label=name)
        axes.set(title=title if drawn else f"{title}: not measured in this run", xlabel=xlabel, ylabel="ms")
        if drawn:
            axes.legend()
    fig.tight_layout()
    fig.savefig(_parent(path), dpi=110)


def check_arguments(args) -> str | None:
    """What can be checked before the long run: ``--json`` and ``--plot`` can be written (their
    directories are made), ``--plot`` has matplotlib and a format it writes, ``--device`` is a
    CUDA device. Returns the CUDA device for the GPU keys, or None. Raises
    ``argparse.ArgumentTypeError`` naming the option (``__main__`` makes it a usage error)."""
    import argparse  # noqa: PLC0415
    import importlib.util  # noqa: PLC0415

    from . import cli  # noqa: PLC0415

    if args.json:
        cli.output_file(args.json, "--json", make_parents=True)
    if args.plot:
        if importlib.util.find_spec("matplotlib") is None:
            raise argparse.ArgumentTypeError("--plot needs matplotlib: pip install 'warp-gl-lifecycle[plot]'")
        cli.output_file(args.plot, "--plot", suffixes=_plot_suffixes(), make_parents=True)
    if args.device is not None:
        return str(cli.warp_device(args.device, cuda_only=True))
    import warp as wp  # noqa: PLC0415

    cli.warp_device(None)  # initialises Warp
    return "cuda:0" if wp.is_cuda_available() else None


def _plot_suffixes() -> tuple[str, ...]:
    from matplotlib.figure import Figure  # noqa: PLC0415

    return tuple(f".{kind}" for kind in Figure().canvas.get_supported_filetypes())


def main(args) -> int:
    """Run the chosen benchmarks, print the table, write ``--json``/``--plot``. Checks every
    argument first (:func:`check_arguments`)."""
    import pyglet  # noqa: PLC0415

    cuda = check_arguments(args)
    pyglet.options["headless"] = True
    window = pyglet.window.Window(32, 32, visible=False)
    quick = args.quick
    repeats = 3 if quick else 5
    update_sizes = [10_000, 100_000] if quick else [100_000, 1_000_000]
    only = args.only
    from . import bench_newton  # noqa: PLC0415

    newton = bench_newton.newton_available()
    steps = {"registry": 1, "exit": 2, "frame": 2, "cpu": len(update_sizes), "gpu": 1 if cuda else 0,
             "newton": 2 if newton else 0}
    progress = Progress(sum(steps[group] for group in only) + (1 if args.plot else 0))
    results: dict[str, Any] = {}
    curves: dict[str, Any] = {"update": {}, "release": {"release_all()": {"n": [], "seconds": []}}}

    if "registry" in only:
        progress.step("track_release_vs_finalize")
        results["track_release_vs_finalize"] = bench_track_release(20_000 if quick else 100_000, repeats)
    if "exit" in only:
        progress.step("exit_release_overhead")
        window.switch_to()
        overhead, scaling, curve = bench_exit_release(1_000 if quick else 10_000, 100 if quick else 1_000, repeats, progress)
        results["exit_release_overhead"], results["exit_release_scaling"] = overhead, scaling
        curves["release"] = {"release_all()": curve}
    if "frame" in only:
        progress.step("frame_overhead")
        results["frame_overhead"] = bench_frame_overhead(5 if quick else 15, repeats, cuda)
        progress.step("owner_counts_per_frame")
        from .bench_diagnostics import bench_owner_counts_per_frame  # noqa: PLC0415

        results["owner_counts_per_frame"] = bench_owner_counts_per_frame(10 if quick else 40, repeats, cuda)
    window.switch_to()
    for n in update_sizes if "cpu" in only else []:
        progress.step(f"cpu updates at {n}")
        vs_numpy, vs_warp, seconds = bench_cpu_update(n, repeats)
        label = _label(n)
        results[f"cpu_update_vs_numpy@{label}"] = vs_numpy
        results[f"cpu_update_vs_warp@{label}"] = vs_warp
        for key, value in seconds.items():
            curves["update"].setdefault(f"cpu {key}", {"n": [], "seconds": []})
            curves["update"][f"cpu {key}"]["n"].append(n)
            curves["update"][f"cpu {key}"]["seconds"].append(value)
    if cuda and "gpu" in only:
        progress.step("gpu")
        window.switch_to()
        n = 100_000 if quick else 1_000_000
        results["gpu_kernel_vs_bandwidth"], results["gpu_update_vs_warp"], seconds = bench_gpu(cuda, n, repeats)
        for key, value in seconds.items():
            if key.endswith("_update"):
                label = f"gpu {key[:-7].replace('_', ' ')}"  # "gpu ours auto", "gpu warp"
                curves["update"].setdefault(label, {"n": [], "seconds": []})
                curves["update"][label]["n"].append(n)
                curves["update"][label]["seconds"].append(value)
    elif "gpu" in only:
        for key in ("gpu_kernel_vs_bandwidth", "gpu_update_vs_warp"):
            results[key] = {"goal": GOALS[key], "skipped": "no CUDA device"}
    if "newton" in only:
        for key, bench in (("newton_frame_overhead", lambda: bench_newton.bench_newton_frame_overhead(3 if quick else 10, repeats)),
                           ("newton_cycle_rss", lambda: bench_newton.bench_newton_cycle_rss(2 if quick else 3, 1 if quick else 3))):
            if newton:
                progress.step(key)
                results[key] = bench()
            else:
                results[key] = {"goal": GOALS[key], "skipped": "newton is not installed"}
    if args.plot:
        progress.step("plot curve")
        window.switch_to()
        for n in ([1_000, 10_000] if quick else [1_000, 10_000, 100_000, 1_000_000]) if "cpu" in only else []:
            if n in update_sizes:
                continue
            _, _, seconds = bench_cpu_update(n, 1)
            for key, value in seconds.items():
                entry = curves["update"].setdefault(f"cpu {key}", {"n": [], "seconds": []})
                entry["n"].append(n)
                entry["seconds"].append(value)
        for n in ([1_000, 10_000] if quick else [1_000, 10_000, 100_000]) if cuda and "gpu" in only else []:
            window.switch_to()
            for key, value in gpu_update_curve(cuda, n).items():
                entry = curves["update"].setdefault(f"gpu {key}", {"n": [], "seconds": []})
                entry["n"].append(n)
                entry["seconds"].append(value)
        window.switch_to()
        from .instancer import default_shape_shader  # noqa: PLC0415

        shader = default_shape_shader()
        release_curve = curves["release"]["release_all()"]
        direct_curve = curves["release"].setdefault("deleted by hand", {"n": [], "seconds": []})
        for n in ([30, 300] if quick else [100, 300, 1_000, 3_000, 10_000]) if "exit" in only else []:
            if n not in release_curve["n"]:
                release_curve["n"].append(n)
                release_curve["seconds"].append(_time_release_all(n, shader))
            direct_curve["n"].append(n)
            direct_curve["seconds"].append(_time_direct_delete(n, shader))
        shader.delete()
        for entry in [*curves["update"].values(), *curves["release"].values()]:
            order = np.argsort(entry["n"])
            entry["n"] = [entry["n"][i] for i in order]
            entry["seconds"] = [entry["seconds"][i] for i in order]
    progress.finish()
    window.switch_to()
    report = {"machine": machine(), "quick": quick, "results": results,
              **({"curves": curves} if args.plot else {})}  # to plot again elsewhere
    print_table(results)
    if args.json:
        with open(_parent(args.json), "w") as file:
            json.dump(report, file, indent=2)
    if args.plot:
        plot(args.plot, curves)
    window.close()
    return 0
