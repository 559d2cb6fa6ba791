"""Random valid and invalid calls on a ShapeInstancer (issue 10), checked after every call: either
a ValueError/TypeError/RuntimeError naming the argument, with the instancer's state and pixels
unchanged, or a correct draw (GL's matrices and colours equal a NumPy model, and the picture
equals that of a fresh instancer given the same data); and never a change to a neighbour's pixels.

Calls are made with another context current (one sharing the instancer's objects, or one with
an object space of its own), from a worker thread, inside `with inst:`, and after close().
"""

import threading

import numpy as np
import pytest
import warp as wp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from warp_gl_lifecycle import ShapeInstancer, flush
from warp_gl_lifecycle.bench import numpy_instance_matrices
from warp_gl_lifecycle.instancer import MAX_INSTANCES

from .test_instancer import INDICES, draw, gl_floats
from .test_instancer_misuse import SMALL_QUAD, Scene, place_at, writes_vec3

IDENTITY_Q = np.array([0, 0, 0, 1], np.float32)


@wp.kernel
def copy_matrices(source: wp.array(dtype=wp.mat44), out: wp.array(dtype=wp.mat44)):
    i = wp.tid()
    out[i] = source[i]


class Model:
    """What the instancer should hold after the calls that succeeded."""

    def __init__(self, count, rng):
        self.shape_colors = (np.ones(3, np.float32), np.full(3, 1.0, np.float32))  # white, lightened white
        self.allocate(rng.uniform(-0.8, 0.8, (count, 3)).astype(np.float32), None, None, None, None)
        self.closed = False

    def allocate(self, positions, rotations, colors1, colors2, scalings):
        count = len(positions)
        self.count = count
        rotations = np.tile(IDENTITY_Q, (count, 1)) if rotations is None else rotations
        self.transforms = np.hstack([positions, rotations]).astype(np.float32)
        self.scalings = np.ones((count, 3), np.float32) if scalings is None else scalings.astype(np.float32)
        self.matrices = self.computed()
        self.set_colors(colors1, colors2)

    def computed(self):
        return numpy_instance_matrices(self.transforms, self.scalings).reshape(-1, 16)

    def set_colors(self, colors1, colors2):
        self.colors = [np.broadcast_to(np.asarray(default if value is None else value, np.float32), (self.count, 3))
                       for value, default in zip((colors1, colors2), self.shape_colors)]


def host(value):
    return value.numpy() if isinstance(value, wp.array) else np.asarray(value, np.float32)


# -- argument variants: (value or None, name if bad else None) --------------------------------------


def positions_variant(data, rng):
    count = data.draw(st.sampled_from([0, 1, 2, 5, 40]), label="count")
    valid = rng.uniform(-0.8, 0.8, (count, 3)).astype(np.float32)
    kind = data.draw(st.sampled_from(["ok"] * 4 + ["shape", "nan", "text", "huge_value", "too_many"]), label="positions")
    return count, {
        "ok": (valid, None),
        "shape": (np.zeros((count, 2)), "positions"),
        "nan": (np.vstack([valid, [[np.nan, 0, 0]]]), "positions"),
        "text": ("abc", "positions"),
        "huge_value": (np.full((count + 1, 3), 1e300), "positions"),
        "too_many": (np.broadcast_to(np.zeros(3, np.float32), (MAX_INSTANCES + 1, 3)), "positions"),
    }[kind]


def rows_variant(data, rng, name, count, width, make_valid, warp_dtype=None):
    """None, a valid (count, width) array (or Warp array), or a bad one named ``name``."""
    kinds = ["none", "ok", "ok", "shape", "nan", "inf", "big"]
    if warp_dtype is not None:
        kinds += ["warp", "warp", "warp_length", "warp_dtype"] + (["warp_other_device"] if wp.is_cuda_available() else [])
    if name in ("rotations", "transforms") and count:
        kinds.append("zero_quaternion")
    kind = data.draw(st.sampled_from(kinds), label=name)
    valid = make_valid(count)
    if kind == "none":
        return None, None
    if kind == "ok":
        return valid, None
    if kind in ("warp", "warp_other_device"):  # an array on another device is copied
        return wp.array(valid, dtype=warp_dtype, device="cpu" if kind == "warp" else "cuda:0"), None
    if kind == "warp_length":
        return wp.array(make_valid(count + 1), dtype=warp_dtype, device="cpu"), name
    if kind == "warp_dtype":
        return wp.zeros(count, dtype=wp.vec2 if warp_dtype is wp.vec3 else wp.vec3, device="cpu"), name
    if kind == "shape":
        return np.zeros((count + 1, width)), name
    bad = valid.astype(np.float64).copy() if count else np.zeros((1, width))
    if kind == "zero_quaternion":
        bad[rng.integers(count), width - 4:] = 0
    else:
        bad[0, 0] = {"nan": np.nan, "inf": -np.inf, "big": 1e300}[kind]
    return bad, name


def quaternions(rng, count):
    q = rng.normal(size=(count, 4)).astype(np.float32)
    return q / np.maximum(np.linalg.norm(q, axis=1, keepdims=True), 1e-3)


def color_variant(data, rng, name, count):
    kind = data.draw(st.sampled_from(["none", "one", "each", "shape", "text", "nan", "big"]), label=name)
    return {
        "none": (None, None),
        "one": (rng.uniform(0, 1, 3).astype(np.float32), None),
        "each": (rng.uniform(0, 1, (count, 3)).astype(np.float32), None),
        "shape": (np.zeros((count + 1, 3)), name),
        "text": ("red", name),
        "nan": (np.array([np.nan, 0, 0]), name),
        "big": (np.array([1e300, 0, 0]), name),
    }[kind]


# -- operations: each returns (call, bad argument names, what success does to the model) -------------


def op_allocate(data, rng, inst, model):
    count, (positions, bad_positions) = positions_variant(data, rng)
    rotations, bad_rot = rows_variant(data, rng, "rotations", count, 4, lambda n: quaternions(rng, n))
    scalings, bad_scale = rows_variant(data, rng, "scalings", count, 3, lambda n: rng.uniform(0.5, 2, (n, 3)).astype(np.float32))
    colors1, bad1 = color_variant(data, rng, "colors1", count)
    colors2, bad2 = color_variant(data, rng, "colors2", count)

    def apply():
        model.allocate(np.asarray(positions, np.float32), rotations, colors1, colors2, scalings)

    return (lambda: inst.allocate_instances(positions, rotations, colors1, colors2, scalings),
            {bad_positions, bad_rot, bad_scale, bad1, bad2} - {None}, apply)


def op_update(data, rng, inst, model):
    n = model.count
    transforms, bad_t = rows_variant(data, rng, "transforms", n, 7,
                                     lambda k: np.hstack([rng.uniform(-0.8, 0.8, (k, 3)), quaternions(rng, k)]).astype(np.float32),
                                     wp.transform)
    scalings, bad_s = rows_variant(data, rng, "scalings", n, 3, lambda k: rng.uniform(0.5, 2, (k, 3)).astype(np.float32), wp.vec3)
    colors1, bad1 = color_variant(data, rng, "colors1", n) if data.draw(st.booleans(), label="with colours") else (None, None)
    colors2, bad2 = color_variant(data, rng, "colors2", n) if colors1 is not None else (None, None)

    def apply():
        if transforms is not None:
            model.transforms = host(transforms).reshape(n, 7)
        if scalings is not None:
            model.scalings = host(scalings).reshape(n, 3)
        if transforms is not None or scalings is not None:
            model.matrices = model.computed()
        if colors1 is not None or colors2 is not None:
            model.set_colors(colors1, colors2)

    return (lambda: inst.update_instances(transforms, scalings, colors1, colors2),
            {bad_t, bad_s, bad1, bad2} - {None}, apply)


def op_update_colors(data, rng, inst, model):
    colors1, bad1 = color_variant(data, rng, "colors1", model.count)
    colors2, bad2 = color_variant(data, rng, "colors2", model.count)
    return lambda: inst.update_colors(colors1, colors2), {bad1, bad2} - {None}, lambda: model.set_colors(colors1, colors2)


def op_register_shape(data, rng, inst, model):
    kind = data.draw(st.sampled_from(["ok", "ok", "color1", "color2", "indices", "vertices"]), label="register_shape")
    color1 = rng.uniform(0, 1, 3).astype(np.float32)
    color2 = None if data.draw(st.booleans(), label="color2 default") else rng.uniform(0, 1, 3).astype(np.float32)
    vertices, indices = SMALL_QUAD, INDICES
    if kind == "color1":
        color1 = data.draw(st.sampled_from(["red", (1.0, 0.0), (np.nan, 0.0, 0.0)]), label="bad color1")
    elif kind == "color2":
        color2 = data.draw(st.sampled_from(["blue", (1.0, 0.0, 0.0, 1.0), (1e300, 0.0, 0.0)]), label="bad color2")
    elif kind == "indices":
        indices = data.draw(st.sampled_from([[], [[0, 1, 2], [0, 2]], [0, 1, 9], [0.0, 1.0, 2.0]]), label="bad indices")
    elif kind == "vertices":
        vertices = data.draw(st.sampled_from(["v", np.zeros((4, 6)), np.full((4, 8), np.inf)]), label="bad vertices")

    def apply():
        lightened = np.clip(color1 + 0.25, 0, 1) if color2 is None else color2
        model.shape_colors = (np.asarray(color1, np.float32), np.asarray(lightened, np.float32))

    return lambda: inst.register_shape(vertices, indices, color1, color2), ({kind} - {"ok"}), apply


def op_kernel(data, rng, inst, model, scene):
    n = model.count
    offsets = rng.uniform(-0.8, 0.8, (n, 3)).astype(np.float32)
    how = data.draw(st.sampled_from(["with", "launch", "launch_dim", "launch_kernel", "close_inside"]), label="kernel")
    dim = data.draw(st.integers(0, n + 2), label="dim") if how == "launch_dim" else n
    switch = data.draw(st.sampled_from([None, "shared", "private"]), label="current inside the block")
    wp_offsets = wp.array(offsets, dtype=wp.vec3, device="cpu")

    def call():
        if how == "launch_kernel":
            inst.launch(writes_vec3)
        elif how.startswith("launch"):
            inst.launch(place_at, inputs=[wp_offsets], dim=dim)
        else:
            with inst as mapped:
                wp.launch(place_at, dim=n, inputs=[wp_offsets], outputs=[mapped.vbo_transforms], device="cpu")
                if switch:
                    getattr(scene, switch).switch_to()
                if how == "close_inside":
                    inst.close()

    def apply():
        if how == "close_inside":
            model.closed = True
            return
        moved = np.hstack([offsets, np.tile(IDENTITY_Q, (n, 1))])
        model.matrices[:dim] = numpy_instance_matrices(moved, np.ones((n, 3), np.float32)).reshape(-1, 16)[:dim]

    bad = {"kernel"} if how == "launch_kernel" else {"dim"} if dim > n else set()
    return call, bad, apply


def op_render(data, rng, inst, model):
    return inst.render, set(), lambda: None


def op_close(data, rng, inst, model):
    def apply():
        model.closed = True
    return inst.close, set(), apply


OPS = ["allocate", "update", "update", "update_colors", "register_shape", "kernel", "kernel", "render", "close"]


# -- checks ------------------------------------------------------------------------------------------


def snapshot(scene, inst):
    scene.home.switch_to()
    count = max(inst.num_instances, 1)
    return {
        "num_instances": inst.num_instances,
        "shape": (inst.color1, inst.color2, inst.face_count),
        "names": inst._gl.names(),
        "matrices": gl_floats(inst.instance_transform_gl_buffer, (count, 16)),
        "colors1": gl_floats(inst.instance_color1_buffer, (count, 3)),
        "colors2": gl_floats(inst.instance_color2_buffer, (count, 3)),
        "image": draw(inst),
    }


def assert_same(before, after):
    for key, value in before.items():
        if isinstance(value, np.ndarray):
            np.testing.assert_array_equal(after[key], value, err_msg=key)
        else:
            assert after[key] == value, key


def assert_draws_the_model(scene, inst, model, now):
    assert inst.num_instances == model.count
    if model.count:
        np.testing.assert_allclose(now["matrices"], model.matrices, atol=2e-5, err_msg="GL's matrices")
        np.testing.assert_array_equal(now["colors1"], model.colors[0], err_msg="GL's colours 1")
        np.testing.assert_array_equal(now["colors2"], model.colors[1], err_msg="GL's colours 2")
    # The picture of a fresh instancer given the same matrices and colours.
    reference = ShapeInstancer(device="cpu")
    try:
        reference.register_shape(SMALL_QUAD, INDICES)
        reference.allocate_instances(np.zeros((model.count, 3)), colors1=model.colors[0], colors2=model.colors[1])
        if model.count:
            reference.launch(copy_matrices, inputs=[wp.array(now["matrices"], dtype=wp.mat44, device="cpu")])
        np.testing.assert_array_equal(draw(reference), now["image"], err_msg="picture")
    finally:
        reference.close()


def run(call, on_thread):
    raised = []

    def guarded():
        try:
            call()
        except Exception as exc:  # noqa: BLE001 - judged by the test
            raised.append(exc)

    if on_thread:
        worker = threading.Thread(target=guarded, name="fuzz-worker")
        worker.start()
        worker.join()
    else:
        guarded()
    return raised[0] if raised else None


@pytest.fixture(scope="module")
def fuzz_scene(gl_window):
    scene = Scene(gl_window)
    yield scene
    scene.close()
    gl_window.switch_to()
    flush()


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_random_calls_refuse_cleanly_or_draw_correctly(fuzz_scene, data):
    scene = fuzz_scene
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))
    scene.home.switch_to()
    count = data.draw(st.sampled_from([0, 1, 3, 10]), label="initial count")
    model = Model(count, rng)
    inst = ShapeInstancer(device="cpu")
    inst.register_shape(SMALL_QUAD, INDICES)
    inst.allocate_instances(model.transforms[:, :3])
    try:
        for _ in range(data.draw(st.integers(1, 8), label="calls")):
            name = data.draw(st.sampled_from(OPS), label="call")
            make = globals()[f"op_{name}"]
            call, bad, apply = make(data, rng, inst, model, scene) if name == "kernel" else make(data, rng, inst, model)
            on_thread = data.draw(st.sampled_from([False] * 6 + [True]), label="on a worker thread")
            current = data.draw(st.sampled_from(["home", "shared", "private"]), label="current context")
            before = None if model.closed else snapshot(scene, inst)
            getattr(scene, current).switch_to()
            error = run(call, on_thread)
            if model.closed and name == "close":
                assert error is None, repr(error)  # idempotent
            elif model.closed:
                assert isinstance(error, RuntimeError) and "is closed" in str(error), (name, error)
            elif on_thread and name != "close":
                assert isinstance(error, RuntimeError) and "must be called on the main thread" in str(error), (name, error)
                assert_same(before, snapshot(scene, inst))
            elif bad:
                assert isinstance(error, (ValueError, TypeError, RuntimeError)), (name, bad, error)
                assert any(arg in str(error) for arg in bad), (name, bad, str(error))
                assert_same(before, snapshot(scene, inst))
            else:
                assert error is None, (name, repr(error))
                apply()
                if not model.closed:
                    assert_draws_the_model(scene, inst, model, snapshot(scene, inst))
            if on_thread and name == "close":
                scene.home.switch_to()
                flush()
            scene.assert_neighbours_untouched()
    finally:
        scene.home.switch_to()
        inst.close()
        flush()
