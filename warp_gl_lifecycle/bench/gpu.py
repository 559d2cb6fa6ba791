"""``gpu_kernel_vs_bandwidth`` and ``gpu_update_vs_warp``: our CUDA kernel against a device copy of as
many bytes, and our full update (each interop mode) against Warp's ``ShapeInstancer``."""

from __future__ import annotations

import statistics
import time
from typing import Any, Callable

import numpy as np

from .common import GOALS, TRIANGLE, summary
from .cpu import random_transforms

__all__ = ["GpuUpdates", "bench_gpu", "gpu_seconds", "gpu_update_curve", "wall_seconds"]


def gpu_seconds(device: str, fn: Callable[[], None], count: int = 50) -> float:
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


def wall_seconds(device: str, fn: Callable[[], None], count: int = 20) -> float:
    """Wall time per call of ``fn``, the device drained before and after ``count`` calls."""
    import warp as wp  # noqa: PLC0415

    fn()
    wp.synchronize_device(device)
    start = time.perf_counter()
    for _ in range(count):
        fn()
    wp.synchronize_device(device)
    return (time.perf_counter() - start) / count


class GpuUpdates:
    """Our instancer, by interop mode (``auto``, the default, then each CUDA mode that works
    here), and Warp's, each with ``n`` instances on one device, in the current context."""

    def __init__(self, device: str, n: int) -> None:
        import warp as wp  # noqa: PLC0415
        from ..instancer import ShapeInstancer, shared_shape_shader  # noqa: PLC0415
        from ..warp_compat import warp_shape_instancer  # noqa: PLC0415

        shader = shared_shape_shader()
        host = random_transforms(n)
        self.transforms = wp.array(host, dtype=wp.transform, device=device)
        # All start from the transforms each update passes, so all draw the same picture: Warp
        # 1.19's update_instances recomputes from the allocation's transforms, not the ones passed.
        self.ours: dict[str, Any] = {}
        self.unavailable: dict[str, str] = {}
        for mode in ("auto", "shared", "map") if wp.get_device(device).is_cuda else ("auto",):
            instancer = ShapeInstancer(shader, device, interop=mode)
            instancer.register_shape(TRIANGLE, [0, 1, 2])
            try:
                instancer.allocate_instances(host[:, :3], host[:, 3:])
            except RuntimeError as exc:
                self.unavailable[mode] = str(exc)
                instancer.close()
                continue
            self.ours[mode] = instancer
        self.theirs = warp_shape_instancer()(shader, device)
        self.theirs.register_shape(TRIANGLE, np.array([0, 1, 2], dtype=np.int32))
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
    from ..kernels import instance_matrices, instance_matrix_rows  # noqa: PLC0415
    from ..warp_compat import warp_instancer_registration, warp_update_vbo_transforms  # noqa: PLC0415

    updates = GpuUpdates(device, n)
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
        k = keep("kernel", gpu_seconds(device, kernel.launch))
        c = keep("copy_half", gpu_seconds(device, lambda: wp.copy(half_dst, half_src)))
        keep("copy_full", gpu_seconds(device, lambda: wp.copy(full_dst, full_src)))
        keep("per_instance_kernel", gpu_seconds(device, per_instance.launch))
        keep("warp_kernel", gpu_seconds(device, warps_kernel.launch))
        vs_bandwidth.append(k / c)
        theirs = keep("warp_update", wall_seconds(device, updates.warp_update))
        for mode in updates.ours:
            ours = keep(f"ours_{mode}_update", wall_seconds(device, updates.update(mode)))
            mode_vs_warp.setdefault(mode, []).append(ours / theirs)
        vs_warp.append(mode_vs_warp["auto"][-1])
        if ours_registration is not None:
            keep("ours_map_unmap", wall_seconds(device, map_unmap(ours_registration)))
        if warps_registration is not None and getattr(warps_registration, "resource", None):
            keep("warp_map_unmap", wall_seconds(device, map_unmap(warps_registration)))
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
        summary(vs_bandwidth, GOALS["gpu_kernel_vs_bandwidth"], kernel_detail),
        summary(vs_warp, GOALS["gpu_update_vs_warp"], {
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
    updates = GpuUpdates(device, n)
    try:
        curve = {f"ours {mode}": wall_seconds(device, updates.update(mode)) for mode in updates.ours}
        return {**curve, "warp": wall_seconds(device, updates.warp_update)}
    finally:
        updates.close()
