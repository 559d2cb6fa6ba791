"""Warp kernels the instancer launches, on CPU or CUDA: per-instance matrices and colours.

Layout contract: one ``wp.mat44`` per instance, stored so that its four rows in memory are the
four *columns* of ``Translation(p) * Rotation(q) * Scale(s)``. That is what Warp's instanced
shape shader reads as four ``vec4`` attributes at locations 3-6, and equals Warp's own
``update_vbo_transforms`` for the same inputs.
"""

from __future__ import annotations

import warp as wp

__all__ = ["instance_matrices", "broadcast_colors"]

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
def broadcast_colors(colors: wp.array(dtype=wp.vec3), out: wp.array(dtype=wp.vec3)):
    """``out[i] = colors[i]``, or ``colors[0]`` for every ``i`` when ``colors`` holds one colour."""
    i = wp.tid()
    if colors.shape[0] == 1:
        out[i] = colors[0]
    else:
        out[i] = colors[i]
