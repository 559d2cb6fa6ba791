"""A GL buffer whose storage is a CUDA allocation, so kernels write it with no interop map per update.

CUDA-GL interop through ``cudaGraphicsGLRegisterBuffer`` needs a map and an unmap around every
write. On an H200 with driver 580 that pair costs 0.325 ms whatever the buffer's size, usage hint
or registration flags: 64% of Warp's whole 1M-instance ``update_instances``. Here CUDA allocates
the memory instead (``cuMemCreate``, exportable as a POSIX file descriptor) and GL imports it as a
buffer's storage (``GL_EXT_memory_object_fd``). Both then address the same memory for as long as
the buffer lives; a write is a kernel launch, and ordering is kept on the host:

* before CUDA writes, GL must be done reading: the owner calls ``glFinish`` in its context when
  it has drawn since its last write (``ShapeInstancer`` does);
* before GL reads, CUDA must be done writing: :meth:`SharedBuffer.written` synchronizes the
  device's stream.

GL cannot export semaphores and CUDA cannot export them either, so host synchronization is the
only ordering the two can share without a third API.

Lifetime: :class:`SharedBuffer` holds the CUDA side (mapping, address range, allocation
handle). :meth:`SharedBuffer.release` frees it: exactly once, any thread, no GL call. The GL
buffer name is the owner's to delete like any buffer; the GL memory object is deleted as soon as
the buffer's storage is made, because a buffer keeps its data store referenced "until the buffer
is deleted" (EXT_external_objects). The memory itself is freed when both the CUDA mapping and
the GL buffer are gone, in either order.
"""

from __future__ import annotations

import ctypes
import functools
import threading
from typing import Any

from pyglet import gl

from .warp_compat import cuda_context

__all__ = ["SharedBuffer", "SharedBufferUnavailable", "supported"]

_GL_HANDLE_TYPE_OPAQUE_FD_EXT = 0x9586
_CU_MEM_ALLOCATION_TYPE_PINNED = 1
_CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR = 1
_CU_MEM_LOCATION_TYPE_DEVICE = 1
_CU_MEM_ACCESS_FLAGS_PROT_READWRITE = 3
_u64, _size_t = ctypes.c_ulonglong, ctypes.c_size_t


class SharedBufferUnavailable(RuntimeError):
    """This device, driver or GL context cannot share memory this way (the reason says which)."""


class _Location(ctypes.Structure):  # CUmemLocation
    _fields_ = [("type", ctypes.c_int), ("id", ctypes.c_int)]


class _AllocFlags(ctypes.Structure):
    _fields_ = [("compressionType", ctypes.c_ubyte), ("gpuDirectRDMACapable", ctypes.c_ubyte),
                ("usage", ctypes.c_ushort), ("reserved", ctypes.c_ubyte * 4)]


class _AllocationProp(ctypes.Structure):  # CUmemAllocationProp
    _fields_ = [("type", ctypes.c_int), ("requestedHandleTypes", ctypes.c_int), ("location", _Location),
                ("win32HandleMetaData", ctypes.c_void_p), ("allocFlags", _AllocFlags)]


class _AccessDesc(ctypes.Structure):  # CUmemAccessDesc
    _fields_ = [("location", _Location), ("flags", ctypes.c_int)]


@functools.lru_cache(maxsize=None)
def _cuda() -> Any:
    try:
        return ctypes.CDLL("libcuda.so.1")
    except OSError as exc:
        raise SharedBufferUnavailable(f"no CUDA driver library: {exc}") from None


@functools.lru_cache(maxsize=None)
def _gl_functions() -> tuple[Any, Any, Any, Any]:
    """pyglet binds no EXT_memory_object entry points: link them as pyglet links its own (a
    missing one becomes a stub that raises; :func:`supported` checks the extension first)."""
    from pyglet.gl.lib import link_GL  # noqa: PLC0415

    return (
        link_GL("glCreateMemoryObjectsEXT", None, [gl.GLsizei, ctypes.POINTER(gl.GLuint)]),
        link_GL("glImportMemoryFdEXT", None, [gl.GLuint, gl.GLuint64, gl.GLenum, gl.GLint]),
        link_GL("glBufferStorageMemEXT", None, [gl.GLenum, gl.GLsizeiptr, gl.GLuint, gl.GLuint64]),
        link_GL("glDeleteMemoryObjectsEXT", None, [gl.GLsizei, ctypes.POINTER(gl.GLuint)]),
    )


def supported(device: Any) -> tuple[bool, str]:
    """Whether a :class:`SharedBuffer` can be made for ``device`` (a Warp device) in the current
    GL context, and why not. Main thread, a context current. Makes no allocation."""
    if not getattr(device, "is_cuda", False):
        return False, f"{device} is not a CUDA device"
    if gl.current_context is None:
        return False, "no current GL context"
    info = gl.current_context.get_info()
    missing = [name for name in ("GL_EXT_memory_object", "GL_EXT_memory_object_fd") if not info.have_extension(name)]
    if missing:
        return False, f"the GL context lacks {', '.join(missing)}"
    try:
        _cuda()
    except SharedBufferUnavailable as exc:
        return False, str(exc)
    return True, "GL_EXT_memory_object_fd"


class SharedBuffer:
    """``nbytes`` of CUDA memory on ``device`` that is also GL buffer :attr:`gl_buffer`.

    Contract:

    * Create on the main thread with the GL context that will draw from it current; that context
      must run on the same GPU as ``device``. Raises :class:`SharedBufferUnavailable` when the
      device, driver or context cannot do it, having freed whatever it had made.
    * :attr:`gl_buffer` is bound to nothing on return; its storage is immutable (re-specifying
      it is a GL error): allocate a new ``SharedBuffer`` to resize. The caller owns the name.
    * :meth:`array` views the memory as a Warp array; it is valid until :meth:`release`.
    * :meth:`release`: exactly once in effect (later calls do nothing), any thread, no GL call.
    """

    __slots__ = ("device", "nbytes", "gl_buffer", "_ptr", "_size", "_handle", "_lock", "_views", "__weakref__")

    def __init__(self, nbytes: int, device: Any) -> None:
        if nbytes <= 0:
            raise ValueError(f"nbytes must be positive, got {nbytes}")
        ok, why = supported(device)
        if not ok:
            raise SharedBufferUnavailable(why)
        self.device, self.nbytes, self.gl_buffer = device, int(nbytes), 0
        self._ptr, self._size, self._handle = 0, 0, 0
        self._lock = threading.Lock()
        self._views: dict[tuple, Any] = {}
        try:
            self.gl_buffer = self._import(self._allocate())
        except BaseException as exc:
            self.release()
            if isinstance(exc, gl.GLException):  # pyglet's error check on the extension calls
                raise SharedBufferUnavailable(f"GL refused the CUDA memory: {exc}") from None
            raise

    @property
    def ptr(self) -> int:
        """The CUDA device address of the memory (0 once released)."""
        return self._ptr

    def array(self, dtype: Any, length: int) -> Any:
        """The memory as ``length`` elements of Warp ``dtype`` on :attr:`device` (cached view)."""
        import warp as wp  # noqa: PLC0415

        key = (dtype, length)
        view = self._views.get(key)
        if view is None:
            if not self._ptr:
                raise RuntimeError("the shared buffer was released")
            if length * wp.types.type_size_in_bytes(dtype) > self.nbytes:
                raise ValueError(f"{length} x {dtype.__name__} does not fit {self.nbytes} bytes")
            view = self._views[key] = wp.array(ptr=self._ptr, dtype=dtype, shape=(length,), device=self.device)
        return view

    def written(self) -> None:
        """Wait (on the host) until the device's current stream has finished its writes, so that GL
        reads them. Call after launching the kernels that write the buffer."""
        import warp as wp  # noqa: PLC0415

        wp.synchronize_stream(wp.get_stream(self.device))

    def release(self) -> None:
        """Free the CUDA side: unmap, free the address range, release the allocation. Idempotent;
        any thread. The memory stays alive while GL's buffer still references it."""
        with self._lock:
            ptr, size, handle = self._ptr, self._size, self._handle
            self._ptr = self._size = self._handle = 0
            self._views.clear()
        if not (ptr or handle):
            return
        cuda = _cuda()
        with cuda_context(self.device):
            if ptr:
                cuda.cuMemUnmap(_u64(ptr), _size_t(size))
                cuda.cuMemAddressFree(_u64(ptr), _size_t(size))
            if handle:
                cuda.cuMemRelease(_u64(handle))

    def __repr__(self) -> str:
        state = f"GL buffer {self.gl_buffer}, CUDA {self._ptr:#x}" if self._ptr else "released"
        return f"<SharedBuffer {self.nbytes} bytes on {self.device}: {state}>"

    # -- creation ---------------------------------------------------------------------------------

    def _allocate(self) -> int:
        """The CUDA allocation, mapped read-write on the device; returns its exported fd."""
        cuda = _cuda()
        ordinal = self.device.ordinal
        prop = _AllocationProp(type=_CU_MEM_ALLOCATION_TYPE_PINNED,
                               requestedHandleTypes=_CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR,
                               location=_Location(_CU_MEM_LOCATION_TYPE_DEVICE, ordinal))
        granularity, handle, ptr, fd = _size_t(), _u64(), _u64(), ctypes.c_int(-1)
        with cuda_context(self.device):
            _check(cuda.cuMemGetAllocationGranularity(ctypes.byref(granularity), ctypes.byref(prop), 0),
                   "cuMemGetAllocationGranularity")
            size = -(-self.nbytes // granularity.value) * granularity.value
            _check(cuda.cuMemCreate(ctypes.byref(handle), _size_t(size), ctypes.byref(prop), _u64(0)), "cuMemCreate")
            self._handle, self._size = handle.value, size
            _check(cuda.cuMemAddressReserve(ctypes.byref(ptr), _size_t(size), _size_t(0), _u64(0), _u64(0)),
                   "cuMemAddressReserve")
            try:
                _check(cuda.cuMemMap(ptr, _size_t(size), _size_t(0), handle, _u64(0)), "cuMemMap")
            except SharedBufferUnavailable:
                cuda.cuMemAddressFree(ptr, _size_t(size))
                raise
            self._ptr = ptr.value
            access = _AccessDesc(_Location(_CU_MEM_LOCATION_TYPE_DEVICE, ordinal), _CU_MEM_ACCESS_FLAGS_PROT_READWRITE)
            _check(cuda.cuMemSetAccess(ptr, _size_t(size), ctypes.byref(access), _size_t(1)), "cuMemSetAccess")
            _check(cuda.cuMemExportToShareableHandle(ctypes.byref(fd), handle, _CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR,
                                                     _u64(0)), "cuMemExportToShareableHandle")
        return fd.value

    def _import(self, fd: int) -> int:
        """GL imports ``fd`` (and owns it from then on) as the storage of a new buffer; on failure
        nothing GL made is left and the fd is closed unless GL took it."""
        import os  # noqa: PLC0415

        create, import_fd, storage, delete_memory = _gl_functions()
        while gl.glGetError():  # errors left by others must not be taken for ours
            pass
        memory, buffer, imported = gl.GLuint(), gl.GLuint(), False
        try:
            create(1, ctypes.byref(memory))
            import_fd(memory, self._size, _GL_HANDLE_TYPE_OPAQUE_FD_EXT, fd)
            _gl_check("glImportMemoryFdEXT")
            imported = True
            gl.glGenBuffers(1, buffer)
            gl.glBindBuffer(gl.GL_ARRAY_BUFFER, buffer)
            storage(gl.GL_ARRAY_BUFFER, self.nbytes, memory, 0)
            _gl_check("glBufferStorageMemEXT")
        except BaseException:
            if buffer.value:
                gl.glDeleteBuffers(1, buffer)
            if not imported:
                os.close(fd)
            raise
        finally:
            gl.glBindBuffer(gl.GL_ARRAY_BUFFER, 0)
            if memory.value:
                delete_memory(1, ctypes.byref(memory))  # the buffer keeps its data store referenced
        return buffer.value


def _gl_check(what: str) -> None:
    error = gl.glGetError()
    if error:
        raise SharedBufferUnavailable(f"{what} failed: GL error {error:#x}")


def _check(result: int, what: str) -> None:
    if result:
        raise SharedBufferUnavailable(f"{what} failed: CUresult {result}")
