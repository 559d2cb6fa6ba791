"""Both instance-matrix kernels equal Warp's update_vbo_transforms and a NumPy reference."""

import numpy as np
import pytest
import warp as wp

from warp_gl_lifecycle.kernels import broadcast_colors, instance_matrices, instance_matrix_rows
from warp_gl_lifecycle.warp_compat import warp_update_vbo_transforms


def random_instances(n, seed):
    rng = np.random.default_rng(seed)
    q = rng.normal(size=(n, 4))
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    transforms = np.hstack([rng.uniform(-50, 50, (n, 3)), q]).astype(np.float32)
    scalings = rng.uniform(0.05, 4.0, (n, 3)).astype(np.float32)
    return transforms, scalings


def numpy_reference(transforms, scalings):
    """Column-major T(p) R(q) S(s), as four columns per instance."""
    x, y, z, w = (transforms[:, 3 + k].astype(np.float64) for k in range(4))
    rot = np.empty((len(x), 3, 3))
    rot[:, 0] = np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)], 1)
    rot[:, 1] = np.stack([2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)], 1)
    rot[:, 2] = np.stack([2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)], 1)
    m = np.zeros((len(x), 4, 4))
    m[:, :3, :3] = rot * scalings[:, None, :]
    m[:, :3, 3] = transforms[:, :3]
    m[:, 3, 3] = 1
    return np.transpose(m, (0, 2, 1))  # rows in memory = columns of the matrix


def ours(transforms, scalings, device, kernel=instance_matrices):
    """The kernel's output as (N, 4, 4): one thread per instance, or one per row."""
    n = len(transforms)
    inputs = [wp.array(transforms, dtype=wp.transform, device=device), wp.array(scalings, dtype=wp.vec3, device=device)]
    if kernel is instance_matrices:
        out = wp.empty(n, dtype=wp.mat44, device=device)
        wp.launch(kernel, dim=n, inputs=inputs, outputs=[out], device=device)
    else:
        out = wp.empty(16 * n, dtype=wp.float32, device=device)
        wp.launch(kernel, dim=4 * n, inputs=inputs, outputs=[out], device=device)
    return out.numpy().reshape(n, 4, 4)


def warps(transforms, scalings, device):
    n = len(transforms)
    out = wp.empty(n, dtype=wp.mat44, device=device)
    wp.launch(
        warp_update_vbo_transforms(),
        dim=n,
        inputs=[
            wp.array(np.arange(n), dtype=wp.int32, device=device),
            None,
            wp.array(transforms, dtype=wp.transform, device=device),
            wp.array(scalings, dtype=wp.vec3, device=device),
            None,
        ],
        outputs=[out],
        device=device,
    )
    return out.numpy()


DEVICES = ["cpu", pytest.param("cuda:0", marks=pytest.mark.cuda)]


@pytest.mark.parametrize("kernel", [instance_matrices, instance_matrix_rows], ids=lambda k: k.key)
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_instance_matrices_equal_warp_and_numpy(device, seed, kernel):
    transforms, scalings = random_instances(2000, seed)
    got = ours(transforms, scalings, device, kernel)
    reference = numpy_reference(transforms, scalings)
    scale = np.maximum(1.0, np.abs(reference))  # translations and scalings reach 50 and 4: relative there
    assert (np.abs(got - warps(transforms, scalings, device)) / scale).max() <= 1e-6  # other formula, last bits
    assert (np.abs(got - reference) / scale).max() <= 1e-6


def test_reference_is_not_trivially_equal():
    """The comparison above can fail: a transposed layout differs."""
    transforms, scalings = random_instances(10, 3)
    got = ours(transforms, scalings, "cpu")
    assert np.abs(got - np.transpose(numpy_reference(transforms, scalings), (0, 2, 1))).max() > 0.1


@pytest.mark.parametrize("device", DEVICES)
def test_both_kernels_normalise_quaternions(device):
    """Off the unit sphere (|q| from 1e-3 to 1e3) both kernels draw the rotation of q / |q|: the
    NumPy reference of the unit quaternions, not a scaled or sheared matrix."""
    unit, scalings = random_instances(997, 4)  # not a multiple of a warp's 32 / 4 threads
    transforms = unit.copy()
    transforms[:, 3:] *= np.float32(10.0) ** np.random.default_rng(5).uniform(-3, 3, (997, 1)).astype(np.float32)
    expected = numpy_reference(unit, scalings)
    for kernel in (instance_matrices, instance_matrix_rows):
        got = ours(transforms, scalings, device, kernel)
        assert np.abs(got - expected).max() <= 1e-4 * np.abs(expected).max(), kernel.key


@pytest.mark.parametrize("count", [1, 5])
def test_broadcast_colors(count):
    colors = np.random.default_rng(count).uniform(0, 1, (count, 3)).astype(np.float32)
    out = wp.empty(5, dtype=wp.vec3, device="cpu")
    wp.launch(broadcast_colors, dim=5, inputs=[wp.array(colors, dtype=wp.vec3)], outputs=[out], device="cpu")
    np.testing.assert_array_equal(out.numpy(), np.broadcast_to(colors, (5, 3)))
