"""CUDA-GL interop paths; skipped without a CUDA device, run on a GPU machine whenever one is lent."""

import logging

import numpy as np
import pytest
import warp as wp

from .conftest import run_scenario
from .test_kernels import numpy_reference
from .test_instancer import BLUE, GREEN, RED, dominant, draw, gl_matrices, make, owned_names, pixel_at
from warp_gl_lifecycle.glresources import live_names

pytestmark = pytest.mark.cuda


@pytest.fixture(autouse=True)
def _context(gl_context):
    yield


MODES = ["shared", "map"]


def release_by(path, holder):
    """Release the one instancer in the list ``holder`` by ``close()``, or by collection and the
    next safe point (the list must hold the only reference)."""
    import gc
    import warnings

    from warp_gl_lifecycle import flush

    inst = holder.pop()
    if path == "close":
        inst.close()
        return
    del inst
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()
    flush()


@pytest.mark.parametrize("mode", MODES)
def test_cuda_instancer_draws_moves_and_draws_again(mode):
    inst = make(device="cuda:0", interop=mode)
    assert inst.interop == mode and inst._staging is None
    assert (inst._shared is not None) == (mode == "shared") and (inst._registration is not None) == (mode == "map")
    positions = [(-0.5, -0.5, 0), (0.5, -0.5, 0), (0.0, 0.5, 0)]
    inst.allocate_instances(positions, colors1=[RED, GREEN, BLUE])
    image = draw(inst)
    assert [dominant(pixel_at(image, x, y)) for x, y, _ in positions] == ["red", "green", "blue"]
    for moved in ([(0.6, 0.6, 0), (-0.6, 0.6, 0), (0.6, -0.6, 0)], positions):  # drawn, then rewritten
        inst.update_instances(wp.array([(*p, 0, 0, 0, 1) for p in moved], dtype=wp.transform, device="cuda:0"))
        image = draw(inst)
        assert [dominant(pixel_at(image, x, y)) for x, y, _ in moved] == ["red", "green", "blue"]
    assert [dominant(pixel_at(image, x, y)) for x, y in [(0.6, 0.6), (-0.6, 0.6), (0.6, -0.6)]] == ["background"] * 3
    inst.close()


def test_cuda_default_interop_is_the_first_of_auto_order_that_works():
    from warp_gl_lifecycle.instancer import AUTO_ORDER

    inst = make(device="cuda:0")
    assert inst.interop == AUTO_ORDER[0]
    inst.close()


def test_cuda_close_undoes_registration_then_deletes_names():
    inst = make(device="cuda:0", interop="map")
    registration = inst._registration
    buffers, vaos, _ = owned_names(inst)
    inst.close()
    assert registration.resource is None
    assert live_names("buffer", buffers) == [] and live_names("vao", vaos) == []


@pytest.mark.parametrize("path", ["close", "gc"])
def test_cuda_shared_memory_is_freed_on_close_and_on_collection(path):
    holder = [make(device="cuda:0", interop="shared")]
    shared = holder[0]._shared
    buffers, vaos, _ = owned_names(holder[0])
    assert shared.ptr != 0 and holder[0].instance_transform_gl_buffer in buffers
    release_by(path, holder)
    assert shared.ptr == 0
    assert live_names("buffer", buffers) == [] and live_names("vao", vaos) == []


@pytest.mark.parametrize("mode", MODES)
def test_cuda_200_cycles_leave_no_names_nor_device_memory(mode):
    make(device="cuda:0", interop=mode).close()
    device = wp.get_device("cuda:0")
    wp.synchronize()
    before, used = live_names("buffer", range(1, 3000)), device.total_memory - device.free_memory
    for _ in range(200):
        inst = make(count=10_000, device="cuda:0", interop=mode)  # 640 KB of matrices each
        inst.update_instances(wp.zeros(10_000, dtype=wp.transform, device="cuda:0"))
        inst.allocate_instances(np.zeros((20_000, 3)))  # replaced while alive: the old one freed
        inst.close()
    wp.synchronize()
    assert live_names("buffer", range(1, 3000)) == before
    grown = (device.total_memory - device.free_memory - used) / 2**20
    assert grown < 16, f"{grown:.1f} MB more device memory in use after 200 cycles ({mode})"


@pytest.mark.parametrize("mode", MODES)
def test_cuda_instance_matrices_reach_gl_unchanged(mode):
    inst = make(count=1000, device="cuda:0", interop=mode)
    rng = np.random.default_rng(0)
    q = rng.normal(size=(1000, 4))
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    transforms = np.hstack([rng.normal(size=(1000, 3)), q]).astype(np.float32)
    inst.update_instances(wp.array(transforms, dtype=wp.transform, device="cuda:0"))
    readback = gl_matrices(inst)
    # float64 NumPy, not a CPU kernel: the GPU machine's Warp has no CPU compiler (warp-clang)
    expected = numpy_reference(transforms, np.ones((1000, 3), np.float32)).reshape(1000, 16)
    assert np.abs(readback - expected).max() <= 1e-5 * np.abs(expected).max()
    inst.close()


@pytest.mark.parametrize(
    "name",
    ["instancer_left_open.py", "instancer_in_reference_cycle.py", "instancer_in_module_global.py", "instancers_in_two_windows.py"],
)
@pytest.mark.parametrize("mode", MODES)
def test_cuda_exit_scenarios(name, mode):
    result = run_scenario(name, env={"WGL_DEVICE": "cuda:0", "WGL_INTEROP": mode}).assert_clean()
    assert result.stats()["errors"] == 0


@pytest.mark.parametrize("path", ["close", "gc"])
def test_cuda_registration_is_undone_before_its_buffer_is_deleted(monkeypatch, path):
    from pyglet import gl

    import warp_gl_lifecycle.warp_compat as compat

    events = []
    unregister = compat._unregister
    monkeypatch.setattr(compat, "_unregister", lambda registration: (events.append("undo"), unregister(registration)))
    delete = gl.glDeleteBuffers

    def recording_delete(count, names):
        values = [names.value] if hasattr(names, "value") else list(names)[:count]
        events.extend(("delete", int(v)) for v in values)
        return delete(count, names)

    monkeypatch.setattr(gl, "glDeleteBuffers", recording_delete)
    holder = [make(device="cuda:0", interop="map")]
    buffer = holder[0].instance_transform_gl_buffer
    release_by(path, holder)
    assert "undo" in events and ("delete", buffer) in events
    assert events.index("undo") < events.index(("delete", buffer))


from .test_warp_dropin import EXITS  # noqa: E402


@pytest.mark.parametrize("name, code", EXITS + [("warp_renderer_in_cycle_with_error_checking.py", 0)])
def test_cuda_warp_renderer_scenarios(name, code):
    result = run_scenario(name, env={"WGL_DEVICE": "cuda:0"}).assert_clean(code)
    assert result.stats()["errors"] == 0


def test_cuda_without_interop_stages_through_host_memory(monkeypatch, caplog):
    import warp_gl_lifecycle.warp_compat as compat
    from warp_gl_lifecycle import shared_buffer

    def refuse(*args):
        raise RuntimeError("Failed to register OpenGL buffer (simulated: GL context not on the NVIDIA driver)")

    monkeypatch.setattr(compat, "register_gl_buffer", refuse)
    monkeypatch.setattr(shared_buffer, "supported", lambda device: (False, "simulated: no GL_EXT_memory_object_fd"))
    monkeypatch.setattr("warp_gl_lifecycle.instancer._interop_warned", False)
    with caplog.at_level(logging.WARNING, logger="warp_gl_lifecycle"):
        inst = make(device="cuda:0")
    assert inst.interop == "copy" and inst._registration is None and inst._shared is None and inst._host is not None
    assert [r.getMessage() for r in caplog.records if "host memory" in r.getMessage() and "simulated" in r.getMessage()]
    positions = [(-0.5, -0.5, 0), (0.5, -0.5, 0), (0.0, 0.5, 0)]
    inst.allocate_instances(positions, colors1=[RED, GREEN, BLUE])
    image = draw(inst)
    assert [dominant(pixel_at(image, x, y)) for x, y, _ in positions] == ["red", "green", "blue"]
    inst.close()
