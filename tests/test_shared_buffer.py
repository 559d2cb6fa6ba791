"""SharedBuffer's refusals on a machine or device that cannot share memory; the sharing itself is
checked on CUDA in test_cuda.py (skipped without a CUDA device)."""

import pytest
import warp as wp

from warp_gl_lifecycle.shared_buffer import SharedBuffer, SharedBufferUnavailable, supported

from .test_instancer import gl_floats


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
    np.testing.assert_array_equal(gl_floats(shared.gl_buffer, 1024), np.arange(1024))
    shared.release()
    shared.release()  # idempotent
    assert shared.ptr == 0 and "released" in repr(shared)
    with pytest.raises(RuntimeError, match="released"):
        shared.array(wp.float32, 1024)
    gl.glDeleteBuffers(1, gl.GLuint(shared.gl_buffer))


def test_gl_side_import_of_foreign_memory_leaves_nothing_behind_or_reads_it():
    """The GL half on whatever GL is at hand, fed a memfd instead of CUDA's export. Mesa's
    llvmpipe takes the import but refuses the storage (it wants its own memory): the buffer and
    the memory object must both be gone, and the error must say what GL refused. A GL that takes
    it must read what was written to the memory."""
    import mmap
    import os

    import numpy as np
    from pyglet import gl

    from warp_gl_lifecycle import shared_buffer
    from warp_gl_lifecycle.glresources import live_names

    info = gl.current_context.get_info()
    if not (info.have_extension("GL_EXT_memory_object") and info.have_extension("GL_EXT_memory_object_fd")):
        pytest.skip("this GL has no GL_EXT_memory_object_fd")
    size = 1 << 16
    fd = os.memfd_create("wgl-test")
    os.ftruncate(fd, size)
    memory = mmap.mmap(fd, size)
    data = np.frombuffer(memory, dtype=np.float32, count=1024)
    data[:] = np.arange(1024)
    half = shared_buffer.SharedBuffer.__new__(shared_buffer.SharedBuffer)  # the GL half only
    half.nbytes, half._size = 4096, size
    before = live_names("buffer", range(1, 3000))
    is_memory_object = gl.lib.link_GL("glIsMemoryObjectEXT", gl.GLboolean, [gl.GLuint])
    try:
        name = half._import(os.dup(fd))
    except (gl.GLException, shared_buffer.SharedBufferUnavailable) as exc:
        assert "Out of memory" in str(exc) or "failed" in str(exc)
        assert live_names("buffer", range(1, 3000)) == before
        assert not any(is_memory_object(n) for n in range(1, 64))
    else:
        np.testing.assert_array_equal(gl_floats(name, 1024), data)
        assert not any(is_memory_object(n) for n in range(1, 64))  # deleted once the storage was made
        gl.glDeleteBuffers(1, gl.GLuint(name))
    finally:
        del data
        memory.close()
        os.close(fd)
