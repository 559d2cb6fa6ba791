"""Weak-reference registry that releases each tracked owner exactly once: on close, after collection, or at exit.

The registry knows nothing of GL. An owner is any object that holds resources needing an
orderly release; it is tracked with a release action and an opaque *context* key. What a
context key means, how to make one current and how to flush work queued for it is told to the
registry by a :class:`ContextHooks` object (the GL layer installs one; without it contexts are
plain labels).

Guarantees, modelled on :class:`weakref.finalize`:

* Tracking never keeps an owner alive.
* Each owner is released **exactly once**, by whichever comes first of :meth:`Tracked.close`,
  garbage collection of the owner, or the exit hook. The other paths then do nothing.
* The exit hook, registered with :mod:`atexit` when this module is imported, releases every
  still-live owner in **reverse creation order**, each with its own context made current, while
  the import system and the contexts are intact; then it flushes every context's deferred work.
  It is re-armed whenever a new context first appears, so that it runs before the exit hooks of
  libraries imported later (``atexit`` runs the newest hook first).
* A release action called for garbage collection (``Reason.GC``) runs inside a finalizer, on
  whatever thread the collector runs: it must not touch a graphics API, import or block; it can
  only hand work to a deferred queue. Close and exit releases run with the context current.
* A release that raises is logged once (logger ``warp_gl_lifecycle``) and does not stop others.
* An owner released by collection or at exit rather than by ``close()`` gets a
  :class:`ResourceWarning` (shown under ``python -X dev``), as an unclosed file does.
"""

from __future__ import annotations

import _thread
import atexit
import enum
import gc
import itertools
import logging
import os
import threading
import tracemalloc as _tracemalloc
import warnings
import weakref
from contextlib import nullcontext
from typing import Any, Callable, ContextManager, Protocol

__all__ = [
    "ContextHooks",
    "Reason",
    "Registry",
    "Managed",
    "Tracked",
    "live",
    "managed",
    "registry",
    "release_all",
    "pending",
    "run_deferred",
    "stats",
    "track",
]

logger = logging.getLogger("warp_gl_lifecycle")
_new_ref = weakref.ref.__new__
_get_ident = _thread.get_ident
_is_tracing = _tracemalloc.is_tracing


class Reason(enum.Enum):
    """Why an owner is being released."""

    CLOSE = "close"
    GC = "gc"
    EXIT = "exit"


class ContextHooks(Protocol):
    """What the registry asks of the layer that knows what a context key is.

    Both are called on the main thread only.
    """

    def activate(self, context: Any) -> ContextManager[Any]:
        """Make ``context`` current for the body of the ``with``; restore what was current after."""

    def flush(self, context: Any) -> None:
        """Run the work deferred for ``context`` (e.g. names queued by collected owners)."""


_CLOSE, _GC, _EXIT = Reason.CLOSE, Reason.GC, Reason.EXIT


class _NoHooks:
    def activate(self, context: Any) -> ContextManager[Any]:
        return nullcontext()

    def flush(self, context: Any) -> None:
        pass


class Tracked(weakref.ref):
    """The registry's record of one owner: a weak reference plus what releasing it needs.

    Returned by :func:`track`. ``close()`` releases the owner now (exactly once); ``alive`` tells
    whether it is still tracked. The record never refers to the owner strongly, except while a
    collected owner of a :func:`managed` class waits for its deferred release.
    """

    __slots__ = ("seq", "release", "context", "kind", "name", "warn", "allocated", "_registry", "__weakref__")

    @property
    def description(self) -> str:
        """``kind 'name'``, or ``kind #seq`` for an unnamed owner (kind: given, or the class name)."""
        kind = self.kind if isinstance(self.kind, str) else self.kind.__name__
        return f"{kind} {self.name!r}" if self.name is not None else f"{kind} #{self.seq}"

    @property
    def alive(self) -> bool:
        """True until the owner has been claimed for release by any path."""
        return self.seq in self._registry._entries

    def close(self) -> bool:
        """Release the owner now, with its context current. Returns False if it was already released.

        Meant for the main thread. From another thread no graphics call may be made, so the
        release is handed to the deferred queue (``Reason.GC`` semantics) and completes at the
        next :func:`run_deferred` on the main thread, or at exit.
        """
        return self._registry._close(self)

    def detach(self) -> bool:
        """Stop tracking without releasing. Returns False if it was already released or detached."""
        return self._registry._entries.pop(self.seq, None) is not None

    def __repr__(self) -> str:
        state = "live" if self.alive else "released"
        return f"<Tracked {self.description} ({state})>"


class _ManagedTracked(Tracked):
    """Record of an instance of a :func:`managed` class: its release runs the class's own bodies,
    so it needs the instance, and collection is signalled by the class's ``__del__``."""

    __slots__ = ()


class Registry:
    """Live owners, by creation order. Most code uses the module-level :data:`registry`."""

    def __init__(self) -> None:
        self._entries: dict[int, Tracked] = {}
        self._counter = itertools.count(1)
        self._created = 0
        # Owners claimed off the main thread or by a managed __del__, waiting for a safe point:
        # (record, owner or None, what to count it as). Appended from finalizers; drained below.
        self._deferred: list[tuple[Tracked, Any, str]] = []
        self._contexts: list[Any] = []
        self._hooks: ContextHooks = _NoHooks()
        self._exiting = False
        self._warn_now = True
        self._debug_now = False
        self._main_thread = threading.main_thread()
        self._main_ident = self._main_thread.ident
        self._counts = {"close": 0, "gc": 0, "exit": 0, "errors": 0}

    # -- public ---------------------------------------------------------------------------------

    def track(
        self,
        owner: Any,
        release: Callable[[Reason], None],
        *,
        context: Any = None,
        kind: str | None = None,
        name: str | None = None,
        warn: bool = True,
    ) -> Tracked:
        """Track ``owner``; ``release(reason)`` will be called exactly once.

        ``release`` must not refer to ``owner`` (or the owner would never be collected). With
        ``Reason.GC`` it runs inside a finalizer or on a foreign thread and may only queue work;
        with ``CLOSE``/``EXIT`` it runs on the main thread with ``context`` current. ``context``
        is an opaque key naming where the owner's resources live; ``kind`` and ``name`` describe
        the owner in :func:`live`, logs and warnings. Thread-safe.
        """
        if not callable(release):
            raise TypeError(f"release must be callable, got {type(release).__name__}")
        return self._add(Tracked, owner, self._collected, release, context, kind, name, warn)

    def live(self) -> list[Tracked]:
        """The owners still tracked, oldest first."""
        return sorted(self._entries.values(), key=_seq)

    def stats(self) -> dict[str, int]:
        """Counts: ``tracked`` now, ``created`` in all, ``released_close``/``_gc``/``_exit``,
        ``pending`` deferred releases, release ``errors``."""
        c = self._counts
        return {
            "tracked": len(self._entries),
            "created": self._created,
            "released_close": c["close"],
            "released_gc": c["gc"],
            "released_exit": c["exit"],
            "pending": len(self._deferred),
            "errors": c["errors"],
        }

    def release_all(self) -> int:
        """Release every live owner and every deferred one, newest first, then flush each context.

        This is what the exit hook does; call it on the main thread. Returns how many were released.
        """
        # As weakref.finalize's exit function does: no collection while we release (a collection
        # would only find owners we hold anyway, and costs a pass over every live object).
        collecting = gc.isenabled()
        gc.disable()
        try:
            return self._release_all()
        finally:
            if collecting:
                gc.enable()

    def _release_all(self) -> int:
        deferred = self._take_deferred()
        pop = self._entries.pop
        claimed = []
        for t in list(self._entries.values()):  # insertion order is creation order
            # Only a managed owner's cleanup needs the owner itself (held until it has run).
            owner = t() if t.__class__ is _ManagedTracked else None
            if pop(t.seq, None) is not None:  # the claim: whoever pops an entry releases it
                claimed.append((t, owner, "exit"))
        claimed.reverse()
        if deferred:
            claimed = sorted(claimed + deferred, key=_newest_first)
        self._warn_now = _resource_warnings_shown(claimed)
        self._debug_now = logger.isEnabledFor(logging.DEBUG)
        self._run_in_order(claimed, None)
        for context in reversed(self._live_contexts()):
            self._flush(context)
        return len(claimed)

    def run_deferred(self) -> int:
        """A safe point: run deferred releases, oldest first, then flush each context's queue.

        Call on the main thread, e.g. between frames; elsewhere it does nothing. Returns how
        many deferred releases ran.
        """
        if threading.current_thread() is not self._main_thread:
            return 0
        claimed = self._take_deferred()
        self._warn_now = _resource_warnings_shown(claimed)
        self._debug_now = logger.isEnabledFor(logging.DEBUG)
        self._run_in_order(claimed, _GC)
        for context in self._live_contexts():
            self._flush(context)
        return len(claimed)

    def pending(self) -> int:
        """How many releases wait for the next :meth:`run_deferred`."""
        return len(self._deferred)

    def use_hooks(self, hooks: ContextHooks) -> None:
        """Install the layer that activates and flushes contexts."""
        self._hooks = hooks

    def contexts(self) -> list[Any]:
        """Context keys seen so far that are still alive, in order of first appearance."""
        return self._live_contexts()

    # -- internals ------------------------------------------------------------------------------

    def _add(self, record_type, owner, callback, release, context, kind, name, warn) -> Tracked:
        # The hot path of track(): weakref.ref.__new__ directly (no Python-level __init__).
        t = _new_ref(record_type, owner, callback)
        t.seq = self._created = seq = next(self._counter)
        t.release = release
        t.context = context
        t.kind = kind if kind is not None else owner.__class__  # named on first use
        t.name = name
        t.warn = warn
        t.allocated = _allocation_site(owner) if _is_tracing() else None
        t._registry = self
        self._entries[seq] = t
        if context is not None and not any(ref() is context for ref in self._contexts):
            self._new_context(context)
        return t

    def _new_context(self, context) -> None:
        try:
            ref = weakref.ref(context)
        except TypeError:
            ref = _Strong(context)
        self._contexts.append(ref)
        # Re-arm: atexit runs the newest hook first, so stay newer than anything that tears down
        # the contexts we just learned about.
        atexit.unregister(self._exit_hook)
        atexit.register(self._exit_hook)

    def _live_contexts(self) -> list[Any]:
        self._contexts = [ref for ref in self._contexts if ref() is not None]
        return [ref() for ref in self._contexts]

    def _take_deferred(self) -> list[tuple[Tracked, Any, str]]:
        # Finalizers may append while we read: take a counted slice, as pyglet does for its lists.
        count = len(self._deferred)
        taken = self._deferred[:count]
        del self._deferred[:count]
        return taken

    def _close(self, t: Tracked) -> bool:
        owner = t()
        if self._entries.pop(t.seq, None) is None:
            return False
        if _get_ident() != self._main_ident:
            if t.__class__ is _ManagedTracked:
                self._deferred.append((t, owner, "close"))
            else:
                self._run_in_finalizer(t, "close")
        elif t.context is None and t.__class__ is Tracked:  # the hot path of track() + close()
            release, t.release = t.release, _released
            try:
                release(_CLOSE)
            except Exception as exc:  # noqa: BLE001
                self._counts["errors"] += 1
                _log_failure(t, _CLOSE, exc)
            else:
                self._counts["close"] += 1
        else:
            self._run(t, _CLOSE, owner, "close")
        return True

    def _collected(self, t: Tracked) -> None:
        # Weak-reference callback: runs inside the collector, on any thread, possibly during
        # interpreter teardown. No import and no graphics call here; see _run_in_finalizer.
        if self._entries.pop(t.seq, None) is not None:
            self._run_in_finalizer(t, "gc")

    def _run_in_finalizer(self, t: Tracked, label: str) -> None:
        """Release with ``Reason.GC``, without activating a context (finalizer or foreign thread)."""
        try:
            t.release(Reason.GC)
        except BaseException as exc:  # noqa: BLE001 - a finalizer must not raise
            self._counts["errors"] += 1
            if not self._exiting:
                _log_failure(t, Reason.GC, exc)
        else:
            self._counts[label] += 1
            if t.warn and label == "gc" and not self._exiting:
                _warn_unclosed(t, Reason.GC)
        t.release = _released

    def _run(self, t: Tracked, reason: Reason, owner: Any, label: str) -> None:
        """Release one owner on the main thread with its context current."""
        if t.context is None:
            self._invoke(t, reason, owner, label)
            return
        try:
            activation = self._hooks.activate(t.context)
            activation.__enter__()
        except Exception as exc:  # noqa: BLE001
            self._activation_failed(t, exc)
            activation = None
        try:
            self._invoke(t, reason, owner, label)
        finally:
            if activation is not None:
                activation.__exit__(None, None, None)

    def _run_in_order(self, claimed: list[tuple[Tracked, Any, str]], reason: Reason | None) -> None:
        """Release each claimed owner in list order; a context stays current across consecutive
        owners of that context (one switch per run of them, not one per owner)."""
        active, activation = None, None
        try:
            for t, owner, label in claimed:
                if t.context is not active:
                    if activation is not None:
                        activation.__exit__(None, None, None)
                    active, activation = t.context, None
                    if active is not None:
                        try:
                            activation = self._hooks.activate(active)
                            activation.__enter__()
                        except Exception as exc:  # noqa: BLE001
                            self._activation_failed(t, exc)
                            activation = None
                self._invoke(t, reason or (_EXIT if label == "exit" else _GC), owner, label)
                if t.__class__ is _ManagedTracked and activation is not None:
                    # A class's own cleanup may switch contexts: activate afresh for the next owner.
                    activation.__exit__(None, None, None)
                    active, activation = None, None
        finally:
            if activation is not None:
                activation.__exit__(None, None, None)

    def _activation_failed(self, t: Tracked, exc: Exception) -> None:
        self._counts["errors"] += 1
        logger.warning("making the context of %s current failed: %s: %s", t.description, type(exc).__name__, exc)

    def _invoke(self, t: Tracked, reason: Reason, owner: Any, label: str) -> None:
        """Call the release action once (its context already current) and account for it."""
        release, t.release = t.release, _released
        if t.__class__ is _ManagedTracked:  # its cleanup needs the owner itself
            if owner is None:
                return
            argument = owner
        else:
            argument = reason
        try:
            release(argument)
        except Exception as exc:  # noqa: BLE001 - one failure must not stop the others
            self._counts["errors"] += 1
            _log_failure(t, reason, exc)
            return
        self._counts[label] += 1
        if label != "close":
            if self._debug_now:
                logger.debug("released %s (%s)", t.description, label)
            if t.warn and self._warn_now:
                _warn_unclosed(t, reason)

    def _flush(self, context) -> None:
        try:
            self._hooks.flush(context)
        except Exception as exc:  # noqa: BLE001
            self._counts["errors"] += 1
            logger.warning("flushing deferred work for %r failed: %s", context, exc)

    def _forget_after_fork(self) -> None:
        """In a forked child: the parent's owners (and contexts) are the parent's to release.

        The child's copies are forgotten without releasing anything; what the child creates
        is tracked as usual.
        """
        self._entries = {}
        self._deferred = []
        self._contexts = []
        self._main_thread = threading.main_thread()
        self._main_ident = _get_ident()

    def _exit_hook(self) -> None:
        self._exiting = True
        self.release_all()

    # -- managed classes ------------------------------------------------------------------------

    def _track_managed(self, owner, release, context, kind) -> Tracked:
        return self._add(_ManagedTracked, owner, None, release, context, kind, None, True)

    def _set_context(self, t: Tracked, context: Any) -> None:
        """The owner's resources turned out to live in ``context`` (known only after it was built)."""
        t.context = context
        if context is not None and not any(ref() is context for ref in self._contexts):
            self._new_context(context)

    def _defer_collected(self, t: Tracked, owner: Any) -> None:
        """From a managed owner's ``__del__``: keep the owner until the main thread releases it."""
        if self._entries.pop(t.seq, None) is not None:
            self._deferred.append((t, owner, "gc"))  # resurrects the owner until then


class _Strong:
    """Stands in for a weak reference to a context key that cannot be weakly referenced."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value

    def __call__(self):
        return self.value


def _seq(t: Tracked) -> int:
    return t.seq


def _newest_first(item: tuple) -> int:
    return -item[0].seq


def _released(*_args) -> None:
    """Release action of an owner that has been released: does nothing."""


def _log_failure(t: Tracked, reason: Reason, exc: BaseException) -> None:
    logger.warning("releasing %s (%s) failed: %s: %s", t.description, reason.value, type(exc).__name__, exc)


def _resource_warnings_shown(claimed: list | None = None) -> bool:
    """Whether the current filters could show our ResourceWarning: one check for a whole batch.

    Mirrors how :mod:`warnings` picks the first matching filter, judged on the message of the
    batch's first owner (messages differ only in the owner's kind and name). By default,
    outside ``-X dev``, ResourceWarning is ignored and the batch skips ``warnings.warn``.
    """
    sample = f"unclosed {claimed[0][0].description}, released at exit" if claimed else "unclosed"
    for action, message, category, module, lineno in warnings.filters:
        if not issubclass(ResourceWarning, category):
            continue
        if message is not None and not message.match(sample):
            continue
        if module is not None and not module.match(__name__):
            continue
        if lineno:
            return True  # a filter for one line: let warnings decide, owner by owner
        return action != "ignore"
    return True


def _allocation_site(owner: Any) -> Any:
    """Where ``owner`` was allocated (tracemalloc is tracing): tracemalloc's own record, or the
    current stack when tracemalloc has none for it (as for instances with inline dicts)."""
    site = _tracemalloc.get_object_traceback(owner)
    if site is None:
        import traceback  # noqa: PLC0415 - only while tracemalloc is tracing

        site = traceback.StackSummary.extract(
            traceback.walk_stack(None), limit=_tracemalloc.get_traceback_limit() + 3
        )
        site.reverse()
    return site


def _warn_unclosed(t: Tracked, reason: Reason) -> None:
    """``ResourceWarning: unclosed ...``, with where the owner was allocated when tracemalloc
    was tracing at the time (as Python does for unclosed files and asyncio in debug mode)."""
    when = "at exit" if reason is Reason.EXIT else "by garbage collection"
    message = f"unclosed {t.description}, released {when}"
    if t.allocated is not None:
        lines = (line.rstrip("\n") for line in t.allocated.format())
        message += "\nObject allocated at (most recent call last):\n" + "\n".join(lines)
    try:
        warnings.warn(message, ResourceWarning, stacklevel=2)
    except Exception:  # noqa: BLE001 - e.g. -W error::ResourceWarning inside a finalizer
        pass


class _ManagedRelease:
    """Release action of a :func:`managed` class: a given cleanup, or the class's original
    ``close`` body then its ``__del__`` body."""

    __slots__ = ("bodies",)

    def __init__(self, *bodies):
        self.bodies = [body for body in bodies if body is not None]

    def __call__(self, owner: Any) -> None:
        for body in self.bodies:
            body(owner)


class Managed:
    """What :func:`managed` did to one class: lets instances made before be adopted, and undoes it."""

    def __init__(self, cls: type, registry: Registry, context, kind: str, release) -> None:
        self.cls = cls
        self.registry = registry
        self.context = context
        self.kind = kind
        self.originals = {name: cls.__dict__[name] for name in ("__init__", "close", "__del__") if name in cls.__dict__}
        original_close = _unwrapped(getattr(cls, "close", None))
        original_del = _unwrapped(getattr(cls, "__del__", None))
        self.release = _ManagedRelease(release) if release is not None else _ManagedRelease(original_close, original_del)
        self._patch(cls.__init__, original_close)

    def adopt(self, instance: Any) -> Tracked:
        """Track an instance created before the class was managed (idempotent)."""
        t = instance.__dict__.get("_wgl_tracked")
        if t is None:
            t = self.registry._track_managed(instance, self.release, None, self.kind)
            instance._wgl_tracked = t
            self._bind_context(instance, t)
        return t

    def restore(self) -> None:
        """Put the class's own methods back; instances tracked so far stay tracked."""
        for name in ("__init__", "close", "__del__"):
            if name in self.originals:
                setattr(self.cls, name, self.originals[name])
            elif name in self.cls.__dict__:
                delattr(self.cls, name)
        del self.cls._wgl_managed

    def _bind_context(self, instance, t: Tracked) -> None:
        if self.context is not None:
            self.registry._set_context(t, self.context(instance))

    def _patch(self, original_init, original_close) -> None:
        manager = self

        def __init__(self, *args, **kwargs):
            if self.__dict__.get("_wgl_tracked") is not None:  # a managed base class's __init__ again
                return original_init(self, *args, **kwargs)
            # Tracked before its body runs, so that what it creates is newer and released first.
            t = self._wgl_tracked = manager.registry._track_managed(self, manager.release, None, manager.kind)
            try:
                original_init(self, *args, **kwargs)
            except BaseException:
                t.detach()
                raise
            manager._bind_context(self, t)

        def close(self):
            t = self.__dict__.get("_wgl_tracked")
            if t is None:  # never tracked: behave as the original
                return original_close(self) if original_close is not None else None
            t.close()
            return None

        def __del__(self):
            t = self.__dict__.get("_wgl_tracked")
            if t is not None:
                t._registry._defer_collected(t, self)

        __init__.__wrapped__ = original_init
        close.__wrapped__ = original_close
        __del__.__wrapped__ = _unwrapped(getattr(self.cls, "__del__", None))
        for function in (__init__, close, __del__):
            function.__doc__ = getattr(function.__wrapped__, "__doc__", None)
        self.cls.__init__ = __init__
        self.cls.close = close
        self.cls.__del__ = __del__
        self.cls._wgl_managed = self


def managed(
    cls: type | None = None,
    *,
    registry: Registry | None = None,
    context: Callable[[Any], Any] | None = None,
    kind: str | None = None,
    release: Callable[[Any], None] | None = None,
) -> Any:
    """Make a class written in the legacy style (cleanup in ``close()``/``__del__``) release safely.

    Works as ``@managed`` on a class you own and as ``managed(SomeClass)`` on one you do not
    (the class is patched in place and returned). Each instance is tracked from the start of its
    ``__init__`` (so what it creates is newer and released first). Its cleanup, ``release(instance)``
    if given, else the original ``close()`` body then the original ``__del__`` body, runs **at most
    once**, at the first of: an explicit ``close()`` (main thread, context current), the exit hook
    (main thread, context current, before interpreter teardown), or collection. On collection the
    cleanup does not run inside ``__del__``: the instance is kept and released at the next
    :func:`run_deferred` (a safe point on the main thread) or at exit. After release the class's
    ``__del__`` is a no-op. ``context(instance)`` gives the instance's context key, evaluated once,
    after ``__init__`` (default: none). ``SomeClass._wgl_managed`` is the :class:`Managed` record
    (``adopt(instance)``, ``restore()``). Applying ``managed`` twice is harmless.
    """
    if cls is None:
        return lambda c: managed(c, registry=registry, context=context, kind=kind, release=release)
    if not isinstance(cls, type):
        raise TypeError(f"managed() expects a class, got {type(cls).__name__}")
    if "_wgl_managed" not in cls.__dict__:
        Managed(cls, registry if registry is not None else _default, context, kind or cls.__name__, release)
    return cls


def _unwrapped(method):
    """The original behind a method that ``managed`` patched on a base class."""
    while method is not None and getattr(method, "__qualname__", "").startswith("Managed._patch.<locals>"):
        method = method.__wrapped__
    return method


#: The process-wide registry used by the module-level functions and the exit hook.
registry = _default = Registry()
atexit.register(_default._exit_hook)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_default._forget_after_fork)

track = _default.track
live = _default.live
stats = _default.stats
release_all = _default.release_all
run_deferred = _default.run_deferred
pending = _default.pending
