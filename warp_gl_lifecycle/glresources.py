"""The GL names one owner holds, deleted where they live: in their pyglet context or object space.

Vertex arrays and framebuffers belong to the one context that made them and die with it.
Buffers, textures, renderbuffers and programs belong to the *object space* that pyglet's sharing
contexts (and its hidden shadow window) have in common: they outlive the window that made them
and must be deleted through some live context of that space, or they leak.

pyglet already keeps the books for this: ``Context.delete_buffer``/``delete_vao``/... delete now
when that is safe (main thread, right context current) and otherwise queue the name on the
context's or object space's ``doomed_*`` list, which ``Context.set_current()`` drains. This module
uses exactly that, plus :class:`PygletContexts`, the registry's hooks for making a context (or,
once it is destroyed, a live sibling of its object space) current.

This module knows nothing of Warp: CUDA-GL registrations are given to it as plain undo callables.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from typing import Any, Callable, ContextManager, Iterator

try:
    from pyglet import gl
except ImportError as exc:  # pragma: no cover - exercised by a subprocess test
    raise ImportError(
        "warp_gl_lifecycle needs pyglet for anything that touches OpenGL: pip install 'pyglet>=2'"
    ) from exc

from pyglet.gl.base import Context

from .registry import Reason, logger, registry

__all__ = ["GLResources", "PygletContexts", "current_context", "flush", "is_alive", "live_names", "stand_in"]

_MAIN_IDENT = threading.main_thread().ident
_get_ident = threading.get_ident

# Contexts whose doomed lists a collected owner appended to since the last flush. Appended from
# finalizers (a set add is atomic); read and cleared on the main thread only.
_dirty: set[Any] = set()


def current_context() -> Any:
    """The current pyglet context; ``RuntimeError`` when there is none."""
    context = gl.current_context
    if context is None:
        raise RuntimeError("no current GL context: create a pyglet window (or a renderer) first")
    return context


def is_alive(context: Any) -> bool:
    """True while ``context`` can still be made current (its window has not been closed)."""
    return context is not None and context.canvas is not None


class GLResources:
    """The GL names one owner holds, with the pyglet context that created them.

    Create it with the owning context current (or pass ``context``); record each name as it is
    generated. :meth:`release` is the registry release action: call it exactly once.

    * ``CLOSE`` (main thread; the registry has made the owning context, or a live sibling of its
      object space, current): undo CUDA-GL registrations, then delete every name now, one call
      per kind, as pyglet's ``Context.delete_*`` would name by name; what cannot be deleted from
      the current context goes to pyglet's queues. After ``close()`` the names are gone.
    * ``EXIT`` (main thread, context current): undo registrations, delete owned programs, queue
      the other names on pyglet's ``doomed_*`` lists; the exit hook then flushes each context
      once, after every owner is released.
    * ``GC`` (inside a finalizer, any thread): undo CUDA-GL registrations (a CUDA call), then
      append the names to pyglet's ``doomed_*`` lists. No GL call and no import; the names are
      deleted on the main thread the next time their context is made current (a safe point, or
      exit).
    """

    __slots__ = ("context", "buffers", "textures", "renderbuffers", "vaos", "framebuffers", "programs", "interop",
                 "released", "_lock")

    def __init__(self, context: Any = None) -> None:
        self.context = context if context is not None else current_context()
        #: True once :meth:`release` ran. A name recorded after that (the owner was closed on
        #: another thread while the main thread was making it) is queued for deletion at once.
        self.released = False
        # Recording and releasing exclude each other: a release may come from a worker thread,
        # or from a finalizer on this very thread (hence re-entrant).
        self._lock = threading.RLock()
        self.buffers: list[int] = []
        self.textures: list[int] = []
        self.renderbuffers: list[int] = []
        self.vaos: list[int] = []
        self.framebuffers: list[int] = []
        self.programs: list[Any] = []  # pyglet ShaderProgram objects this owner created
        self.interop: list[Callable[[], None]] = []  # CUDA-GL registrations to undo first

    # -- creation (main thread, owning context current) ------------------------------------------

    def gen_buffer(self) -> int:
        """A new buffer name, held from now on. ``RuntimeError`` (the name already queued for
        deletion) when the resources were released meanwhile."""
        name = gl.GLuint()
        gl.glGenBuffers(1, name)
        return self._hold("buffers", name.value)

    def gen_vao(self) -> int:
        """A new vertex array name, held from now on; as :meth:`gen_buffer`."""
        name = gl.GLuint()
        gl.glGenVertexArrays(1, name)
        return self._hold("vaos", name.value)

    def _hold(self, kind: str, name: int) -> int:
        with self._lock:
            getattr(self, kind).append(name)
            if self.released:
                self._queue()
                raise RuntimeError("the owner of these GL names was closed (on another thread) while they were made")
        return name

    def delete_buffer(self, name: int) -> None:
        """Stop holding one buffer (replaced before release) and delete it through pyglet's
        ``Context.delete_buffer``: now when that is safe, else at the next safe point."""
        with self._lock:
            if name not in self.buffers:  # released meanwhile: already deleted or queued
                return
            self.buffers.remove(name)
        self.context.delete_buffer(name)
        _dirty.add(self.context)

    def names(self) -> dict[str, list[int]]:
        """The integer names held, by kind (a copy)."""
        return {
            "buffers": list(self.buffers),
            "textures": list(self.textures),
            "renderbuffers": list(self.renderbuffers),
            "vaos": list(self.vaos),
            "framebuffers": list(self.framebuffers),
            "programs": [p.id for p in self.programs if p.id is not None],
        }

    def forget_interop(self, undo: Callable[[], None]) -> None:
        """Run ``undo`` now and stop holding it (a registration replaced before release)."""
        if undo in self.interop:
            self.interop.remove(undo)
        undo()

    # -- release --------------------------------------------------------------------------------

    def release(self, reason: Reason) -> None:
        """Undo interop, then delete (``CLOSE``) or queue (``EXIT``, ``GC``) every name. Once only.

        At exit the names go to pyglet's per-context queues too: the exit hook flushes each
        context once all owners are released, which deletes them in one call per kind.
        """
        with self._lock:
            self.released = True
            self._release(reason)

    def _release(self, reason: Reason) -> None:
        if self.interop:
            self._undo_interop(reason)
        if reason is Reason.GC or _get_ident() != _MAIN_IDENT or gl.current_context is None:
            self._queue()
        elif reason is Reason.CLOSE:
            self._delete_now()
        else:
            if self.programs and gl.current_context.object_space is self.context.object_space:
                self._delete_programs()  # at exit, with their space current: now
            self._queue()

    def _undo_interop(self, reason: Reason) -> None:
        interop, self.interop = self.interop, []
        if reason is not Reason.GC:
            logger.debug("undoing %d CUDA-GL registrations of context %#x", len(interop), id(self.context))
        for undo in reversed(interop):
            try:
                undo()
            except Exception as exc:  # noqa: BLE001 - the GL names must still go
                if reason is not Reason.GC:
                    logger.warning("undoing a CUDA-GL registration failed: %s", exc)

    def _delete_now(self) -> None:
        """Delete what the current context can delete, one call per kind (as pyglet's
        ``Context.delete_*`` would name by name); queue the rest with :meth:`_queue`."""
        context, current = self.context, gl.current_context
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug("deleting GL names of context %#x with context %#x current", id(context), id(current))
        if current.object_space is context.object_space:
            self._delete_programs()
            _delete(self.buffers, gl.glDeleteBuffers)
            _delete(self.textures, gl.glDeleteTextures)
            _delete(self.renderbuffers, gl.glDeleteRenderbuffers)
            if current is context:
                _delete(self.vaos, gl.glDeleteVertexArrays)
                _delete(self.framebuffers, gl.glDeleteFramebuffers)
        if self.buffers or self.textures or self.renderbuffers or self.vaos or self.framebuffers or self.programs:
            self._queue()  # on pyglet's lists: deleted when their context (or space) is current again

    def _delete_programs(self) -> None:
        """Delete owned programs now (a context of their object space is current)."""
        if not self.programs:
            return
        gl.glUseProgram(0)  # a program still in use is only flagged for deletion
        for program in self.programs:
            if program.id is not None:
                program.delete()
        self.programs = []

    def _queue(self) -> None:
        """Hand every name to pyglet's doomed lists (list appends only: safe in a finalizer).

        Unrolled by kind on purpose: this runs once per owner at exit, and a loop over
        attribute names costs more than the rest of the release.
        """
        context = self.context
        space = context.object_space
        if self.buffers:
            space.doomed_buffers += self.buffers
            self.buffers = []
        if self.vaos:
            context.doomed_vaos += self.vaos
            self.vaos = []
        if self.textures:
            space.doomed_textures += self.textures
            self.textures = []
        if self.renderbuffers:
            space.doomed_renderbuffers += self.renderbuffers
            self.renderbuffers = []
        if self.framebuffers:
            context.doomed_framebuffers += self.framebuffers
            self.framebuffers = []
        if self.programs:
            for program in self.programs:
                if program.id is not None:
                    space.doomed_shader_programs.append(program.id)
                    program._id = None  # as ShaderProgram.delete() leaves it: its __del__ does nothing
            self.programs = []
        _dirty.add(context)


def _delete(names: list[int], delete: Callable[[int, Any], None]) -> None:
    """One ``glDelete*(count, names)`` call for a list of names, then empty the list."""
    count = len(names)
    if count == 1:
        delete(1, gl.GLuint(names[0]))
    elif count:
        array_type = _ARRAY_TYPES.get(count) or _ARRAY_TYPES.setdefault(count, gl.GLuint * count)
        delete(count, array_type(*names))
    names.clear()


_ARRAY_TYPES: dict[int, Any] = {}


def _has_doomed(context: Any) -> bool:
    space = context.object_space
    return bool(
        context.doomed_vaos
        or context.doomed_framebuffers
        or space.doomed_buffers
        or space.doomed_textures
        or space.doomed_shader_programs
        or space.doomed_shaders
        or space.doomed_renderbuffers
    )


class PygletContexts:
    """The registry's hooks for pyglet contexts (main thread only)."""

    def _stand_in(self, context: Any) -> Any:
        """``context`` if alive, else a live context of the same object space, else None."""
        if is_alive(context):
            return context
        space = context.object_space
        candidates = [gl.current_context, getattr(gl._shadow_window, "context", None), *registry.contexts()]
        for other in candidates:
            if is_alive(other) and other.object_space is space:
                return other
        return None

    def activate(self, context: Any) -> ContextManager[Any]:
        """Make ``context`` (or a live sibling of its object space) current; restore after.

        Yields the context made current, or None when nothing of its object space is alive (its
        names died with it). A key that is not a pyglet context is a plain label: nothing to do,
        and the label itself is yielded (it counts as current: what is released under it runs).
        """
        if context is gl.current_context and context.canvas is not None:
            return contextlib.nullcontext(context)  # nothing to switch: the common case
        if not isinstance(context, Context):
            return contextlib.nullcontext(context)
        return self._switched(context)

    def current(self) -> Any:
        """The current pyglet context (what :meth:`activate` yields when it made one current)."""
        return gl.current_context

    @contextlib.contextmanager
    def _switched(self, context: Any) -> Iterator[Any]:
        previous = gl.current_context
        target = self._stand_in(context)
        if target is not None and target is not previous:
            target.set_current()
        try:
            yield target
        finally:
            if previous is not None and gl.current_context is not previous and is_alive(previous):
                previous.set_current()

    def flush(self, context: Any) -> None:
        """Delete the names queued for ``context`` by making it (or a sibling) current.
        A key that is not a pyglet context has nothing queued."""
        if not isinstance(context, Context):
            return
        _dirty.discard(context)
        if not is_alive(context):  # its vertex arrays and framebuffers died with it
            context.doomed_vaos.clear()
            context.doomed_framebuffers.clear()
        if not _has_doomed(context):
            return
        with self.activate(context) as target:
            if target is not None:
                if logger.isEnabledFor(logging.DEBUG):
                    logger.debug("deleting GL names queued for context %#x with context %#x current",
                                 id(context), id(target))
                target.set_current()  # pyglet's set_current drains the doomed lists


_hooks = PygletContexts()
registry.use_hooks(_hooks)


def _forget_queued_after_fork() -> None:
    """In a forked child: what the parent queued is the parent's (the parent's contexts are
    forgotten by :mod:`.forkguard`, registered at package import)."""
    _dirty.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_queued_after_fork)


def readmit_window(window: Any) -> None:
    """Let ``window.close()`` run from a deferred release: a window collected in a reference
    cycle is still open (its context alive, held by the owner being released) but the collector
    already dropped it from ``pyglet.app.windows``, whose ``remove`` in ``close()`` would raise
    ``KeyError`` and leave the EGL/GLX context undestroyed. Main thread; a no-op otherwise."""
    import pyglet  # noqa: PLC0415

    if window is not None and getattr(window, "_context", None) is not None and window not in pyglet.app.windows:
        pyglet.app.windows.add(window)


def space_is_alive(context: Any) -> bool:
    """True while ``context``, or another live context of its object space, can be made current:
    the shared names (buffers, textures, programs) made there still exist."""
    return _hooks._stand_in(context) is not None


def stand_in(context: Any) -> Any:
    """``context`` while alive, else a live context of its object space (where its shared names
    still exist), else None. Main thread."""
    return _hooks._stand_in(context)


def flush() -> None:
    """A safe point: run deferred releases and delete queued names. Main thread; cheap when idle."""
    if _dirty or registry.pending():
        registry.run_deferred()


def live_names(kind: str, names: Any) -> list[int]:
    """Of ``names``, those that are live GL objects of ``kind`` in the current context's view.

    ``kind`` is one of ``buffer``, ``vao``, ``texture``, ``framebuffer``, ``program``.
    For tests and reports; main thread, a context current.
    """
    check = {
        "buffer": gl.glIsBuffer,
        "vao": gl.glIsVertexArray,
        "texture": gl.glIsTexture,
        "framebuffer": gl.glIsFramebuffer,
        "program": gl.glIsProgram,
        "renderbuffer": gl.glIsRenderbuffer,
    }[kind]
    return [int(n) for n in names if check(int(n))]

