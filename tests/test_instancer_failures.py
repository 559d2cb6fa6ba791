"""ShapeInstancer round 3 (issue 17): a failed allocation leaves the old instances drawing, a shader
of another object space is refused, ``launch(inputs=...)`` mistakes name ``inputs``, and
quaternions are normalised (zero ones refused) without a NumPy warning."""

import sys
import warnings

import numpy as np
import pyglet
import pytest
import warp as wp
from pyglet import gl

from warp_gl_lifecycle import ShapeInstancer, flush
from warp_gl_lifecycle.instancer import default_shape_shader

from .test_instancer import INDICES, SIZE, dominant, draw, gl_floats, pixel_at
from .test_instancer_misuse import RED, SMALL_QUAD, place_at, scene, state  # noqa: F401 - scene is a fixture

# -- item 7: every new buffer first, then the switch ----------------------------------------------


class OutOfMemory:
    """Makes the ``fail_at``-th allocation (0-based) that the instancer asks for fail the way it does
    out of memory: Warp's device allocator raising Warp's own ``RuntimeError``, or ``glBufferData``
    raising pyglet's ``GLException`` (GL_OUT_OF_MEMORY). Counts them all when ``fail_at`` is None."""

    def __init__(self, monkeypatch, device, fail_at=None):
        self.fail_at, self.seen = fail_at, []
        get_allocator, buffer_data = device.get_allocator, gl.glBufferData
        meter = self

        class Allocator:
            def __init__(self, real):
                self._real = real

            def __getattr__(self, name):
                return getattr(self._real, name)

            def allocate(self, size_in_bytes):
                meter.step(f"Warp allocation of {size_in_bytes} bytes",
                           RuntimeError(f"Failed to allocate {size_in_bytes} bytes on device '{device}'"))
                return self._real.allocate(size_in_bytes)

        def allocator(pinned=False):
            return Allocator(get_allocator(pinned=pinned))

        def glBufferData(target, size, data, usage):  # noqa: N802 - GL's name
            meter.step(f"glBufferData of {size} bytes", gl.GLException("Out of memory"))
            return buffer_data(target, size, data, usage)

        monkeypatch.setattr(device, "get_allocator", allocator)
        monkeypatch.setattr(sys.modules["pyglet.gl"], "glBufferData", glBufferData)  # the module, not pyglet's proxy

    def step(self, what, error):
        self.seen.append(what)
        if self.fail_at is not None and len(self.seen) - 1 == self.fail_at:
            raise error


def allocations(monkeypatch, scene, positions):
    """What one valid allocate_instances of ``positions`` allocates, in order (measured on a twin)."""
    twin = ShapeInstancer(device="cpu")
    twin.register_shape(SMALL_QUAD, INDICES, RED)
    twin.allocate_instances([(0.0, 0.0, 0.0)] * 2)
    with monkeypatch.context() as patch:
        meter = OutOfMemory(patch, scene.inst.device)
        twin.allocate_instances(positions)
    twin.close()
    return meter.seen


def test_failed_allocation_leaves_the_old_instances_drawing(scene, monkeypatch):
    positions = np.linspace(-0.8, 0.8, 15).reshape(5, 3)
    seen = allocations(monkeypatch, scene, positions)
    assert len(seen) >= 4, seen  # transforms, scalings, matrix buffer, staging (and colours)
    moved = wp.array([(0.5, 0.5, 0, 0, 0, 0, 1), (-0.5, 0.5, 0, 0, 0, 0, 1)], dtype=wp.transform, device="cpu")
    for fail_at, what in enumerate(seen):
        before, image = state(scene), scene.image(scene.home, scene.inst)
        scene.home.switch_to()
        with monkeypatch.context() as patch:
            OutOfMemory(patch, scene.inst.device, fail_at)
            with pytest.raises((RuntimeError, gl.GLException)):
                scene.inst.allocate_instances(positions)
        assert state(scene) == before, f"allocate_instances changed the instancer when the {what} failed"
        assert (scene.image(scene.home, scene.inst) == image).all(), what
        scene.inst.update_instances(moved)  # the old state works on
        scene.inst.update_colors(RED, None)
        after = scene.image(scene.home, scene.inst)
        assert dominant(pixel_at(after, 0.5, 0.5)) == "red" and dominant(pixel_at(after, -0.5, 0.5)) == "red", what
        scene.inst.update_instances(np.array([(-0.5, -0.5, 0, 0, 0, 0, 1), (0.5, -0.5, 0, 0, 0, 0, 1)]))
    scene.assert_neighbours_untouched()
    scene.home.switch_to()
    scene.inst.allocate_instances(positions)  # and a later allocation succeeds
    assert scene.inst.num_instances == 5
    np.testing.assert_allclose(gl_floats(scene.inst.instance_transform_gl_buffer, (5, 16))[:, 12:15], positions, rtol=1e-6)


# -- item 8: a shader of another object space ----------------------------------------------------


def test_shader_of_another_object_space_is_refused(scene):
    scene.private.switch_to()
    foreign = default_shape_shader()  # compiled in a context that shares nothing with home's
    scene.shared.switch_to()
    shared = default_shape_shader()  # home's object space: fine
    scene.home.switch_to()
    with pytest.raises(ValueError, match="shape_shader was compiled in a GL context of another object space"):
        ShapeInstancer(foreign, device="cpu")
    ok = ShapeInstancer(shared, device="cpu")
    ok.register_shape(SMALL_QUAD, INDICES, RED)
    ok.allocate_instances([(0.0, 0.0, 0.0)])
    assert dominant(pixel_at(draw(ok), 0.0, 0.0)) == "red"
    ok.shape_shader = foreign  # replaced later: refused where it would be used
    with pytest.raises(RuntimeError, match="shape_shader of .* was compiled in a GL context of another object space"):
        ok.render()
    ok.close()
    scene.private.switch_to()
    foreign.delete()
    scene.shared.switch_to()
    shared.delete()
    scene.assert_neighbours_untouched()


# -- item 9: launch(inputs=...) ------------------------------------------------------------------


@pytest.mark.parametrize("inputs", ["array", 0.5, {"offsets": 0.5}, "text", None])
def test_launch_inputs_that_are_not_a_list_name_inputs(scene, inputs):
    scene.home.switch_to()
    if inputs == "array":
        inputs = wp.array([(0.0, 0.0, 0.0)] * 2, dtype=wp.vec3, device="cpu")
    before = gl_floats(scene.inst.instance_transform_gl_buffer, (2, 16))
    with pytest.raises(TypeError, match=r"inputs must be a list or tuple of place_at's arguments before "
                                        r"vbo_transforms \(1 here\), got "):
        scene.inst.launch(place_at, inputs=inputs)
    scene.home.switch_to()
    np.testing.assert_array_equal(gl_floats(scene.inst.instance_transform_gl_buffer, (2, 16)), before)
    offsets = wp.array([(0.5, 0.5, 0.0), (-0.5, 0.5, 0.0)], dtype=wp.vec3, device="cpu")
    scene.inst.launch(place_at, inputs=(offsets,))  # a tuple, as Warp takes
    assert dominant(pixel_at(scene.image(scene.home, scene.inst), 0.5, 0.5)) == "red"


# -- item 10: quaternions ---------------------------------------------------------------------------


def drawn_extent(inst):
    """The drawn pixels' bounding box (x0, y0, x1, y1), or None when nothing is drawn."""
    image = draw(inst)
    ys, xs = np.nonzero(image.max(axis=2) >= 30)
    return None if len(xs) == 0 else (xs.min(), ys.min(), xs.max(), ys.max())


@pytest.mark.parametrize("norm", [2.0, 1e-5, 1e30, 1e-30])
@pytest.mark.parametrize("where", ["allocate", "update-array-like", "update-warp-array"])
def test_quaternions_are_normalised_without_numpy_warnings(gl_context, norm, where):
    angle = 0.3
    unit = np.array([0.0, 0.0, np.sin(angle / 2), np.cos(angle / 2)])
    inst = ShapeInstancer(device="cpu")
    inst.register_shape(SMALL_QUAD * [3, 3, 1, 1, 1, 1, 1, 1], INDICES, RED)
    inst.allocate_instances([(0.0, 0.0, 0.0)], [unit])
    expected = drawn_extent(inst)
    assert expected is not None
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a NumPy RuntimeWarning (overflow, underflow) fails the test
        scaled = np.array([unit * norm])
        if where == "allocate":
            inst.allocate_instances([(0.0, 0.0, 0.0)], scaled)
        elif where == "update-array-like":
            inst.update_instances(np.hstack([[[0.0, 0.0, 0.0]], scaled]))
        else:
            if norm > 1e18 or norm < 1e-18:
                pytest.skip("a Warp array's quaternions are normalised in float32 by the kernel")
            inst.update_instances(wp.array(np.hstack([[[0.0, 0.0, 0.0]], scaled]), dtype=wp.transform, device="cpu"))
    assert drawn_extent(inst) == expected, f"|q| = {norm} drew a different instance"
    inst.close()
    flush()


def test_zero_quaternions_are_still_refused_without_warnings(gl_context):
    inst = ShapeInstancer(device="cpu")
    inst.register_shape(SMALL_QUAD, INDICES, RED)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match="rotations must hold non-zero quaternions .* at row 1"):
            inst.allocate_instances(np.zeros((2, 3)), [(0, 0, 0, 1), (0, 0, 0, 0)])
    inst.close()
