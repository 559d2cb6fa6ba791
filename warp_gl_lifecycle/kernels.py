"""Warp kernels the instancer launches, on CPU or CUDA: per-instance matrices and colours.

Layout contract: one ``wp.mat44`` per instance, stored so that its four rows in memory are the
four *columns* of ``Translation(p) * Rotation(q) * Scale(s)``. That is what Warp's instanced
shape shader reads as four ``vec4`` attributes at locations 3-6, and equals Warp's own
``update_vbo_transforms`` for the same inputs.

Two kernels write that layout. :func:`instance_matrices` runs one thread per instance and suits the
CPU. :func:`instance_matrix_elements` runs one thread per float of the output, so that a warp's
32 stores land on 128 consecutive bytes; on CUDA that is what keeps the update near the memory
bandwidth. One thread per instance makes each store instruction touch 64 scattered sectors.
"""

from __future__ import annotations

import warp as wp

__all__ = ["instance_matrices", "instance_matrix_elements", "broadcast_colors"]

wp.set_module_options({"enable_backward": False})


@wp.kernel
def instance_matrices(
    transforms: wp.array(dtype=wp.transform),
    scalings: wp.array(dtype=wp.vec3),
    matrices: wp.array(dtype=wp.mat44),
):
    """``matrices[i]`` = column-major ``T(p) R(q) S(s)`` of ``transforms[i]`` and ``scalings[i]``."""
    i = wp.tid()
    x = transforms[i]
    m = wp.transform_compose(wp.transform_get_translation(x), wp.transform_get_rotation(x), scalings[i])
    matrices[i] = wp.transpose(m)


@wp.kernel
def instance_matrix_elements(
    transforms: wp.array(dtype=wp.transform),
    scalings: wp.array(dtype=wp.vec3),
    out: wp.array(dtype=wp.float32),
):
    """``out`` viewed as ``(N, 16)`` floats equals :func:`instance_matrices`'s output; launch with
    ``dim = 16 * N``. Thread ``t`` writes float ``t & 15`` of instance ``t >> 4``: element ``c`` of
    memory row ``r``, that is column ``r`` of ``T(p) R(q) S(s)``. The rotation column is Warp's own
    ``quat_rotate`` of the ``r``-th unit axis, as in ``quat_to_matrix``."""
    t = wp.tid()
    i = t >> 4
    r = (t >> 2) & 3
    c = t & 3
    x = transforms[i]
    s = scalings[i]
    axis = wp.vec3(wp.where(r == 0, 1.0, 0.0), wp.where(r == 1, 1.0, 0.0), wp.where(r == 2, 1.0, 0.0))
    scale = wp.where(r == 0, s[0], wp.where(r == 1, s[1], s[2]))
    column = wp.quat_rotate(wp.transform_get_rotation(x), axis) * scale
    last = 0.0
    if r == 3:
        column = wp.transform_get_translation(x)
        last = 1.0
    out[t] = wp.where(c == 0, column[0], wp.where(c == 1, column[1], wp.where(c == 2, column[2], last)))


@wp.kernel
def broadcast_colors(colors: wp.array(dtype=wp.vec3), out: wp.array(dtype=wp.vec3)):
    """``out[i] = colors[i]``, or ``colors[0]`` for every ``i`` when ``colors`` holds one colour."""
    i = wp.tid()
    if colors.shape[0] == 1:
        out[i] = colors[0]
    else:
        out[i] = colors[i]
