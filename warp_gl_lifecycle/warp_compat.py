"""The only code that touches Warp's internals: the drop-in for Warp's OpenGLRenderer and helpers.

:func:`install` (run on ``import warp_gl_lifecycle`` unless ``WARP_GL_LIFECYCLE=0``) patches the
installed warp-lang, after checking that everything it patches is there:

* ``OpenGLRenderer`` and Warp's ``ShapeInstancer`` become :func:`~.registry.managed`: tracked from
  creation (a renderer before the instancers it makes), released exactly once by ``close()``, at
  exit or after collection, each with its own context current. A renderer's release closes its
  instancers, undoes its CUDA-GL registrations, deletes every GL object it made (including those
  Warp's ``clear()`` forgets: grid, sky, frame buffers and textures, shader programs) and then runs
  Warp's own ``close()`` for the rest (``on_exit``, closing the window). It works after the window
  was closed, and a second ``close()`` does nothing.
* ``RegisteredGLBuffer`` on a CPU device takes a CPU path: no CUDA call, no pinned memory;
  ``map()`` returns a CPU array (read back with ``glGetBufferSubData`` unless write-discard),
  ``unmap()`` uploads it with ``glBufferSubData``.
* ``OpenGLRenderer.update`` starts with a safe point (deferred releases, queued GL names).
* Renderers and instancers that exist already are adopted.

:func:`uninstall` restores Warp's originals. Nothing here runs inside a finalizer.
"""

from __future__ import annotations

import ctypes
import gc
import logging
from typing import Any, Callable

from .registry import Reason, managed

__all__ = ["install", "installed", "register_gl_buffer", "supported", "uninstall", "warp_shape_instancer",
           "warp_update_vbo_transforms"]

logger = logging.getLogger("warp_gl_lifecycle")

# What install() patches or relies on, by class; checked against the installed Warp first.
_REQUIRED = {
    "OpenGLRenderer": ("__init__", "close", "clear", "update", "_switch_context"),
    "ShapeInstancer": ("__init__", "__del__", "register_shape", "allocate_instances"),
    "RegisteredGLBuffer": ("__init__", "map", "unmap", "__del__"),
}
_RENDERER_BUFFERS = ("_grid_vbo", "_sky_vbo", "_sky_ebo", "_frame_vbo", "_frame_ebo", "_frame_pbo",
                     "_instance_transform_gl_buffer", "_instance_color1_buffer", "_instance_color2_buffer")
_RENDERER_VAOS = ("_grid_vao", "_sky_vao", "_frame_vao")
_RENDERER_TEXTURES = ("_frame_texture", "_frame_depth_texture")
_RENDERER_FRAMEBUFFERS = ("_frame_fbo",)
_RENDERER_PROGRAMS = ("_shape_shader", "_grid_shader", "_sky_shader", "_frame_shader", "_frame_depth_shader")
_INSTANCER_BUFFERS = ("vbo", "ebo", "instance_transform_gl_buffer", "instance_color1_buffer", "instance_color2_buffer")

_state: dict[str, Any] = {"installed": False, "restore": []}


# -- helpers used by the package's own instancer ---------------------------------------------------


def register_gl_buffer(buffer: int, device: Any, flags: int) -> tuple[Any, Callable[[], None]]:
    """Register GL ``buffer`` with CUDA on ``device``; returns the registration and its undo.

    The undo unregisters at once (a CUDA call, never a GL call) and leaves Warp's own
    ``RegisteredGLBuffer.__del__`` nothing to do. Raises ``RuntimeError`` when CUDA-GL interop is
    not available (no copy fallback: callers take their own CPU path instead).
    """
    import warp as wp  # noqa: PLC0415

    registration = wp.RegisteredGLBuffer(buffer, device, flags, fallback_to_copy=False)
    return registration, lambda: _unregister(registration)


def _unregister(registration: Any) -> None:
    """Undo one CUDA-GL registration now; Warp's ``__del__`` then does nothing. Idempotent."""
    resource, registration.resource = getattr(registration, "resource", None), None
    if resource:
        from warp._src.context import runtime  # noqa: PLC0415

        with cuda_context(registration.device):
            runtime.core.wp_cuda_graphics_unregister_resource(registration.context, resource)


def warp_shape_instancer() -> type:
    """Warp's own ``ShapeInstancer`` class (``warp.render`` does not export it)."""
    return _warp_classes()["ShapeInstancer"]


def warp_update_vbo_transforms() -> Any:
    """Warp's own instance-matrix kernel (``update_vbo_transforms``), the reference ours must equal."""
    from warp._src.render.render_opengl import update_vbo_transforms  # noqa: PLC0415

    return update_vbo_transforms


def cuda_context(device: Any) -> Any:
    """A context manager making ``device``'s CUDA context current on this thread, and nothing else
    (Warp's own guard, as its ``RegisteredGLBuffer.__del__`` uses; safe inside a finalizer)."""
    return device.context_guard


def warp_instancer_registration(instancer: Any) -> Any:
    """The ``RegisteredGLBuffer`` of a Warp ``ShapeInstancer``'s matrix buffer (for the benchmark)."""
    return instancer._instance_transform_cuda_buffer  # noqa: SLF001 - Warp keeps it private


# -- checking and installing ------------------------------------------------------------------------


def _warp_classes() -> dict[str, type]:
    import warp as wp  # noqa: PLC0415
    from warp._src.render import render_opengl  # noqa: PLC0415

    return {
        "OpenGLRenderer": render_opengl.OpenGLRenderer,
        "ShapeInstancer": render_opengl.ShapeInstancer,
        "RegisteredGLBuffer": wp.RegisteredGLBuffer,
    }


def supported() -> tuple[bool, str]:
    """Whether the installed warp-lang has everything :func:`install` patches, and why not."""
    try:
        import warp as wp  # noqa: PLC0415

        classes = _warp_classes()
        from warp._src.context import runtime  # noqa: F401, PLC0415
    except Exception as exc:  # noqa: BLE001 - any failure means "not supported", never a crash
        return False, f"warp.render's OpenGL renderer could not be imported: {type(exc).__name__}: {exc}"
    missing = [f"{name}.{attr}" for name, attrs in _REQUIRED.items() for attr in attrs if not hasattr(classes[name], attr)]
    if missing:
        return False, f"warp-lang {wp.config.version} lacks {', '.join(missing)}"
    return True, f"warp-lang {wp.config.version}"


def installed() -> bool:
    """True while Warp's renderer is patched by this package."""
    return _state["installed"]


def install() -> bool:
    """Patch the installed Warp (see the module docstring). Idempotent; never raises.

    On an unsupported Warp, logs one warning and leaves Warp untouched. Returns whether installed.
    """
    if _state["installed"]:
        return True
    ok, why = supported()
    if not ok:
        logger.warning("warp_gl_lifecycle: Warp's renderer left unpatched: %s", why)
        return False
    classes = _warp_classes()
    renderer_cls, instancer_cls, buffer_cls = classes["OpenGLRenderer"], classes["ShapeInstancer"], classes["RegisteredGLBuffer"]

    managed(renderer_cls, context=_renderer_context, kind="OpenGLRenderer", release=_release_renderer)
    managed(instancer_cls, context=_current_context, kind="warp ShapeInstancer", release=_release_instancer)
    _state["renderer_close"] = renderer_cls._wgl_managed.originals["close"]  # Warp's own close()
    restore = [renderer_cls._wgl_managed.restore, instancer_cls._wgl_managed.restore]
    restore.append(_patch(renderer_cls, "update", _safe_point_first))
    for name, wrap in (("__init__", _cpu_init), ("map", _cpu_map), ("unmap", _cpu_unmap)):
        restore.append(_patch(buffer_cls, name, wrap))
    _state.update(installed=True, restore=restore)
    _adopt_existing(renderer_cls, instancer_cls)
    return True


def uninstall() -> None:
    """Give Warp its own behaviour back for everything made from now on: the safe point in
    ``update`` and the CPU path of ``RegisteredGLBuffer`` are removed, and new renderers and
    instancers are not tracked. Owners tracked so far stay tracked and are still released exactly
    once (by ``close()``, collection or exit): for them ``managed``'s thin wrappers stay in place
    (see :meth:`~.registry.Managed.restore`)."""
    for restore in reversed(_state["restore"]):
        restore()
    _state.update(installed=False, restore=[])


def _patch(cls: type, name: str, wrap: Callable[[Callable], Callable]) -> Callable[[], None]:
    had_own = name in cls.__dict__
    original = cls.__dict__.get(name, getattr(cls, name))
    replacement = wrap(original)
    replacement.__wrapped__ = original
    replacement.__doc__ = original.__doc__
    setattr(cls, name, replacement)

    def restore() -> None:
        if had_own:
            setattr(cls, name, original)
        else:
            delattr(cls, name)

    return restore


def _adopt_existing(renderer_cls: type, instancer_cls: type) -> None:
    """Track renderers and instancers created before install, renderers first."""
    found = [obj for obj in gc.get_objects() if isinstance(obj, (renderer_cls, instancer_cls))]
    for obj in sorted(found, key=lambda o: not isinstance(o, renderer_cls)):
        type(obj)._wgl_managed.adopt(obj)


# -- contexts --------------------------------------------------------------------------------------


def _renderer_context(renderer: Any) -> Any:
    from . import glresources  # noqa: F401, PLC0415 - installs the registry's context hooks

    window = getattr(renderer, "window", None)
    return getattr(window, "context", None)


def _current_context(_instancer: Any) -> Any:
    from . import glresources  # noqa: PLC0415

    return glresources.gl.current_context


# -- releases (main thread, the owner's context, or a live sibling of its object space, current) ----


def _name(value: Any) -> int | None:
    if value is None:
        return None
    return int(getattr(value, "value", value)) or None


def _collect(owner: Any, resources: Any, kind: str, attributes: tuple[str, ...]) -> None:
    names = getattr(resources, kind)
    for attribute in attributes:
        name = _name(getattr(owner, attribute, None))
        if name is not None:
            names.append(name)
            setattr(owner, attribute, None)


def _release_instancer(instancer: Any) -> None:
    """Release one Warp ShapeInstancer's names; its ``__del__`` has nothing left to do."""
    from .glresources import GLResources  # noqa: PLC0415

    resources = GLResources(context=instancer._wgl_tracked.context)
    registration = getattr(instancer, "_instance_transform_cuda_buffer", None)
    if registration is not None:
        resources.interop.append(lambda: _unregister(registration))
        instancer._instance_transform_cuda_buffer = None
    _collect(instancer, resources, "buffers", _INSTANCER_BUFFERS)
    _collect(instancer, resources, "vaos", ("vao",))
    resources.release(Reason.CLOSE)


def _release_renderer(renderer: Any) -> None:
    """Release a Warp OpenGLRenderer: its instancers, interop, every GL name, then Warp's close()."""
    from .glresources import GLResources  # noqa: PLC0415

    for instancer in [getattr(renderer, "_axis_instancer", None), *getattr(renderer, "_shape_instancers", {}).values()]:
        if instancer is not None and "_wgl_tracked" in instancer.__dict__:
            instancer._wgl_tracked.close()
    resources = GLResources(context=renderer._wgl_tracked.context)
    registrations = [getattr(renderer, "_instance_transform_cuda_buffer", None)]
    for vao, vbo, ebo, _count, registration in getattr(renderer, "_shape_gl_buffers", {}).values():
        resources.vaos.append(_name(vao))
        resources.buffers += [_name(vbo), _name(ebo)]
        registrations.append(registration)
    renderer._shape_gl_buffers.clear()
    renderer._instance_transform_cuda_buffer = None
    for registration in registrations:
        if registration is not None:
            resources.interop.append(lambda registration=registration: _unregister(registration))
    _collect(renderer, resources, "buffers", _RENDERER_BUFFERS)
    _collect(renderer, resources, "vaos", _RENDERER_VAOS)
    _collect(renderer, resources, "textures", _RENDERER_TEXTURES)
    _collect(renderer, resources, "framebuffers", _RENDERER_FRAMEBUFFERS)
    for attribute in _RENDERER_PROGRAMS:
        program = getattr(renderer, attribute, None)
        if program is not None and getattr(program, "id", None):
            resources.programs.append(program)
    resources.release(Reason.CLOSE)
    from .glresources import readmit_window  # noqa: PLC0415

    readmit_window(getattr(renderer, "window", None))  # collected in a cycle: pyglet forgot it already
    _state["renderer_close"](renderer)  # Warp's own: on_exit, state reset, window.close(); nothing left to delete


def _safe_point_first(update: Callable) -> Callable:
    flush = []  # glresources.flush, imported on the first frame (it imports pyglet.gl)

    def patched_update(self, *args, **kwargs):
        if not flush:
            from .glresources import flush as glresources_flush  # noqa: PLC0415

            flush.append(glresources_flush)
        flush[0]()
        return update(self, *args, **kwargs)

    return patched_update


# -- RegisteredGLBuffer on CPU devices ---------------------------------------------------------------


def _cpu_init(init: Callable) -> Callable:
    def patched_init(self, gl_buffer_id, device=None, flags=0, fallback_to_copy=True):
        import warp as wp  # noqa: PLC0415

        resolved = wp.get_device(device)
        if not resolved.is_cpu:
            return init(self, gl_buffer_id, device, flags, fallback_to_copy)
        self.gl_buffer_id = _name(gl_buffer_id)
        self.device = resolved
        self.context = None
        self.flags = flags
        self.fallback_to_copy = fallback_to_copy
        self.resource = None
        self.warp_buffer = None
        return None

    return patched_init


def _cpu_map(map_: Callable) -> Callable:
    def patched_map(self, dtype, shape):
        if not self.device.is_cpu:
            return map_(self, dtype, shape)
        import warp as wp  # noqa: PLC0415
        from pyglet import gl  # noqa: PLC0415

        shape = tuple(shape) if isinstance(shape, (tuple, list)) else (int(shape),)
        if self.warp_buffer is None or self.warp_buffer.dtype != dtype or self.warp_buffer.shape != shape:
            self.warp_buffer = wp.empty(shape, dtype=dtype, device="cpu")
        if self.flags != self.WRITE_DISCARD:
            gl.glBindBuffer(gl.GL_COPY_READ_BUFFER, self.gl_buffer_id)
            size = gl.GLint(0)
            gl.glGetBufferParameteriv(gl.GL_COPY_READ_BUFFER, gl.GL_BUFFER_SIZE, ctypes.byref(size))
            nbytes = min(self.warp_buffer.capacity, size.value)
            gl.glGetBufferSubData(gl.GL_COPY_READ_BUFFER, 0, nbytes, ctypes.c_void_p(self.warp_buffer.ptr))
            gl.glBindBuffer(gl.GL_COPY_READ_BUFFER, 0)
        return self.warp_buffer

    return patched_map


def _cpu_unmap(unmap: Callable) -> Callable:
    def patched_unmap(self):
        if not self.device.is_cpu:
            return unmap(self)
        from pyglet import gl  # noqa: PLC0415

        if self.warp_buffer is None:
            raise RuntimeError("RegisteredGLBuffer first has to be mapped")
        if self.flags == self.READ_ONLY:
            return None
        gl.glBindBuffer(gl.GL_COPY_WRITE_BUFFER, self.gl_buffer_id)
        size = gl.GLint(0)
        gl.glGetBufferParameteriv(gl.GL_COPY_WRITE_BUFFER, gl.GL_BUFFER_SIZE, ctypes.byref(size))
        nbytes = self.warp_buffer.capacity
        data = ctypes.c_void_p(self.warp_buffer.ptr)
        if nbytes <= size.value:
            gl.glBufferSubData(gl.GL_COPY_WRITE_BUFFER, 0, nbytes, data)
        else:  # the mapped array outgrew the buffer: grow it, as Warp's copy fallback would
            gl.glBufferData(gl.GL_COPY_WRITE_BUFFER, nbytes, data, gl.GL_DYNAMIC_DRAW)
        gl.glBindBuffer(gl.GL_COPY_WRITE_BUFFER, 0)
        return None

    return patched_unmap
