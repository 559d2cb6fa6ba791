"""The only code that touches Warp's internals: the drop-in for Warp's OpenGLRenderer and helpers.

:func:`install` (run on ``import warp_gl_lifecycle`` unless ``WARP_GL_LIFECYCLE=0``) patches the
installed warp-lang, after checking that everything it patches is there:

* ``OpenGLRenderer`` and Warp's ``ShapeInstancer`` become :func:`~.managed_classes.managed`: tracked from
  creation (a renderer before the instancers it makes), released exactly once by ``close()``, at
  exit or after collection, each with its own context current. A renderer's release closes its
  instancers, undoes its CUDA-GL registrations, deletes every GL object it made (including those
  Warp's ``clear()`` forgets: grid, sky, frame buffers and textures, shader programs, and what
  pyglet made for it: its info label's buffers, vertex array and programs, its window's default
  program and uniform buffer) and then runs Warp's own ``close()`` for the rest (``on_exit``,
  closing the window). It works after the window was closed, on a partly built renderer (what
  exists is released), and a second ``close()`` does nothing. Drawing with a released renderer
  (``update()``, or any path through ``_switch_context()``) raises ``RuntimeError``.
* ``RegisteredGLBuffer`` on a CPU device takes a CPU path: no CUDA call, no pinned memory;
  ``map()`` returns a CPU array (read back with ``glGetBufferSubData`` unless write-discard),
  ``unmap()`` uploads it with ``glBufferSubData``.
* ``OpenGLRenderer.update`` starts with a safe point (deferred releases, queued GL names), and so
  does ``OpenGLRenderer.__init__``, which also clears the exit flag the last closed window left
  in pyglet's event loop (a renderer opened after another was closed runs;
  :func:`~.glowners.safe_point_at_creation`).
* Renderers and instancers that exist already are adopted, in creation order, instancers with
  their renderer's context (see :func:`_adopt_existing`).

:func:`uninstall` restores Warp's originals. Nothing here runs inside a finalizer.

Supported: warp-lang 1.8 through 1.19. Where versions differ, this module alone knows: 1.10 and
later keep the renderer and runtime in ``warp._src.render.render_opengl`` and ``warp._src.context``,
1.8 and 1.9 in ``warp.render.render_opengl`` and ``warp.context``; the native call undoing a CUDA-GL
registration is ``cuda_graphics_unregister_resource`` in 1.8 and ``wp_cuda_graphics_unregister_resource``
later; Warp's messages are quieted by ``config.log_level``
(1.14 and later) or ``config.quiet`` (:func:`quiet_warp`).
"""

from __future__ import annotations

import ctypes
import gc
import importlib
import logging
import os
import sys
from typing import Any, Callable

from .glowners import (HOLDINGS, gl_name, headless_without_display, missing_attributes, names_in, patch,
                       program_ids, safe_point_at_creation, safe_point_first, take_names, take_window_objects,
                       window_objects)
from .managed_classes import managed
from .registry import Reason, skip_warning_frames_in
from .sites import with_parent

__all__ = ["install", "installed", "quiet_warp", "register_gl_buffer", "supported", "uninstall", "unregister",
           "warp_render_opengl", "warp_shape_instancer", "warp_update_vbo_transforms"]

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

_state: dict[str, Any] = {"installed": False, "restore": [], "unregister": None}


# -- helpers used by the package's own instancer ---------------------------------------------------


def register_gl_buffer(buffer: int, device: Any, flags: int) -> tuple[Any, Callable[[], None]]:
    """Register GL ``buffer`` with CUDA on ``device``; returns the registration and its undo.

    The undo unregisters at once (a CUDA call, never a GL call) and leaves Warp's own
    ``RegisteredGLBuffer.__del__`` nothing to do. Raises ``RuntimeError`` when CUDA-GL interop is
    not available (no copy fallback: callers take their own CPU path instead).
    """
    import warp as wp  # noqa: PLC0415

    registration = wp.RegisteredGLBuffer(buffer, device, flags, fallback_to_copy=False)
    _native_unregister()
    return registration, lambda: unregister(registration)


def unregister(registration: Any) -> None:
    """Undo one CUDA-GL registration now; Warp's ``__del__`` then does nothing. Idempotent.

    No import here (it may run inside a finalizer): the native call was looked up (by
    :func:`_native_unregister`) on the main thread when the undo was made.
    """
    resource, registration.resource = getattr(registration, "resource", None), None
    if resource:
        with cuda_context(registration.device):
            (_state["unregister"] or _native_unregister())(registration.context, resource)


def _native_unregister() -> Callable[[Any, Any], None]:
    """Warp's native call that undoes a CUDA-GL registration (its name changed after 1.8); looked
    up once, after ``wp.init()``."""
    if _state["unregister"] is None:
        core = _warp_module("context").runtime.core
        function = getattr(core, "wp_cuda_graphics_unregister_resource", None)
        _state["unregister"] = function if function is not None else core.cuda_graphics_unregister_resource
    return _state["unregister"]


def _warp_module(name: str) -> Any:
    """Warp's internal module ``name`` where this version keeps it: ``warp._src.<name>`` (1.10 and
    later) or ``warp.<name>`` (1.8, 1.9)."""
    try:
        return importlib.import_module(f"warp._src.{name}")
    except ModuleNotFoundError as exc:
        if exc.name not in ("warp._src", f"warp._src.{name}"):
            raise
        return importlib.import_module(f"warp.{name}")


def warp_render_opengl() -> Any:
    """Warp's ``render_opengl`` module (``OpenGLRenderer``, ``ShapeInstancer``, its kernels)."""
    return _warp_module("render.render_opengl")


def quiet_warp() -> Any:
    """Import Warp with its start-up banner and info messages off, on every supported version
    (``config.log_level = LOG_WARNING`` from 1.14, ``config.quiet`` before); returns ``warp``.

    Warnings still show. Call before ``wp.init()``. Lines Warp's native code prints before the
    setting is read (1.8 on a machine without a CUDA driver) are not covered.
    """
    import warp as wp  # noqa: PLC0415

    if hasattr(wp, "LOG_WARNING") and hasattr(wp.config, "log_level"):
        wp.config.log_level = wp.LOG_WARNING
    else:
        wp.config.quiet = True
    return wp


def warp_shape_instancer() -> type:
    """Warp's own ``ShapeInstancer`` class (``warp.render`` does not export it)."""
    return _warp_classes()["ShapeInstancer"]


def warp_update_vbo_transforms() -> Any:
    """Warp's own instance-matrix kernel (``update_vbo_transforms``), the reference ours must equal."""
    return warp_render_opengl().update_vbo_transforms


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

    render_opengl = warp_render_opengl()
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
        _warp_module("context")
    except Exception as exc:  # noqa: BLE001 - any failure means "not supported", never a crash
        return False, f"warp.render's OpenGL renderer could not be imported: {type(exc).__name__}: {exc}"
    missing = missing_attributes(classes, _REQUIRED)
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
    import warp  # noqa: PLC0415

    skip_warning_frames_in(os.path.dirname(warp.__file__))  # warnings point past Warp's frame loop

    managed(renderer_cls, context=_renderer_context, kind="OpenGLRenderer", release=_release_renderer)
    managed(instancer_cls, context=_instancer_context, kind="warp ShapeInstancer", release=_release_instancer)
    _state["renderer_close"] = renderer_cls._wgl_managed.originals["close"]  # Warp's own close()
    _state["renderer_cls"] = renderer_cls
    restore = [renderer_cls._wgl_managed.restore, instancer_cls._wgl_managed.restore]
    # A frame starts with a safe point, which may release this very renderer (closed on a worker):
    # then it raises, as every GL path does once the renderer is released.
    restore.append(patch(renderer_cls, "update", lambda update: safe_point_first(_refuse_when_closed(update))))
    restore.append(patch(renderer_cls, "_switch_context", _refuse_when_closed))
    # creation: a safe point, then headless=True honoured where no display exists
    restore.append(patch(renderer_cls, "__init__", lambda init: safe_point_at_creation(headless_without_display(init))))
    for name, wrap in (("__init__", _cpu_init), ("map", _cpu_map), ("unmap", _cpu_unmap)):
        restore.append(patch(buffer_cls, name, wrap))
    _state.update(installed=True, restore=restore)
    _adopt_existing(renderer_cls, instancer_cls)
    return True


def uninstall() -> None:
    """Give Warp its own behaviour back for everything made from now on: the safe point in
    ``update`` and the CPU path of ``RegisteredGLBuffer`` are removed, and new renderers and
    instancers are not tracked. Owners tracked so far stay tracked and are still released exactly
    once (by ``close()``, collection or exit): for them ``managed``'s thin wrappers stay in place
    (see :meth:`~.managed_classes.Managed.restore`)."""
    for restore in reversed(_state["restore"]):
        restore()
    _state.update(installed=False, restore=[])


def _adopt_existing(renderer_cls: type, instancer_cls: type) -> None:
    """Track renderers and instancers created before install, in creation order (which decides the
    exit order, newest first): renderers by the time their ``__init__`` started (Warp's
    ``_start_time``; partly built ones, without it, first), each followed by its instancers (the
    axis instancer, then the others as Warp made them), adopted with the renderer's context; then
    instancers of no renderer, with the context of their shader (else the current one)."""
    # type(), not isinstance(): a dead weak proxy among the collector's objects raises on __class__
    found = [obj for obj in gc.get_objects() if issubclass(type(obj), (renderer_cls, instancer_cls))]
    renderers = sorted((o for o in found if isinstance(o, renderer_cls)), key=lambda r: vars(r).get("_start_time", 0.0))
    owned: set[int] = set()
    for renderer in renderers:
        tracked = renderer_cls._wgl_managed.adopt(renderer)
        if getattr(vars(renderer).get("window"), "context", None) is None:
            tracked.warn = False  # the user closed it (Warp's own close()): what it leaked is ours to free
        context = _renderer_context(renderer)
        for instancer in _instancers_of(renderer):
            if isinstance(instancer, instancer_cls) and id(instancer) not in owned:
                owned.add(id(instancer))
                adopted = instancer_cls._wgl_managed.adopt(instancer, context=context)
                adopted.warn = False  # the renderer's own
                adopted.site = with_parent(adopted.site, tracked)  # reports show it under its renderer
    for instancer in found:
        if isinstance(instancer, instancer_cls) and id(instancer) not in owned:
            shader_context = getattr(vars(instancer).get("shape_shader"), "_context", None)
            instancer_cls._wgl_managed.adopt(instancer, context=shader_context)  # None: the current one


def _instancers_of(renderer: Any) -> list[Any]:
    """A Warp renderer's instancers, oldest first (whatever of them exists)."""
    axis = vars(renderer).get("_axis_instancer")
    others = vars(renderer).get("_shape_instancers") or {}
    return [i for i in (axis, *others.values()) if i is not None]


# -- contexts --------------------------------------------------------------------------------------

def _renderer_context(renderer: Any) -> Any:
    """The renderer's window's context; once that window is closed (Warp's own ``close()`` before
    the import), the context its shaders were made in (dead, but it names the object space where
    Warp leaked its buffers and programs); None when it never had either."""
    from . import glresources  # noqa: F401, PLC0415 - installs the registry's context hooks

    window = vars(renderer).get("window")
    context = getattr(window, "context", None)
    if context is None:
        for attribute in _RENDERER_PROGRAMS:
            context = getattr(vars(renderer).get(attribute), "_context", None)
            if context is not None:
                break
    return context


def _instancer_context(instancer: Any) -> Any:
    """A new instancer's context: the current one (Warp makes its VAO there). Adoption at install
    passes its renderer's, or its shader's, instead. An instancer a renderer made for itself (its
    axis, one per shape kind drawn) is the renderer's to free, not the user's to close: it is
    released without a ResourceWarning (the renderer left open has one)."""
    from . import glresources  # noqa: PLC0415

    if _made_by_a_renderer():
        instancer.__dict__["_wgl_tracked"].warn = False
    return glresources.gl.current_context


def _made_by_a_renderer(depth: int = 12) -> bool:
    """Whether a method of a Warp ``OpenGLRenderer`` is among the callers (a few frames up)."""
    renderer_cls = _state.get("renderer_cls")
    frame = sys._getframe(2)
    while frame is not None and depth > 0:
        if renderer_cls is not None and isinstance(frame.f_locals.get("self"), renderer_cls):
            return True
        frame, depth = frame.f_back, depth - 1
    return False


# -- releases (main thread, the owner's context, or a live sibling of its object space, current) ----


def _release_instancer(instancer: Any) -> None:
    """Release one Warp ShapeInstancer's names (whatever of them exists); its ``__del__`` has nothing
    left to do."""
    resources = _resources_for(instancer)
    registration = vars(instancer).get("_instance_transform_cuda_buffer")
    if registration is not None:
        resources.interop.append(_undo(registration))
        instancer._instance_transform_cuda_buffer = None
    take_names(instancer, resources, {"buffers": _INSTANCER_BUFFERS, "vaos": ("vao",)})
    resources.release(Reason.CLOSE)


def _release_renderer(renderer: Any) -> None:
    """Release a Warp OpenGLRenderer, whatever of it exists: its instancers, interop, every GL name
    it made (pyglet's for its info label and window included), then Warp's close(). Drawing with
    it afterwards raises ``RuntimeError`` (see :func:`_refuse_when_closed`)."""
    for instancer in _instancers_of(renderer):
        tracked = vars(instancer).get("_wgl_tracked")
        if tracked is not None:
            tracked.close()
    resources = _resources_for(renderer)
    attributes = vars(renderer)
    registrations = [attributes.get("_instance_transform_cuda_buffer")]
    shape_buffers = attributes.get("_shape_gl_buffers") or {}
    for vao, vbo, ebo, _count, registration in shape_buffers.values():
        resources.vaos.append(gl_name(vao))
        resources.buffers += [gl_name(vbo), gl_name(ebo)]
        registrations.append(registration)
    shape_buffers.clear()
    if "_instance_transform_cuda_buffer" in attributes:
        renderer._instance_transform_cuda_buffer = None
    resources.interop += [_undo(registration) for registration in registrations if registration is not None]
    take_names(renderer, resources, {"buffers": _RENDERER_BUFFERS, "vaos": _RENDERER_VAOS,
                                     "textures": _RENDERER_TEXTURES, "framebuffers": _RENDERER_FRAMEBUFFERS})
    for attribute in _RENDERER_PROGRAMS:
        program = attributes.get(attribute)
        if program is not None and getattr(program, "id", None):
            resources.programs.append(program)
    _collect_pyglet_objects(renderer, resources)
    resources.release(Reason.CLOSE)
    from .glresources import readmit_window  # noqa: PLC0415

    readmit_window(vars(renderer).get("window"))  # collected in a cycle: pyglet forgot it already
    _close_as_warp(renderer)
    renderer._wgl_closed = True


class _Unplaced:
    """Stands in for ``GLResources`` for an owner whose names live in no known context (it never
    had one): registrations are undone, names are forgotten (nowhere to delete them safely)."""

    def __init__(self) -> None:
        self.buffers: list[int] = []
        self.textures: list[int] = []
        self.vaos: list[int] = []
        self.framebuffers: list[int] = []
        self.programs: list[Any] = []
        self.interop: list[Callable[[], None]] = []
        self.context = None

    def release(self, _reason: Reason) -> None:
        for undo in self.interop:
            undo()


def _resources_for(owner: Any) -> Any:
    from .glresources import GLResources  # noqa: PLC0415

    context = owner._wgl_tracked.context
    return GLResources(context=context) if context is not None else _Unplaced()


def _undo(registration: Any) -> Callable[[], None]:
    if getattr(registration, "resource", None):
        _native_unregister()  # looked up now, on the main thread, not in the undo
    return lambda: unregister(registration)


def _collect_pyglet_objects(renderer: Any, resources: Any) -> None:
    """Hand ``resources`` what pyglet made for the renderer in its context and keeps as long as the
    renderer is referenced (see :func:`_pyglet_objects`). Each pyglet object is left with no name,
    so its own ``__del__`` does nothing."""
    context = resources.context
    if context is None:
        return
    buffers, vaos, programs = _pyglet_objects(renderer, context)
    for buffer in buffers:
        resources.buffers.append(int(buffer.id))
        buffer.id = None
    for vao in vaos:
        resources.vaos.append(int(vao.id))
        vao._id = None
    seen = {id(program) for program in resources.programs}
    for program in programs:
        if id(program) not in seen:
            seen.add(id(program))
            resources.programs.append(program)
    take_window_objects(vars(renderer).get("window"), resources)


def _pyglet_objects(renderer: Any, context: Any) -> tuple[list[Any], list[Any], list[Any]]:
    """What pyglet made for the renderer's info label in ``context``, as pyglet objects holding a
    name: its vertex buffers, vertex arrays and shader programs (buffers, vertex arrays, programs);
    the window's own are :func:`~.glowners.window_objects`. pyglet's glyph textures are shared by every
    label and are not included. Nothing is changed."""
    label = vars(renderer).get("_info_label")
    batch = getattr(label, "batch", None) if getattr(label, "_own_batch", False) else None
    buffers, vaos, candidates = [], [], []
    if batch is not None:
        for group, domains in list(batch.group_map.items()):
            candidates.append(getattr(group, "program", None))
            for domain in domains.values():
                held = [buffer for buffer, _ in getattr(domain, "buffer_attributes", ())]
                buffers += [buffer for buffer in (*held, getattr(domain, "index_buffer", None))
                            if getattr(buffer, "id", None)]
                vao = getattr(domain, "vao", None)
                if getattr(vao, "_id", None) is not None and vao._context is context:
                    vaos.append(vao)
    for owner in (label, getattr(label, "background_decoration_group", None),
                  getattr(label, "foreground_decoration_group", None)):
        candidates.append(getattr(owner, "program", None))
    programs, seen = [], set()
    for program in candidates:
        if program is None or id(program) in seen or getattr(program, "_context", None) is not context:
            continue
        seen.add(id(program))
        if program.id:
            programs.append(program)
    return buffers, vaos, programs


def _renderer_holdings(renderer: Any) -> dict[str, list[int]]:
    """The GL names a renderer holds now, by kind: what its release would delete (its instancers
    are owners of their own). Nothing is changed."""
    attributes = vars(renderer)
    held = names_in(renderer, {"buffers": _RENDERER_BUFFERS, "vaos": _RENDERER_VAOS, "textures": _RENDERER_TEXTURES,
                               "framebuffers": _RENDERER_FRAMEBUFFERS})
    for vao, vbo, ebo, _count, _registration in (attributes.get("_shape_gl_buffers") or {}).values():
        held["vaos"] += [name for name in (gl_name(vao),) if name is not None]
        held["buffers"] += [name for name in (gl_name(vbo), gl_name(ebo)) if name is not None]
    programs = [attributes.get(attribute) for attribute in _RENDERER_PROGRAMS]
    tracked = attributes.get("_wgl_tracked")
    context = tracked.context if tracked is not None else None
    if context is not None and not attributes.get("_wgl_closed"):
        buffers, vaos, pyglet_programs = _pyglet_objects(renderer, context)
        window_buffers, window_programs = window_objects(attributes.get("window"), context)
        buffers += window_buffers
        pyglet_programs += window_programs
        held["buffers"] += [int(buffer.id) for buffer in buffers]
        held["vaos"] += [int(vao.id) for vao in vaos]
        programs += [p for p in pyglet_programs if all(p is not q for q in programs)]
    held["programs"] = program_ids(programs)
    return held


def _instancer_holdings(instancer: Any) -> dict[str, list[int]]:
    """The GL names a Warp ShapeInstancer holds now, by kind. Nothing is changed."""
    return names_in(instancer, {"buffers": _INSTANCER_BUFFERS, "vaos": ("vao",)})


HOLDINGS[_release_renderer] = _renderer_holdings
HOLDINGS[_release_instancer] = _instancer_holdings


# What Warp's close() (and the clear() it calls) reads: a renderer lacking any was never fully built.
_WARP_CLOSE_READS = ("window", "headless", "app", "_instance_transform_gl_buffer", "_shape_gl_buffers", "_body_name",
                     "_shapes", "_shape_geo_hash", "_shape_instances", "_instances", "_instance_shape",
                     "_instance_gl_buffers")


def _close_as_warp(renderer: Any) -> None:
    """Warp's own close() (on_exit, state reset, window.close(); nothing left to delete), or for a
    partly built renderer, closing its window if it has one."""
    original_close = _state.get("renderer_close")
    if original_close is not None and all(attribute in vars(renderer) for attribute in _WARP_CLOSE_READS):
        original_close(renderer)
        return
    window = vars(renderer).get("window")
    if getattr(window, "context", None) is not None:
        window.close()


def _refuse_when_closed(method: Callable) -> Callable:
    """``method`` of Warp's renderer raising once the renderer was released, instead of drawing
    into whatever context is current. Every GL path starts with ``_switch_context()``; ``update()``
    is checked too (a desktop window's closed canvas is skipped by pyglet silently)."""

    def refusing_when_closed(self, *args, **kwargs):
        if vars(self).get("_wgl_closed"):
            raise _closed_error()
        return method(self, *args, **kwargs)

    return refusing_when_closed


def _closed_error() -> RuntimeError:
    return RuntimeError(
        "OpenGLRenderer is closed: close() released its window and GL objects "
        "(if it was closed from another thread, at this frame's safe point); create a new renderer to draw"
    )


# -- RegisteredGLBuffer on CPU devices ---------------------------------------------------------------


def _cpu_init(init: Callable) -> Callable:
    def patched_init(self, gl_buffer_id, device=None, flags=0, fallback_to_copy=True):
        import warp as wp  # noqa: PLC0415

        resolved = wp.get_device(device)
        if not resolved.is_cpu:
            return init(self, gl_buffer_id, device, flags, fallback_to_copy)
        self.gl_buffer_id = gl_name(gl_buffer_id)
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
