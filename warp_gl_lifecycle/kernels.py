"""Warp kernels the instancer launches, on CPU or CUDA: per-instance matrices and colours.

Layout contract: one ``wp.mat44`` per instance, stored so that its four rows in memory are the
four *columns* of ``Translation(p) * Rotation(q / |q|) * Scale(s)``. That is what Warp's instanced
shape shader reads as four ``vec4`` attributes at locations 3-6, and equals Warp's own
``update_vbo_transforms`` for the same inputs with unit quaternions.

Both kernels normalise ``q`` for free: the rotation of ``q / |q|`` is the unit formula with ``2``
replaced by ``s = 2 / |q|^2`` (one division, no square root; ``wp.normalize`` made the CPU update
3.3 times slower, this costs nothing measurable). So a Warp array of transforms, which the
instancer does not scan, draws each instance with its rotation, as the NumPy arrays it checks and
normalises on the host do. In float32 a norm beyond about 1e19 overflows, and a zero quaternion
gives the unscaled identity rotation (``s = 0``).

Two kernels write that layout. :func:`instance_matrices` runs one thread per instance and suits the
CPU. :func:`instance_matrix_rows` runs one thread per 16-byte row, so that a warp's stores land on
512 consecutive bytes instead of 2 KiB scattered across 64 sectors; on CUDA that is what keeps the
update at the memory bandwidth. Measured on an H200 at 1M instances: one thread per instance
0.174 ms (Warp's own kernel 0.178 ms), per row 0.0315 ms, per float 0.093 ms (it runs 16 times
the instructions), against 0.0298 ms for a device copy moving as many bytes.
"""

from __future__ import annotations

import warp as wp

__all__ = ["instance_matrices", "instance_matrix_rows", "broadcast_colors"]

wp.set_module_options({"enable_backward": False})


@wp.func
def _rotation_scale(q: wp.quat):
    """``2 / |q|^2``: with it in place of 2, the unit-quaternion rotation formulas rotate by ``q / |q|``."""
    n = wp.dot(q, q)
    return wp.where(n > 0.0, 2.0 / n, 0.0)


@wp.kernel
def instance_matrices(
    transforms: wp.array(dtype=wp.transform),
    scalings: wp.array(dtype=wp.vec3),
    matrices: wp.array(dtype=wp.mat44),
):
    """``matrices[i]`` = column-major ``T(p) R(q / |q|) S(s)`` of ``transforms[i]`` and ``scalings[i]``."""
    i = wp.tid()
    x = transforms[i]
    p = wp.transform_get_translation(x)
    q = wp.transform_get_rotation(x)
    k = scalings[i]
    s = _rotation_scale(q)
    qx = q[0]
    qy = q[1]
    qz = q[2]
    qw = q[3]
    matrices[i] = wp.mat44(
        (1.0 - s * (qy * qy + qz * qz)) * k[0], s * (qx * qy + qz * qw) * k[0], s * (qx * qz - qy * qw) * k[0], 0.0,
        s * (qx * qy - qz * qw) * k[1], (1.0 - s * (qx * qx + qz * qz)) * k[1], s * (qy * qz + qx * qw) * k[1], 0.0,
        s * (qx * qz + qy * qw) * k[2], s * (qy * qz - qx * qw) * k[2], (1.0 - s * (qx * qx + qy * qy)) * k[2], 0.0,
        p[0], p[1], p[2], 1.0,
    )


@wp.kernel
def instance_matrix_rows(
    transforms: wp.array(dtype=wp.transform),
    scalings: wp.array(dtype=wp.vec3),
    out: wp.array(dtype=wp.float32),
):
    """``out`` viewed as ``(N, 16)`` floats equals :func:`instance_matrices`'s output; launch with
    ``dim = 4 * N``. Thread ``t`` writes memory row ``t & 3`` of instance ``t >> 2``, that is
    column ``r`` of ``T(p) R(q / |q|) S(s)``: four floats at ``out[4t:4t+4]``. The rotation column
    is the ``r``-th unit axis ``a`` rotated, ``a + s (w (v x a) + v x (v x a))`` with ``v`` the
    vector part of ``q`` and ``s = 2 / |q|^2`` (Rodrigues' formula, which ``quat_rotate`` uses for
    unit quaternions)."""
    t = wp.tid()
    i = t >> 2
    r = t & 3
    x = transforms[i]
    s = scalings[i]
    axis = wp.vec3(wp.where(r == 0, 1.0, 0.0), wp.where(r == 1, 1.0, 0.0), wp.where(r == 2, 1.0, 0.0))
    scale = wp.where(r == 0, s[0], wp.where(r == 1, s[1], s[2]))
    q = wp.transform_get_rotation(x)
    v = wp.vec3(q[0], q[1], q[2])
    turn = wp.cross(v, axis)
    column = (axis + _rotation_scale(q) * (q[3] * turn + wp.cross(v, turn))) * scale
    last = 0.0
    if r == 3:
        column = wp.transform_get_translation(x)
        last = 1.0
    out[4 * t + 0] = column[0]
    out[4 * t + 1] = column[1]
    out[4 * t + 2] = column[2]
    out[4 * t + 3] = last


@wp.kernel
def broadcast_colors(colors: wp.array(dtype=wp.vec3), out: wp.array(dtype=wp.vec3)):
    """``out[i] = colors[i]``, or ``colors[0]`` for every ``i`` when ``colors`` holds one colour."""
    i = wp.tid()
    if colors.shape[0] == 1:
        out[i] = colors[0]
    else:
        out[i] = colors[i]
