"""ShapeInstancer on real headless GL and real Warp kernels: pixels, names, leaks, contexts, errors."""

import gc
import warnings

import numpy as np
import pyglet
import pytest
import warp as wp
from pyglet import gl

from warp_gl_lifecycle import ShapeInstancer, flush, stats
from warp_gl_lifecycle.glresources import live_names

SIZE = 64
QUAD = np.array(
    [[-1, -1, 0, 0, 0, 1, 0, 0], [1, -1, 0, 0, 0, 1, 1, 0], [1, 1, 0, 0, 0, 1, 1, 1], [-1, 1, 0, 0, 0, 1, 0, 1]],
    dtype=np.float32,
)
INDICES = np.array([0, 1, 2, 0, 2, 3], dtype=np.uint32)
RED, GREEN, BLUE = (1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0)


def make(count=3, device="cpu", **kw):
    inst = ShapeInstancer(device=device, **kw)
    inst.register_shape(QUAD * [0.1, 0.1, 1, 1, 1, 1, 1, 1], INDICES, RED)
    inst.allocate_instances(np.zeros((count, 3)))
    return inst


def draw(*instancers):
    gl.glViewport(0, 0, SIZE, SIZE)
    gl.glClearColor(0, 0, 0, 1)
    gl.glClear(gl.GL_COLOR_BUFFER_BIT)
    for inst in instancers:
        inst.render()
    pixels = (gl.GLubyte * (SIZE * SIZE * 4))()
    gl.glReadPixels(0, 0, SIZE, SIZE, gl.GL_RGBA, gl.GL_UNSIGNED_BYTE, pixels)
    return np.frombuffer(pixels, np.uint8).reshape(SIZE, SIZE, 4)[:, :, :3]


def pixel_at(image, x, y):
    """The pixel under normalized device coordinates (x, y)."""
    return image[int((y + 1) / 2 * SIZE), int((x + 1) / 2 * SIZE)]


def dominant(rgb):
    rgb = np.asarray(rgb, dtype=int)
    if rgb.max() < 30:
        return "background"
    return ("red", "green", "blue")[int(np.argmax(rgb))]


def owned_names(inst):
    names = inst._gl.names()
    return names["buffers"], names["vaos"], names["programs"]


def all_live(kind, upto=3000):
    return live_names(kind, range(1, upto))


@pytest.fixture(autouse=True)
def _context(gl_context):
    yield
    flush()


class TestPixels:
    def test_instances_draw_where_placed_in_their_colours(self):
        inst = make()
        positions = [(-0.5, -0.5, 0), (0.5, -0.5, 0), (0.0, 0.5, 0)]
        inst.allocate_instances(positions, colors1=[RED, GREEN, BLUE])
        image = draw(inst)
        assert [dominant(pixel_at(image, x, y)) for x, y, _ in positions] == ["red", "green", "blue"]
        for x, y in [(0, 0), (-0.5, 0.5), (0.5, 0.5), (-0.9, -0.9), (0.0, -0.5)]:
            assert dominant(pixel_at(image, x, y)) == "background", (x, y)
        inst.close()

    def test_rotation_and_scaling_change_the_footprint(self):
        inst = make(count=1)
        half_turn_z = (0.0, 0.0, np.sin(np.pi / 8), np.cos(np.pi / 8))  # 45 degrees about z
        inst.allocate_instances([(0, 0, 0)], rotations=[half_turn_z], scalings=[(3.0, 3.0, 1.0)])
        image = draw(inst)
        assert dominant(pixel_at(image, 0.0, 0.35)) == "red"  # corner of a 0.6-wide diamond reaches 0.42
        assert dominant(pixel_at(image, 0.26, 0.26)) == "background"  # an unrotated square would cover it
        inst.close()

    def test_update_instances_moves_them(self):
        inst = make(count=2)
        inst.update_instances(wp.array([(-0.6, 0.6, 0, 0, 0, 0, 1), (0.6, -0.6, 0, 0, 0, 0, 1)], dtype=wp.transform))
        image = draw(inst)
        assert dominant(pixel_at(image, -0.6, 0.6)) == "red" and dominant(pixel_at(image, 0.6, -0.6)) == "red"
        assert dominant(pixel_at(image, 0, 0)) == "background"
        inst.update_instances(scalings=np.full((2, 3), 2.0), colors1=GREEN)
        image = draw(inst)
        assert dominant(pixel_at(image, -0.6 + 0.15, 0.6)) == "green"
        inst.close()

    def test_user_kernel_writes_vbo_transforms_in_with_block(self):
        @wp.kernel
        def place(out: wp.array(dtype=wp.mat44)):
            i = wp.tid()
            x = float(i) * 0.8 - 0.4
            out[i] = wp.transpose(wp.transform_compose(wp.vec3(x, 0.5, 0.0), wp.quat_identity(), wp.vec3(1.0, 1.0, 1.0)))

        inst = make(count=2)
        with inst as mapped:
            wp.launch(place, dim=2, outputs=[mapped.vbo_transforms], device="cpu")
        image = draw(inst)
        assert dominant(pixel_at(image, -0.4, 0.5)) == "red" and dominant(pixel_at(image, 0.4, 0.5)) == "red"
        assert dominant(pixel_at(image, 0.0, 0.0)) == "background"
        inst.close()


def gl_floats(buffer, shape):
    """The start of GL buffer ``buffer`` as GL holds it: float32 of ``shape``."""
    readback = np.empty(shape, np.float32)
    gl.glBindBuffer(gl.GL_ARRAY_BUFFER, buffer)
    gl.glGetBufferSubData(gl.GL_ARRAY_BUFFER, 0, readback.nbytes, readback.ctypes.data)
    gl.glBindBuffer(gl.GL_ARRAY_BUFFER, 0)
    return readback


def gl_matrices(inst):
    """The instance buffer as GL holds it, (N, 16) floats."""
    return gl_floats(inst.instance_transform_gl_buffer, (inst.num_instances, 16))


@pytest.mark.parametrize("device", ["cpu", pytest.param("cuda:0", marks=pytest.mark.cuda)])
def test_every_update_reaches_gl_new_arrays_and_arrays_changed_in_place(device):
    """The update replays one recorded launch; a new array, the same array written in place and
    new scalings must each reach the GL buffer (translation sits in floats 12-14)."""
    inst = make(count=4, device=device)
    first = np.tile(np.array([0, 0, 0, 0, 0, 0, 1], np.float32), (4, 1))
    first[:, 0] = [1, 2, 3, 4]
    array = wp.array(first, dtype=wp.transform, device=device)
    inst.update_instances(array)
    np.testing.assert_allclose(gl_matrices(inst)[:, 12], [1, 2, 3, 4])
    second = first.copy()
    second[:, 1] = [5, 6, 7, 8]
    inst.update_instances(wp.array(second, dtype=wp.transform, device=device))
    np.testing.assert_allclose(gl_matrices(inst)[:, 13], [5, 6, 7, 8])
    array.assign(wp.array(second * [1, 1, 0, 1, 1, 1, 1] + [0, 0, 9, 0, 0, 0, 0], dtype=wp.transform, device=device))
    inst.update_instances(array)
    np.testing.assert_allclose(gl_matrices(inst)[:, 14], [9, 9, 9, 9])
    np.testing.assert_allclose(gl_matrices(inst)[:, 13], [5, 6, 7, 8])
    inst.update_instances(scalings=np.full((4, 3), 2.0))
    np.testing.assert_allclose(gl_matrices(inst)[:, [0, 5, 10]], 2.0)
    old_buffer = inst.instance_transform_gl_buffer
    inst.allocate_instances(np.ones((2, 3)))  # a new buffer and count: recorded anew
    np.testing.assert_allclose(gl_matrices(inst)[:, 12:16], 1.0)
    assert old_buffer not in owned_names(inst)[0] and (old_buffer == inst.instance_transform_gl_buffer
                                                        or live_names("buffer", [old_buffer]) == [])
    inst.close()


class TestRelease:
    def test_close_deletes_every_name_it_owned(self):
        inst = make()
        buffers, vaos, programs = owned_names(inst)
        assert len(buffers) == 5 and len(vaos) == 1 and programs == []  # the default shader is shared
        assert live_names("buffer", buffers) == buffers and live_names("vao", vaos) == vaos
        inst.close()
        inst.close()
        assert inst.closed
        assert live_names("buffer", buffers) == [] and live_names("vao", vaos) == []
        assert inst.shape_shader.id is not None  # the shared shader outlives one instancer

    def test_use_after_close_raises(self):
        inst = make()
        inst.close()
        for call in (inst.render, lambda: inst.update_instances(np.zeros((3, 7)))):
            with pytest.raises(RuntimeError, match="is closed"):
                call()

    def test_200_create_update_close_cycles_leave_no_names(self):
        make().close()  # warm-up: first-use allocations of the driver and pyglet
        before = {kind: all_live(kind) for kind in ("buffer", "vao", "program", "texture")}
        transforms = wp.array(np.tile([0, 0, 0, 0, 0, 0, 1], (3, 1)), dtype=wp.transform)
        for _ in range(200):
            inst = make()
            inst.update_instances(transforms)
            inst.render()
            inst.close()
        after = {kind: all_live(kind) for kind in before}
        assert after == before

    def test_collected_instancer_is_deleted_at_the_next_safe_point(self):
        released_gc = stats()["released_gc"]
        inst = make()
        buffers, vaos, _ = owned_names(inst)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ResourceWarning)
            del inst
            gc.collect()
        assert stats()["released_gc"] == released_gc + 1
        flush()
        assert live_names("buffer", buffers) == [] and live_names("vao", vaos) == []

    def test_finalizer_with_another_context_current_deletes_nothing_there(self):
        first = pyglet.window.Window(SIZE, SIZE, visible=False)
        other = pyglet.window.Window(SIZE, SIZE, visible=False)
        try:
            first.switch_to()
            doomed = make()
            doomed_buffers, doomed_vaos, _ = owned_names(doomed)
            other.switch_to()
            survivor = make()
            survivor_buffers, survivor_vaos, _ = owned_names(survivor)
            assert survivor_vaos == doomed_vaos  # VAO names are per context: fresh ones reuse numbers
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ResourceWarning)
                del doomed
                gc.collect()
            assert gl.current_context is other.context
            # Nothing deleted here: the survivor's VAO (same number) and every buffer still exist.
            assert live_names("vao", survivor_vaos) == survivor_vaos
            assert live_names("buffer", doomed_buffers + survivor_buffers) == doomed_buffers + survivor_buffers
            assert dominant(pixel_at(draw(survivor), 0, 0)) == "red"
            # Back in its own context, the queued names go.
            first.switch_to()
            assert live_names("vao", doomed_vaos) == [] and live_names("buffer", doomed_buffers) == []
            other.switch_to()
            assert live_names("vao", survivor_vaos) == survivor_vaos
            survivor.close()
        finally:
            other.close()
            first.close()

    def test_close_after_its_window_was_closed_deletes_shared_names(self, gl_window):
        window = pyglet.window.Window(SIZE, SIZE, visible=False)
        inst = make()
        buffers, _, _ = owned_names(inst)
        window.close()
        with pytest.raises(RuntimeError, match="was destroyed"):
            inst.render()
        inst.close()
        gl_window.switch_to()
        assert live_names("buffer", buffers) == []


class TestBadInput:
    @pytest.mark.parametrize(
        "vertices, indices, error, match",
        [
            (np.zeros((4, 6)), INDICES, ValueError, r"vertices must have shape \(N, 8\), got \(4, 6\)"),
            (np.zeros((0, 8)), INDICES, ValueError, "at least one vertex"),
            ("abc", INDICES, TypeError, "vertices must be an array of numbers"),
            (QUAD, [0, 1, 4], ValueError, r"indices must lie in \[0, 3\] for 4 vertices, got \[0, 4\]"),
            (QUAD, [0, 1, -1], ValueError, r"indices must lie in"),
            (QUAD, [0, 1, 2, 3], ValueError, "whole triangles"),
            (QUAD, [0.0, 1.0, 2.0], TypeError, "indices must be integers"),
            (np.full((4, 8), np.nan), INDICES, ValueError, "vertices must be finite"),
        ],
    )
    def test_register_shape(self, vertices, indices, error, match):
        inst = ShapeInstancer(device="cpu")
        with pytest.raises(error, match=match):
            inst.register_shape(vertices, indices)
        inst.close()

    @pytest.mark.parametrize(
        "kwargs, match",
        [
            ({"positions": np.zeros((3, 2))}, r"positions must have shape \(N, 3\), got \(3, 2\)"),
            ({"positions": np.zeros((3, 3)), "rotations": np.zeros((2, 4))}, r"rotations must have shape \(3, 4\), got \(2, 4\)"),
            ({"positions": np.zeros((3, 3)), "scalings": np.zeros((4, 3))}, r"scalings must have shape \(3, 3\), got \(4, 3\)"),
            ({"positions": np.zeros((3, 3)), "colors1": np.zeros((2, 3))}, r"colors1 must have shape \(3, 3\) or \(3,\), got \(2, 3\)"),
        ],
    )
    def test_allocate_instances(self, kwargs, match):
        inst = make()
        with pytest.raises(ValueError, match=match):
            inst.allocate_instances(**kwargs)
        inst.close()

    def test_allocate_before_register(self):
        inst = ShapeInstancer(device="cpu")
        with pytest.raises(RuntimeError, match="register_shape"):
            inst.allocate_instances(np.zeros((1, 3)))
        inst.close()

    def test_update_instances_counts_and_dtypes(self):
        inst = make(count=3)
        with pytest.raises(ValueError, match=r"transforms must have shape \(3,\), got \(4,\)"):
            inst.update_instances(wp.zeros(4, dtype=wp.transform))
        with pytest.raises(TypeError, match="transforms must have dtype transform"):
            inst.update_instances(wp.zeros(3, dtype=wp.vec3))
        with pytest.raises(ValueError, match=r"scalings must have shape \(3, 3\), got \(2, 3\)"):
            inst.update_instances(scalings=np.ones((2, 3)))
        inst.close()

    @pytest.mark.parametrize("interop, match", [("fast", "interop must be one of"), ("shared", "needs a CUDA device"),
                                                ("map", "needs a CUDA device")])
    def test_interop_mode(self, interop, match):
        with pytest.raises(ValueError, match=match):
            ShapeInstancer(device="cpu", interop=interop)

    def test_cpu_instancer_copies(self):
        inst, unallocated = make(), ShapeInstancer(device="cpu", interop="copy")
        assert inst.interop == "copy" and unallocated.interop is None
        inst.close()
        unallocated.close()

    def test_shape_shader_type(self):
        with pytest.raises(TypeError, match="shape_shader must be a pyglet ShaderProgram"):
            ShapeInstancer(shape_shader="not a shader", device="cpu")


def test_collected_owner_of_a_program_queues_it_without_a_gl_call(gl_context):
    from warp_gl_lifecycle import track
    from warp_gl_lifecycle.glresources import GLResources
    from warp_gl_lifecycle.instancer import default_shape_shader

    class Owner:
        pass

    owner = Owner()
    resources = GLResources()
    program = default_shape_shader()
    program_id = program.id
    resources.programs.append(program)
    del program
    track(owner, resources.release, context=gl_context, warn=False)
    calls = []
    original = gl.glDeleteProgram
    gl.glDeleteProgram = lambda *args: (calls.append(args), original(*args))[1]
    try:
        del owner
        gc.collect()
        assert calls == []  # queued, not deleted, inside the finalizer
        assert program_id in gl_context.object_space.doomed_shader_programs
        flush()
    finally:
        gl.glDeleteProgram = original
    assert live_names("program", [program_id]) == []
