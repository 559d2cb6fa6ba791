"""SharedBuffer's refusals on a machine or device that cannot share memory; the sharing itself is
checked on CUDA in test_cuda.py (skipped without a CUDA device)."""

import pytest
import warp as wp

from warp_gl_lifecycle.shared_buffer import SharedBuffer, SharedBufferUnavailable, supported


@pytest.fixture(autouse=True)
def _context(gl_context):
    yield


def test_cpu_device_is_refused_with_the_reason():
    ok, why = supported(wp.get_device("cpu"))
    assert not ok and "not a CUDA device" in why
    with pytest.raises(SharedBufferUnavailable, match="not a CUDA device"):
        SharedBuffer(64, wp.get_device("cpu"))


def test_size_must_be_positive():
    with pytest.raises(ValueError, match="positive"):
        SharedBuffer(0, wp.get_device("cpu"))


def test_unavailable_is_a_runtime_error():
    """Callers that only know interop can fail (RuntimeError) still catch it."""
    assert issubclass(SharedBufferUnavailable, RuntimeError)


@pytest.mark.cuda
def test_cuda_buffer_views_write_release():
    import numpy as np
    from pyglet import gl

    device = wp.get_device("cuda:0")
    shared = SharedBuffer(4096, device)
    view = shared.array(wp.float32, 1024)
    assert view.ptr == shared.ptr and shared.array(wp.float32, 1024) is view
    with pytest.raises(ValueError, match="does not fit"):
        shared.array(wp.float32, 1025)
    view.assign(wp.array(np.arange(1024, dtype=np.float32), device=device))
    shared.written()
    readback = np.empty(1024, np.float32)
    gl.glBindBuffer(gl.GL_ARRAY_BUFFER, shared.gl_buffer)
    gl.glGetBufferSubData(gl.GL_ARRAY_BUFFER, 0, readback.nbytes, readback.ctypes.data)
    gl.glBindBuffer(gl.GL_ARRAY_BUFFER, 0)
    np.testing.assert_array_equal(readback, np.arange(1024))
    shared.release()
    shared.release()  # idempotent
    assert shared.ptr == 0 and "released" in repr(shared)
    with pytest.raises(RuntimeError, match="released"):
        shared.array(wp.float32, 1024)
    gl.glDeleteBuffers(1, gl.GLuint(shared.gl_buffer))
