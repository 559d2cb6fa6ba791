"""``cpu_update_vs_numpy`` and ``cpu_update_vs_warp``: our instance update on a CPU device beside a
vectorised NumPy computation and Warp's own kernel, each with the same upload."""

from __future__ import annotations

import time

import numpy as np

from .common import GOALS, TRIANGLE, best, summary

__all__ = ["bench_cpu_update", "numpy_instance_matrices", "random_transforms", "size_label"]


def random_transforms(n: int, seed: int = 0) -> np.ndarray:
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

    from ..instancer import ShapeInstancer, default_shape_shader  # noqa: PLC0415
    from ..warp_compat import warp_update_vbo_transforms  # noqa: PLC0415

    shader = default_shape_shader()
    inst = ShapeInstancer(shader, "cpu")
    inst.register_shape(TRIANGLE, [0, 1, 2])
    inst.allocate_instances(np.zeros((n, 3), dtype=np.float32))
    host = random_transforms(n)
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
        a, b, c = best(ours, 3), best(numpy_path, 3), best(warp_path, 3)
        vs_numpy.append(a / b)
        vs_warp.append(a / c)
        for key, value in zip(("ours", "numpy", "warp"), (a, b, c)):
            seconds[key].append(value)
    inst.close()
    shader.delete()
    ms = {f"{key}_ms": round(min(values) * 1e3, 3) for key, values in seconds.items()}
    return (
        summary(vs_numpy, GOALS["cpu_update_vs_numpy"], {"n": n, **ms}),
        summary(vs_warp, GOALS["cpu_update_vs_warp"], {"n": n, **ms}),
        {key: min(values) for key, values in seconds.items()},
    )


def size_label(n: int) -> str:
    return f"{n // 1_000_000}M" if n >= 1_000_000 and n % 1_000_000 == 0 else f"{n // 1000}k"
