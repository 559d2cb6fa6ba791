"""The only code that touches Newton's internals: the drop-in for Newton's OpenGL viewer, ViewerGL.

:func:`install` (run by ``import warp_gl_lifecycle`` unless ``WARP_GL_LIFECYCLE=0``) does not
import Newton: it waits for ``newton._src.viewer.viewer_gl`` to be imported (a post-import hook,
:mod:`.when_imported`) and patches it then, or at once if it is imported already, after checking
Newton's version (1.5 to 1.8 tested; another is left untouched with one logged warning) and that
everything it patches is there:

* ``ViewerGL``, its ``RendererGL`` and the helpers (``MeshGL``, ``LinesGL``, ``WireframeShapeGL``,
  ``MeshInstancerGL``) become :func:`~.managed_classes.managed`: tracked from creation and released
  exactly once, by ``close()`` (a helper's ``destroy()``: ``managed(closers=("destroy",))``), at exit (newest
  first, each with its own context current) or, when collected, at the next safe point.
  A helper's release undoes its CUDA-GL registrations and deletes its names through
  :class:`~.glresources.GLResources` (a vertex array only in the context that made it); a
  helper that Newton destroyed itself is not released again.
* A renderer's release first releases its viewer's part while the window is still open (every
  helper made in its context, the frame cache, ``get_frame``'s pixel buffer, image and plot
  logger textures, the GUI), then every GL object the renderer made (sky, frame, MSAA, OIT,
  shadow and environment buffers, textures, renderbuffers, framebuffers, vertex arrays, shader
  programs, its window's default program and uniform buffer, which pyglet made), the
  class-level fallback texture once no renderer of its object space is left, and then runs
  Newton's own ``close()`` (the window). ``ViewerGL.close()`` releases its renderer.
  Idempotent; correct after the window was closed (per-context names died with it).
* ``ViewerGL.begin_frame`` and ``ViewerGL.__init__`` start with a safe point (deferred releases,
  queued GL names; :func:`~.glowners.safe_point_at_creation`). The reference cycles Newton makes
  between a viewer and its renderer are broken at creation (:func:`_hold_viewer_weakly`): a
  viewer nothing references is freed by reference counting and released at the next safe point
  (a frame, a creation, or, under IPython, the end of the cell).

:func:`uninstall` stops tracking new instances and removes the safe point; what is tracked stays
tracked and is released exactly once (where the fallback texture was made is still recorded).
Nothing here runs inside a finalizer.
"""

from __future__ import annotations

import importlib
import logging
import os
import re
import sys
import weakref
from typing import Any

from .glowners import (HOLDINGS, gl_name, headless_without_display, missing_attributes, names_in, patch,
                       program_ids, safe_point_at_creation, safe_point_first, take_names, take_programs,
                       take_registrations, take_window_objects)
from .managed_classes import managed
from .registry import Reason, registry, skip_warning_frames_in
from .sites import with_parent
from .when_imported import cancel, when_imported

__all__ = ["install", "installed", "patched", "supported", "uninstall", "version", "version_supported"]

logger = logging.getLogger("warp_gl_lifecycle")

VIEWER_MODULE = "newton._src.viewer.viewer_gl"
OPENGL_MODULE = "newton._src.viewer.gl.opengl"
#: Newton versions (major, minor) this drop-in is tested with.
SUPPORTED = ((1, 5), (1, 6), (1, 7), (1, 8))

# What install() patches or relies on, by class; checked against the installed Newton first.
_REQUIRED = {
    "ViewerGL": ("__init__", "close", "begin_frame", "_destroy_render_geometry"),
    "RendererGL": ("__init__", "close", "get_fallback_texture", "_make_current"),
    "MeshGL": ("__init__", "destroy"),
    "LinesGL": ("__init__", "destroy"),
    "WireframeShapeGL": ("__init__", "destroy"),
    "MeshInstancerGL": ("__init__", "destroy", "__del__"),
}
# Newton 1.5 has neither MeshInstancerGL.destroy (an instancer is freed by its __del__; managed()
# gives it the destroy() of 1.6 on, which ViewerGL's layer clearing calls when it exists) nor
# ViewerGL._destroy_render_geometry. Every other difference between 1.5 and 1.8 is an attribute
# that a version lacks (OIT buffers, index registrations, opacity buffers): read with getattr.
_REQUIRED_1_5 = {**_REQUIRED, "ViewerGL": ("__init__", "close", "begin_frame"),
                 "MeshInstancerGL": ("__init__", "__del__")}
_HELPERS = ("MeshGL", "LinesGL", "WireframeShapeGL", "MeshInstancerGL")
# Per helper class: its GL names by kind, and its CUDA-GL registrations.
_HELPER_NAMES = {
    "MeshGL": ({"vaos": ("vao",), "buffers": ("vbo", "ebo"), "textures": ("texture_id",)},
               ("vertex_cuda_buffer", "index_cuda_buffer")),
    "LinesGL": ({"vaos": ("vao",), "buffers": ("vbo",)}, ("vertex_cuda_buffer",)),
    "WireframeShapeGL": ({"vaos": ("vao",), "buffers": ("vbo",)}, ()),
    "MeshInstancerGL": ({"vaos": ("vao",), "buffers": ("instance_transform_buffer", "instance_color_buffer",
                                                       "instance_material_buffer", "instance_opacity_buffer")},
                        ("_instance_transform_cuda_buffer",)),
}
_HELPER_KINDS = frozenset(f"newton {name}" for name in _HELPERS)
_RENDERER_NAMES = {
    "buffers": ("_sky_vbo", "_sky_ebo", "_frame_vbo", "_frame_ebo", "_frame_pbo"),
    "vaos": ("_sky_vao", "_frame_vao"),
    "textures": ("_shadow_texture", "_frame_texture", "_frame_depth_texture", "_env_texture",
                 "_oit_accum_texture", "_oit_reveal_texture"),
    "renderbuffers": ("_frame_msaa_color_rb", "_frame_msaa_depth_rb"),
    "framebuffers": ("_shadow_fbo", "_frame_fbo", "_frame_msaa_fbo", "_oit_fbo"),
}
_RENDERER_SHADERS = ("_shadow_shader", "_shape_shader", "_edge_shader", "_frame_shader", "_sky_shader",
                     "_wireframe_shader", "_arrow_shader", "_shape_transparent_shader", "_oit_resolve_shader")

_state: dict[str, Any] = {"installed": False, "armed": False, "restore": [], "warned": False,
                          "fallback_context": None, "helper_tables": {}}
#: Renderers tracked and not yet released (for the fallback texture's last user).
_live_renderers: "weakref.WeakSet[Any]" = weakref.WeakSet()


# -- checking and installing ------------------------------------------------------------------------


def version() -> str | None:
    """The installed Newton's version, without importing Newton; None when it is not installed."""
    from importlib import metadata  # noqa: PLC0415

    try:
        return metadata.version("newton")
    except metadata.PackageNotFoundError:
        module = sys.modules.get("newton")
        return getattr(module, "__version__", None) if module is not None else None


def _classes() -> dict[str, type]:
    viewer_gl = importlib.import_module(VIEWER_MODULE)
    opengl = importlib.import_module(OPENGL_MODULE)
    classes = {"ViewerGL": viewer_gl.ViewerGL}
    for name in ("RendererGL", *_HELPERS):
        classes[name] = getattr(opengl, name)
    return classes


def _minor(found: str | None) -> tuple[int, int]:
    """(major, minor) of a version string; (0, 0) when it has none."""
    match = re.match(r"(\d+)\.(\d+)", found or "")
    return (int(match[1]), int(match[2])) if match else (0, 0)


def version_supported() -> tuple[bool, str]:
    """Whether the installed Newton's version is one this drop-in is tested with, and why not.
    Does not import Newton."""
    found = version()
    if found is None:
        return False, "newton is not installed"
    if _minor(found) not in SUPPORTED:
        tested = ", ".join(f"{major}.{minor}" for major, minor in SUPPORTED)
        return False, f"newton {found} is not a tested version ({tested})"
    return True, f"newton {found}"


def supported() -> tuple[bool, str]:
    """Whether the installed Newton is one :func:`install` can patch, and why not. Imports
    Newton's viewer module (call it when Newton is in use)."""
    ok, why = version_supported()
    if not ok:
        return ok, why
    found = version()
    try:
        classes = _classes()
    except Exception as exc:  # noqa: BLE001 - any failure means "not supported", never a crash
        return False, f"Newton's OpenGL viewer could not be imported: {type(exc).__name__}: {exc}"
    missing = missing_attributes(classes, _REQUIRED_1_5 if _minor(found) < (1, 6) else _REQUIRED)
    if missing:
        return False, f"newton {found} lacks {', '.join(missing)}"
    return True, f"newton {found}"


def installed() -> bool:
    """True while Newton's viewer is patched, or will be when Newton is imported."""
    return _state["installed"] or _state["armed"]


def patched() -> bool:
    """True while Newton's viewer is patched (Newton has been imported)."""
    return _state["installed"]


def install() -> bool:
    """Patch Newton's viewer now if it is imported, else when it is (see the module docstring).
    Idempotent; never raises. Returns False only for an unsupported Newton (one warning logged)."""
    if installed():
        return True
    if VIEWER_MODULE not in sys.modules:
        _state["armed"] = True
        when_imported(VIEWER_MODULE, _when_viewer_imported)
        return True
    return _patch(adopt=True)


def uninstall() -> None:
    """Give Newton its own behaviour back for everything made from now on (see the module
    docstring); a hook still waiting for Newton's import is withdrawn."""
    if _state["armed"]:
        cancel(VIEWER_MODULE, _when_viewer_imported)
        _state["armed"] = False
    for restore in reversed(_state["restore"]):
        restore()
    _state.update(installed=False, restore=[])


def _when_viewer_imported(_module: Any) -> None:
    """The post-import hook: runs inside Newton's own import, which must never fail because of us."""
    _state["armed"] = False
    try:
        _patch(adopt=False)  # nothing can exist yet: the module has just been executed
    except Exception as exc:  # noqa: BLE001
        logger.warning("warp_gl_lifecycle: Newton's viewer left unpatched: %s: %s", type(exc).__name__, exc)


def _patch(adopt: bool) -> bool:
    ok, why = supported()
    if not ok:
        if not _state["warned"]:
            _state["warned"] = True
            logger.warning("warp_gl_lifecycle: Newton's viewer left unpatched: %s", why)
        return False
    classes = _classes()
    viewer_cls, renderer_cls = classes["ViewerGL"], classes["RendererGL"]
    import newton  # noqa: PLC0415

    skip_warning_frames_in(os.path.dirname(newton.__file__))  # warnings point past Newton's frame loop
    managed(viewer_cls, context=_viewer_context, kind="newton ViewerGL", release=_release_viewer)
    managed(renderer_cls, context=_renderer_context, kind="newton RendererGL", release=_release_renderer)
    restore = [viewer_cls._wgl_managed.restore, renderer_cls._wgl_managed.restore]
    for name in _HELPERS:
        helper_cls = classes[name]
        # destroy() is how Newton frees a helper: released once, whichever of destroy() or
        # collection comes first; a helper Newton destroyed itself is not released again.
        managed(helper_cls, context=_helper_context, kind=f"newton {name}", release=_release_helper,
                closers=("destroy",))
        _state["helper_tables"][helper_cls] = (*_HELPER_NAMES[name], helper_cls._wgl_managed.originals.get("destroy"))
        restore.append(helper_cls._wgl_managed.restore)
    _state["viewer_close"] = viewer_cls._wgl_managed.originals["close"]
    _state["renderer_close"] = renderer_cls._wgl_managed.originals["close"]
    _state["renderer_cls"] = renderer_cls
    restore.append(patch(viewer_cls, "begin_frame", safe_point_first))
    restore.append(patch(viewer_cls, "__init__", safe_point_at_creation))
    restore.append(patch(renderer_cls, "__init__", headless_without_display))  # headless=True with no display
    if "_wgl_fallback_recorded" not in renderer_cls.__dict__:  # passive, so it stays after uninstall
        patch(renderer_cls, "get_fallback_texture", _remember_fallback_context)
        renderer_cls._wgl_fallback_recorded = True
    _state.update(installed=True, restore=restore)
    if adopt:
        _adopt_existing(classes)
    return True


def _adopt_existing(classes: dict[str, type]) -> None:
    """Track what was created before install and is still open: each viewer whose window is open,
    then its renderer, then the helpers it holds (so that, at exit, helpers are released first),
    in its viewer's context; then open renderers made without a viewer. What was
    closed already, and helpers no open viewer holds, are left alone (Newton may have destroyed
    them: adopting them could delete their names twice)."""
    import gc  # noqa: PLC0415

    viewer_cls, renderer_cls = classes["ViewerGL"], classes["RendererGL"]
    found = gc.get_objects()
    # type(), not isinstance(): a dead weak proxy among the collector's objects raises on __class__
    viewers = [obj for obj in found if issubclass(type(obj), viewer_cls) and _window_open(obj.__dict__.get("renderer"))]
    renderers = [obj for obj in found if issubclass(type(obj), renderer_cls) and _window_open(obj)]
    del found
    for viewer in viewers:
        renderer = viewer.__dict__["renderer"]
        context = renderer.window.context
        viewer_record = viewer_cls._wgl_managed.adopt(viewer)
        adopted = [type(renderer)._wgl_managed.adopt(renderer)]
        for helper in _held_helpers(viewer):
            if isinstance(helper, tuple(_state["helper_tables"])):
                adopted.append(type(helper)._wgl_managed.adopt(helper, context=context))  # made in its context
        for record in adopted:  # reports show them under the viewer that made them
            record.site = with_parent(record.site, viewer_record)
    for renderer in renderers:
        type(renderer)._wgl_managed.adopt(renderer)


def _window_open(renderer: Any) -> bool:
    window = renderer.__dict__.get("window") if renderer is not None else None
    return getattr(window, "context", None) is not None


def _remember_fallback_context(original: Any) -> classmethod:
    get = original.__func__

    def get_fallback_texture(cls):
        created = cls._fallback_texture is None
        texture = get(cls)
        if created:
            _state["fallback_context"] = cls.gl.current_context  # where the class-level texture lives
        return texture

    get_fallback_texture.__wrapped__ = get
    get_fallback_texture.__doc__ = get.__doc__
    return classmethod(get_fallback_texture)


# -- contexts (called by managed() once, after __init__) --------------------------------------------


def _viewer_context(viewer: Any) -> Any:
    """The viewer's window context. Also links the renderer to its viewer, weakly, so that the
    renderer's release (at exit it comes first: it is newer) releases the viewer's part with the
    window open, and breaks the reference cycles Newton makes between the two (see
    :func:`_hold_viewer_weakly`): a viewer nothing references is freed by reference counting."""
    renderer = viewer.__dict__.get("renderer")
    if renderer is None:
        return None
    _hold_viewer_weakly(viewer, renderer)
    record = renderer.__dict__.get("_wgl_tracked")
    return record.context if record is not None else _renderer_context(renderer)


class _WeakCallback:
    """A bound method held weakly: calls it while its object lives; afterwards does nothing."""

    __slots__ = ("method", "__weakref__")

    def __init__(self, method: Any) -> None:
        self.method = weakref.WeakMethod(method)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        method = self.method()
        return method(*args, **kwargs) if method is not None else None


class _WindowOf:
    """``lambda: viewer.renderer.window`` (Newton's plot logger's ``get_window``), the viewer held weakly."""

    __slots__ = ("viewer",)

    def __init__(self, viewer: Any) -> None:
        self.viewer = weakref.ref(viewer)

    def __call__(self) -> Any:
        viewer = self.viewer()
        return viewer.renderer.window if viewer is not None else None


def _hold_viewer_weakly(viewer: Any, renderer: Any) -> None:
    """Break the reference cycles Newton makes around a viewer, so that a viewer nothing else
    references is freed by reference counting, as Warp's renderer is, instead of waiting for a
    full collection: the renderer's callback lists hold the viewer's bound methods
    (``on_key_press``, ``on_mouse_*``, ``on_resize``); the plot logger's ``get_window`` closes over
    the viewer; with a window, the window holds the renderer's ``on_mouse_scroll``/``_drag``/
    ``_motion`` handlers, and the GUI holds the viewer and its panel callbacks. Each is held weakly
    instead (user callbacks stay as they are). Once, right after ``ViewerGL.__init__`` (or at
    adoption); main thread."""
    renderer.__dict__["_wgl_viewer"] = weakref.ref(viewer)
    for attribute, callbacks in list(renderer.__dict__.items()):
        if attribute.endswith("_callbacks") and isinstance(callbacks, list):
            _weakly(callbacks, viewer)
    plot_logger = viewer.__dict__.get("_plot_logger")
    if plot_logger is not None and callable(plot_logger.__dict__.get("_get_window")):
        plot_logger._get_window = _WindowOf(viewer)
    window = renderer.__dict__.get("window")
    for attribute, handler in list(getattr(window, "__dict__", {}).items()):
        if attribute.startswith("on_") and getattr(handler, "__self__", None) is renderer:
            setattr(window, attribute, _WeakCallback(handler))
    gui = viewer.__dict__.get("gui")
    if gui is not None:
        if gui.__dict__.get("_viewer") is viewer:
            gui._viewer = weakref.proxy(viewer)
        for callbacks in (gui.__dict__.get("_ui_callbacks") or {}).values():
            if isinstance(callbacks, list):
                _weakly(callbacks, viewer)


def _weakly(callbacks: list, owner: Any) -> None:
    """Hold the bound methods of ``owner`` in ``callbacks`` weakly (in place)."""
    callbacks[:] = [_WeakCallback(c) if getattr(c, "__self__", None) is owner else c for c in callbacks]


def _renderer_context(renderer: Any) -> Any:
    from . import glresources  # noqa: F401, PLC0415 - installs the registry's context hooks

    window = renderer.__dict__.get("window")
    context = getattr(window, "context", None)
    if context is not None:
        _live_renderers.add(renderer)
    record = renderer.__dict__.get("_wgl_tracked")
    if record is not None:
        record.warn = False  # part of its viewer: the viewer is what the user closes
    return context


def _helper_context(helper: Any) -> Any:
    """The context current when the helper was made: where its names live."""
    from . import glresources  # noqa: PLC0415

    helper.__dict__["_wgl_tracked"].warn = False  # Newton's to destroy, not the user's to close
    return glresources.gl.current_context


# -- releases (main thread, the owner's context, or a live sibling of its object space, current) ----


def _undo_registration(registration: Any) -> None:
    from .warp_compat import unregister  # noqa: PLC0415 - Warp's internals stay in warp_compat

    unregister(registration)


def _resources(context: Any) -> Any:
    """A GLResources for names made in ``context``; None when the owner has no pyglet context (a
    test's mock renderer, say): then Newton's own cleanup is left to do what it does."""
    from pyglet.gl.base import Context  # noqa: PLC0415

    from .glresources import GLResources  # noqa: PLC0415

    return GLResources(context=context) if isinstance(context, Context) else None


def _release_helper(helper: Any) -> None:
    """Release one helper's CUDA-GL registrations and GL names; its destroy()/__del__ then do nothing."""
    table = next((_state["helper_tables"][k] for k in type(helper).__mro__ if k in _state["helper_tables"]), None)
    if table is None or not helper.__dict__.get("_owns_gl", True):
        return
    names, registrations, newton_destroy = table
    resources = _resources(helper.__dict__["_wgl_tracked"].context)
    if resources is None:  # made with no pyglet context current (a mocked GL): Newton's own destroy
        if newton_destroy is not None:  # Newton 1.5's MeshInstancerGL has none
            newton_destroy(helper)
        return
    take_registrations(helper, resources, registrations, _undo_registration)
    take_names(helper, resources, names)
    resources.release(Reason.CLOSE)


def _held_helpers(viewer: Any) -> list[Any]:
    """The helpers a viewer holds: shapes and instancers, lines, arrows, wireframes, point meshes."""
    held = [*getattr(viewer, "objects", {}).values(), *getattr(viewer, "lines", {}).values(),
            *getattr(viewer, "arrows", {}).values(), *getattr(viewer, "wireframe_shapes", {}).values(),
            *getattr(viewer, "_wireframe_vbo_owners", {}).values(),
            getattr(viewer, "_point_mesh", None), getattr(viewer, "_gaussian_mesh", None)]
    held += [getattr(helper, "mesh", None) for helper in held]  # an instancer's prototype mesh
    return [helper for helper in held if helper is not None]


def _close_helpers(viewer: Any, context: Any) -> None:
    """Release the helpers the viewer holds, and every helper made in its context, newest first."""
    held = _held_helpers(viewer) if viewer is not None else []
    records = [h.__dict__["_wgl_tracked"] for h in held if "_wgl_tracked" in getattr(h, "__dict__", {})]
    if context is not None:
        records += [t for t in registry.live() if t.context is context and t.kind in _HELPER_KINDS]
    by_seq = {t.seq: t for t in records}  # records are weak references: hashing one hashes its owner
    for seq in sorted(by_seq, reverse=True):
        by_seq[seq].close()


def _release_viewer_part(viewer: Any) -> None:
    """Release what the viewer itself made (helpers, frame cache, pixel buffer, logger textures,
    GUI) once; what it takes is set to None (or 0, where Newton uses 0) in the viewer."""
    if viewer.__dict__.get("_wgl_part_released"):
        return
    viewer.__dict__["_wgl_part_released"] = True
    record = viewer.__dict__.get("_wgl_tracked")
    context = record.context if record is not None else None
    _close_helpers(viewer, context)
    resources = _resources(context)
    if resources is None:
        return
    cache = viewer.__dict__.get("_displayed_frame")
    if cache is not None:
        take_names(cache, resources, {"textures": ("texture",), "framebuffers": ("_fbo",)})
        cache.texture = cache._fbo = cache.width = cache.height = 0
    take_registrations(viewer, resources, ("_wp_pbo",), _undo_registration)
    take_names(viewer, resources, {"buffers": ("_pbo",)})
    image_logger = viewer.__dict__.get("_image_logger")
    if image_logger is not None:
        for entry in [*image_logger._images.values(), *image_logger._fullscreen_images.values()]:
            take_registrations(entry, resources, ("wp_pbo",), _undo_registration)
            take_names(entry, resources, {"buffers": ("pbo_id",), "textures": ("tex_id",)})
            entry.tex_id = 0
    plot_logger = viewer.__dict__.get("_plot_logger")
    if plot_logger is not None:
        for texture in plot_logger._array_textures.values():
            name = gl_name(texture.get("texture_id"))
            if name is not None:
                resources.textures.append(name)
        plot_logger._array_textures.clear()
    ui = getattr(viewer.__dict__.get("gui"), "ui", None)
    if ui is not None and getattr(ui, "is_available", False) and not ui.__dict__.get("_wgl_shut_down"):
        ui.__dict__["_wgl_shut_down"] = True
        if resources.context is _current_context() and resources.context.canvas is not None:
            ui.shutdown()  # imgui's own GL objects, with its window's context current
    resources.release(Reason.CLOSE)


def _current_context() -> Any:
    from .glresources import gl  # noqa: PLC0415

    return gl.current_context


def _release_viewer(viewer: Any) -> None:
    """A ViewerGL's release: its part, then Newton's own close() for the rest (which closes the
    renderer: released now, unless it was already)."""
    _release_viewer_part(viewer)
    if viewer.__dict__.get("renderer") is not None:
        _state["viewer_close"](viewer)


def _release_renderer(renderer: Any) -> None:
    """A RendererGL's release: its viewer's part, every GL object it made, then Newton's close()."""
    link = renderer.__dict__.pop("_wgl_viewer", None)
    viewer = link() if link is not None else None
    if viewer is not None:
        _release_viewer_part(viewer)  # while the window is open
    context = renderer.__dict__["_wgl_tracked"].context
    _live_renderers.discard(renderer)
    if viewer is None:
        _close_helpers(None, context)
    resources = _resources(context)
    if resources is not None:
        take_names(renderer, resources, _RENDERER_NAMES)
        take_programs(renderer, resources, _RENDERER_SHADERS, "shader_program")
        take_window_objects(renderer.__dict__.get("window"), resources)  # at exit nothing collects them
        resources.release(Reason.CLOSE)
        _release_fallback_texture_if_last(resources.context)
    renderer_cls = _state["renderer_cls"]
    kept = renderer_cls._fallback_texture  # Newton's close() forgets it even while others use it
    from .glresources import readmit_window  # noqa: PLC0415

    readmit_window(renderer.__dict__.get("window"))  # collected in a cycle: pyglet forgot it already
    _state["renderer_close"](renderer)  # Newton's own: on_exit, window.close(); nothing left to delete
    renderer_cls._fallback_texture = kept


def _helper_holdings(helper: Any) -> dict[str, list[int]]:
    """The GL names a helper holds now, by kind (none once Newton destroyed it). Nothing is changed."""
    table = next((_state["helper_tables"][k] for k in type(helper).__mro__ if k in _state["helper_tables"]), None)
    if table is None or not helper.__dict__.get("_owns_gl", True):
        return {}
    return names_in(helper, table[0])


def _viewer_holdings(viewer: Any) -> dict[str, list[int]]:
    """The GL names the viewer itself holds now (its helpers and renderer are owners of their own):
    frame cache, ``get_frame``'s pixel buffer, image and plot logger textures. Nothing is changed."""
    held: dict[str, list[int]] = {"buffers": [], "textures": [], "framebuffers": []}
    if viewer.__dict__.get("_wgl_part_released"):
        return held
    cache = viewer.__dict__.get("_displayed_frame")
    if cache is not None:
        names_in(cache, {"textures": ("texture",), "framebuffers": ("_fbo",)}, held)
    names_in(viewer, {"buffers": ("_pbo",)}, held)
    image_logger = viewer.__dict__.get("_image_logger")
    if image_logger is not None:
        for entry in [*image_logger._images.values(), *image_logger._fullscreen_images.values()]:
            names_in(entry, {"buffers": ("pbo_id",), "textures": ("tex_id",)}, held)
    plot_logger = viewer.__dict__.get("_plot_logger")
    if plot_logger is not None:
        held["textures"] += [name for name in (gl_name(t.get("texture_id")) for t in plot_logger._array_textures.values())
                             if name is not None]
    return held


def _renderer_holdings(renderer: Any) -> dict[str, list[int]]:
    """The GL names a RendererGL holds now, by kind (its viewer's part and helpers are not
    included; nor is the class-level fallback texture, shared by every renderer). Nothing is changed."""
    held = names_in(renderer, _RENDERER_NAMES)
    held["programs"] = program_ids(getattr(getattr(renderer, name, None), "shader_program", None)
                                   for name in _RENDERER_SHADERS)
    return held


HOLDINGS[_release_helper] = _helper_holdings
HOLDINGS[_release_viewer] = _viewer_holdings
HOLDINGS[_release_renderer] = _renderer_holdings


def _release_fallback_texture_if_last(context: Any) -> None:
    """Delete the class-level fallback texture when no tracked renderer of its object space is left."""
    renderer_cls = _state["renderer_cls"]
    texture, where = gl_name(renderer_cls._fallback_texture), _state["fallback_context"]
    if texture is None or where is None or where.object_space is not context.object_space:
        return
    for other in list(_live_renderers):
        other_context = other.__dict__["_wgl_tracked"].context if "_wgl_tracked" in other.__dict__ else None
        if other_context is not None and other_context.object_space is where.object_space:
            return
    resources = _resources(where)
    resources.textures.append(texture)
    resources.release(Reason.CLOSE)
    renderer_cls._fallback_texture = None
    _state["fallback_context"] = None
