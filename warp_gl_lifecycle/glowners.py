"""What the compat modules share: taking an upstream object's GL names into a GLResources, the
safe points they put at the start of an upstream frame and of an upstream renderer's creation, and
headless mode where no display exists.

Knows nothing of Warp or Newton: callers name the attributes that hold names. Nothing here runs
inside a finalizer (the compat modules release through :func:`~.managed_classes.managed`, which defers
a collected owner to a safe point on the main thread).
"""

from __future__ import annotations

import inspect
import os
import sys
import threading
from typing import Any, Callable, Iterable

__all__ = ["HOLDINGS", "gl_name", "headless_without_display", "missing_attributes", "names_in", "patch",
           "program_ids", "reopen_event_loop", "safe_point_at_creation", "safe_point_first", "take_names",
           "take_programs", "take_registrations", "take_window_objects", "use_headless_if_no_display", "window_objects"]


def gl_name(value: Any) -> int | None:
    """The integer GL name in ``value`` (an int, a ctypes ``GLuint``, or None); None for 0."""
    if value is None:
        return None
    return int(getattr(value, "value", value)) or None


def take_names(owner: Any, resources: Any, names_by_kind: dict[str, Iterable[str]]) -> None:
    """Move the GL names held in ``owner``'s attributes into ``resources`` (kind: ``buffers``,
    ``textures``, ``renderbuffers``, ``vaos``, ``framebuffers``) and set the attributes to None,
    so that the owner's own cleanup finds nothing left to delete."""
    for kind, attributes in names_by_kind.items():
        names = getattr(resources, kind)
        for attribute in attributes:
            name = gl_name(getattr(owner, attribute, None))
            if name is not None:
                names.append(name)
                setattr(owner, attribute, None)


#: What an owner of a class given to ``managed(release=...)`` holds now, by kind (as
#: :func:`names_in` gives it), without taking anything: keyed by that ``release`` function. The
#: compat modules fill it; :mod:`.diagnostics` reads it. Main thread.
HOLDINGS: dict[Callable[[Any], None], Callable[[Any], dict[str, list[int]]]] = {}


def names_in(owner: Any, names_by_kind: dict[str, Iterable[str]], into: dict[str, list[int]] | None = None) -> dict[str, list[int]]:
    """The GL names held in ``owner``'s attributes, by kind (what :func:`take_names` would take),
    added to ``into`` (a new dict by default); nothing is changed."""
    held = {} if into is None else into
    for kind, attributes in names_by_kind.items():
        names = held.setdefault(kind, [])
        for attribute in attributes:
            name = gl_name(getattr(owner, attribute, None))
            if name is not None:
                names.append(name)
    return held


def program_ids(programs: Iterable[Any]) -> list[int]:
    """The names of pyglet ``ShaderProgram`` objects (None entries and deleted programs skipped)."""
    return [int(program.id) for program in programs if program is not None and getattr(program, "id", None)]


def take_programs(owner: Any, resources: Any, attributes: Iterable[str], program_attribute: str | None = None) -> None:
    """Move the pyglet ``ShaderProgram`` objects held by ``owner`` into ``resources.programs``.

    With ``program_attribute``, each attribute holds a wrapper whose ``program_attribute`` is the
    program (the wrapper is kept, its program attribute set to None)."""
    for attribute in attributes:
        holder = getattr(owner, attribute, None)
        if holder is None:
            continue
        program = holder if program_attribute is None else getattr(holder, program_attribute, None)
        if program is not None and getattr(program, "id", None):
            resources.programs.append(program)
        if program_attribute is None:
            setattr(owner, attribute, None)
        elif program is not None:
            setattr(holder, program_attribute, None)


def take_registrations(owner: Any, resources: Any, attributes: Iterable[str], undo: Callable[[Any], None]) -> None:
    """Move the CUDA-GL registrations held by ``owner`` into ``resources.interop`` (undone first,
    by ``undo(registration)``) and set the attributes to None."""
    for attribute in attributes:
        registration = getattr(owner, attribute, None)
        if registration is not None:
            resources.interop.append(lambda registration=registration: undo(registration))
            setattr(owner, attribute, None)


def window_objects(window: Any, context: Any) -> tuple[list[Any], list[Any]]:
    """What pyglet made for ``window`` in ``context`` and keeps while the window object lives, as
    pyglet objects holding a name: its uniform buffer and its default shader program (buffers,
    programs). Nothing is changed."""
    if window is None or context is None:
        return [], []
    program = getattr(window, "_default_program", None)
    programs = [program] if program is not None and getattr(program, "_context", None) is context and program.id else []
    ubo_buffer = getattr(getattr(window, "ubo", None), "buffer", None)
    same_space = getattr(ubo_buffer, "_context", context).object_space is context.object_space
    return ([ubo_buffer] if getattr(ubo_buffer, "id", None) and same_space else []), programs


def take_window_objects(window: Any, resources: Any) -> None:
    """Hand ``resources`` what pyglet made for ``window`` in ``resources.context`` and keeps while the
    window object lives (:func:`window_objects`; pyglet deletes them only when the window object is
    collected, which at exit never happens). Each is left with no name, so pyglet's own ``__del__``
    does nothing. Main thread, before the window is closed."""
    buffers, programs = window_objects(window, resources.context)
    resources.programs += [p for p in programs if all(p is not queued for queued in resources.programs)]
    for buffer in buffers:
        resources.buffers.append(int(buffer.id))
        buffer.id = None


def safe_point_first(method: Callable) -> Callable:
    """``method`` preceded by a safe point (:func:`~.glresources.flush`): deferred releases run
    and queued names are deleted before the frame's own GL calls. Main thread, as frames are."""
    flush = []  # glresources.flush, imported on the first frame (it imports pyglet.gl)

    def with_safe_point(self, *args, **kwargs):
        if not flush:
            from .glresources import flush as glresources_flush  # noqa: PLC0415

            flush.append(glresources_flush)
        flush[0]()
        return method(self, *args, **kwargs)

    return with_safe_point


def safe_point_at_creation(init: Callable) -> Callable:
    """``init`` (an upstream renderer's or viewer's ``__init__``) preceded by a safe point
    (:func:`.safe_point.flush_loaded`): what was dropped before is released now, each owner in its own context, before the new window exists.
    On the main thread only (a renderer made on another thread leaves it to the next frame). Then:

    * pyglet's app-wide ``event_loop.has_exit``, which the last window's close() sets and nothing
      clears, is cleared when no window is open any more (:func:`reopen_event_loop`), so that
      ``while renderer.is_running():`` of a renderer opened after another was closed runs;
    * under IPython, collected owners are released after every cell from now on
      (:func:`.notebooks.release_between_cells`; IPython is looked up, never imported).

    Once per creation, never per frame."""

    def init_at_safe_point(self, *args, **kwargs):
        if threading.current_thread() is threading.main_thread():
            from .notebooks import release_between_cells  # noqa: PLC0415
            from .safe_point import flush_loaded  # noqa: PLC0415

            flush_loaded()
            reopen_event_loop()
            release_between_cells()
        return init(self, *args, **kwargs)

    return init_at_safe_point


def reopen_event_loop() -> bool:
    """Clear pyglet's ``app.event_loop.has_exit`` when no pyglet window is open: it was left set by
    the close of the last window (pyglet's ``on_window_close``), so a renderer made now starts a
    new run. An exit asked for while a window is still open is kept. Returns whether it cleared it.
    Imports nothing: before ``pyglet.app`` is loaded no window can have closed."""
    app = sys.modules.get("pyglet.app")
    loop = getattr(app, "event_loop", None)
    if loop is None or not loop.has_exit or any(getattr(w, "_context", None) is not None for w in list(app.windows)):
        return False
    loop.has_exit = False
    return True


def patch(cls: type, name: str, wrap: Callable[[Callable], Callable]) -> Callable[[], None]:
    """Replace ``cls.name`` by ``wrap(original)``; returns the function that puts the original back."""
    had_own = name in cls.__dict__
    original = cls.__dict__.get(name, getattr(cls, name))
    replacement = wrap(original)
    if not isinstance(replacement, classmethod):
        replacement.__wrapped__ = original
        replacement.__doc__ = getattr(original, "__doc__", None)
    setattr(cls, name, replacement)

    def restore() -> None:
        if had_own:
            setattr(cls, name, original)
        else:
            delattr(cls, name)

    return restore


def missing_attributes(classes: dict[str, type], required: dict[str, Iterable[str]]) -> list[str]:
    """``Class.attribute`` for each attribute in ``required`` that the class named lacks."""
    return [f"{name}.{attr}" for name, attrs in required.items() for attr in attrs if not hasattr(classes[name], attr)]


def use_headless_if_no_display(requested: Any) -> bool:
    """Switch pyglet to headless (EGL) when a renderer asks for ``headless=True`` on a machine
    without a display: Linux, ``DISPLAY`` unset or empty, and pyglet's window platform not chosen
    yet (``pyglet.window`` not imported: pyglet picks Xlib or headless once, at that import).

    Upstream renderers import ``pyglet.graphics`` (which opens the X display for pyglet's shadow
    window) before they read their ``headless`` argument, so without this they raise
    ``NoSuchDisplayException`` there. Where a display exists, or ``requested`` is False or None
    (pyglet's own option decides), nothing changes: real windows still open. Once switched, every
    later pyglet window of the process is headless too (none could open without a display).
    Returns whether it switched. Main thread, before the renderer's ``__init__`` runs.
    """
    if requested is not True or not sys.platform.startswith("linux") or os.environ.get("DISPLAY"):
        return False
    if "pyglet.window" in sys.modules:
        return False
    import pyglet  # noqa: PLC0415

    if pyglet.options.get("headless"):
        return False
    pyglet.options["headless"] = True
    return True


def headless_without_display(init: Callable) -> Callable:
    """``init`` (an upstream renderer's ``__init__`` with a ``headless`` argument) preceded by
    :func:`use_headless_if_no_display` with the ``headless`` value it was called with."""
    signature = inspect.signature(init)

    def __init__(self, *args, **kwargs):
        try:
            requested = signature.bind(self, *args, **kwargs).arguments.get("headless")
        except TypeError:  # a wrong call: upstream's __init__ reports it
            requested = None
        use_headless_if_no_display(requested)
        init(self, *args, **kwargs)

    return __init__
