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
* A release that raises is logged once (logger ``warp_gl_lifecycle``) and does not stop others;
  a ``BaseException`` (``SystemExit``, ``KeyboardInterrupt``) is re-raised once the others ran.
* Releases tracking new owners during ``release_all()`` (and the exit hook) have those released too.
* After each release the context is checked; if the release switched away, the next owner's
  context is made current again.
* An owner released by collection or at exit rather than by ``close()`` gets a
  :class:`ResourceWarning` (shown under ``python -X dev``), as an unclosed file does, pointing at
  the user's code; raised as an error it goes to ``sys.unraisablehook``.

The claim protocol: every path (close, the weak-reference callback, a managed ``__del__``, the
exit hook) first removes the owner's entry with one atomic ``dict.pop``; whoever gets it releases.
"""

from __future__ import annotations

import _thread
import atexit
import enum
import functools
import gc
import itertools
import logging
import os
import sys
import threading
import tracemalloc as _tracemalloc
import warnings
import weakref
from contextlib import nullcontext
from typing import Any, Callable, ContextManager, Protocol

from .sites import capture as _capture_site, user_files as _user_files

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
_getframe = sys._getframe


class Reason(enum.Enum):
    """Why an owner is being released."""

    CLOSE = "close"
    GC = "gc"
    EXIT = "exit"


class ContextHooks(Protocol):
    """What the registry asks of the layer that knows what a context key is.

    All three are called on the main thread only. A layer may be handed keys it does not know
    (any object is a valid key): it must treat those as plain labels, with nothing to activate
    and nothing to flush.
    """

    def activate(self, context: Any) -> ContextManager[Any]:
        """Make ``context`` current for the body of the ``with`` and yield what was made current
        (compared with :meth:`current` by identity); restore what was current after."""

    def current(self) -> Any:
        """What is current now. Lets the registry see that a release switched contexts."""

    def flush(self, context: Any) -> None:
        """Run the work deferred for ``context`` (e.g. names queued by collected owners)."""


_CLOSE, _GC, _EXIT = Reason.CLOSE, Reason.GC, Reason.EXIT
#: How many times release_all() goes round when releases track new owners.
_MAX_ROUNDS = 100


class _NoHooks:
    """Contexts as plain labels: nothing to make current, nothing to flush."""

    def activate(self, context: Any) -> ContextManager[Any]:
        return nullcontext(context)

    def flush(self, context: Any) -> None:
        pass


class Tracked(weakref.ref):
    """The registry's record of one owner: a weak reference plus what releasing it needs.

    Returned by :func:`track`. ``close()`` releases the owner now (exactly once); ``alive`` tells
    whether it is still tracked. The record never refers to the owner strongly, except while a
    collected owner of a :func:`managed` class waits for its deferred release.
    """

    # site: where the user's code made the owner, and the upstream owner that made it for itself, if
    # any (see sites; read by diagnostics).
    __slots__ = ("seq", "release", "context", "kind", "name", "warn", "allocated", "site", "_registry", "__weakref__")

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
        next :func:`run_deferred` on the main thread, or at exit. A ``BaseException`` raised by
        the release (``SystemExit``, ``KeyboardInterrupt``) propagates; the owner counts as released.
        """
        return self._registry._close(self)

    def detach(self) -> bool:
        """Stop tracking without releasing. Returns False if it was already released or detached."""
        return self._registry._claim(self)

    def __repr__(self) -> str:
        state = "live" if self.alive else "released"
        return f"<Tracked {self.description} ({state})>"

    def __reduce__(self):
        raise TypeError(f"{self!r} cannot be copied or pickled: it records one live owner")


class _ManagedTracked(Tracked):
    """Record of an instance of a :func:`managed` class: its release runs the class's own bodies,
    so it needs the instance, and collection is signalled by the class's ``__del__``.

    ``running`` is the set of cleanup bodies already run while the instance is being released
    (None otherwise): each body runs once, however the bodies call each other. ``legacy``: the
    bodies are the class's own (they never run with a stand-in for a context that is gone)."""

    __slots__ = ("running", "legacy")


class Registry:
    """Live owners, by creation order. Most code uses the module-level :data:`registry`.

    The claim: whoever removes an owner's entry from ``_entries`` (one atomic ``dict.pop``) is
    the one path that releases it. A managed owner is claimed only together with the instance
    its cleanup needs: a record whose instance is being collected is left for its ``__del__``.
    """

    def __init__(self) -> None:
        self._entries: dict[int, Tracked] = {}
        self._counter = itertools.count(1)
        self._created = 0
        # Owners claimed off the main thread or by a managed __del__, waiting for a safe point:
        # (record, owner or None, what to count it as). Appended from finalizers; drained below.
        self._deferred: list[tuple[Tracked, Any, str]] = []
        # Context keys by id, in order of first appearance: a weak reference, or a _Strong that
        # counts the live owners of a key that cannot be weakly referenced.
        self._contexts: dict[int, Any] = {}
        self._strong_contexts = 0
        self._armed_at = -1  # atexit's hook count just after this registry's hook was (re)registered
        self._hooks: ContextHooks = _NoHooks()
        self._current: Callable[[], Any] | None = None  # the hooks' current(), when they have one
        #: Called with the first context key while no hooks are installed: the package sets it to
        #: load the GL layer when that key is a pyglet context (the registry knows nothing of GL).
        self.hooks_loader: Callable[[Any], None] | None = None
        self._exiting = False
        self._warn_now = True
        self._debug_now = False
        self._main_thread = threading.main_thread()
        self._main_ident = self._main_thread.ident
        self._counts = {"close": 0, "gc": 0, "exit": 0, "errors": 0}
        self._on_collected = self._collected  # bound once: track() is the hot path

    # -- public ---------------------------------------------------------------------------------

    def track(
        self,
        owner: Any,
        release: Callable[[Reason], None],
        *,
        context: Any = None,
        kind: str | type | None = None,
        name: str | None = None,
        warn: bool = True,
    ) -> Tracked:
        """Track ``owner``; ``release(reason)`` will be called exactly once.

        ``release`` must not refer to ``owner`` (or the owner would never be collected). With
        ``Reason.GC`` it runs inside a finalizer or on a foreign thread and may only queue work;
        with ``CLOSE``/``EXIT`` it runs on the main thread with ``context`` current. ``context``
        is an opaque key naming where the owner's resources live (a key that cannot be weakly
        referenced is remembered only while an owner uses it); ``kind`` (a str or a class) and
        ``name`` (a str) describe the owner in :func:`live`, logs and warnings; ``warn`` (a bool)
        asks for a ``ResourceWarning`` when it is released unclosed. Bad arguments raise
        ``TypeError``/``ValueError`` before anything is tracked. Thread-safe.
        """
        if not callable(release):
            raise TypeError(f"release must be callable, got {type(release).__name__}")
        if kind is not None or name is not None or warn.__class__ is not bool:  # the common call skips the checks
            _check_description(kind, name, warn)
        # What _add() does, inline (one call less: recording the creation site costs about that).
        t = _new_ref(Tracked, owner, self._on_collected)
        t.seq = self._created = seq = next(self._counter)
        t.release = release
        t.context = context
        t.kind = kind if kind is not None else owner.__class__  # named on first use
        t.name = name
        t.warn = warn
        t.allocated = _allocation_site(owner) if _is_tracing() else None
        frame = _getframe(1)  # where the owner was made (see sites): the caller's line, or outwards from it
        code = frame.f_code
        t.site = (code, frame.f_lasti) if code.co_filename in _user_files else _capture_site(frame, _record_of)
        t._registry = self
        if context is not None:
            self._use_context(context)
        self._entries[seq] = t
        return t

    def live(self) -> list[Tracked]:
        """The owners still tracked, oldest first."""
        return sorted(list(self._entries.values()), key=_seq)

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

        This is what the exit hook does; call it on the main thread. Owners tracked by a release
        are released too (in further rounds). A ``BaseException`` raised by one release
        (``SystemExit``, ``KeyboardInterrupt``) does not stop the others: it is re-raised once
        all are released (at exit it is logged instead). Returns how many were released.
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
        released, interrupted = 0, None
        for _ in range(_MAX_ROUNDS):
            claimed = self._claim_all()
            if not claimed:
                break
            self._warn_now = _resource_warnings_shown(claimed)
            self._debug_now = logger.isEnabledFor(logging.DEBUG)
            interrupted = self._run_in_order(claimed, None) or interrupted
            released += len(claimed)
        else:
            logger.warning("%d owners are still being tracked after %d rounds of releases that each "
                           "tracked new owners; the rest is left to exit", len(self._entries), _MAX_ROUNDS)
        for context in reversed(self._live_contexts()):
            self._flush(context)
        if interrupted is not None and not self._exiting:
            raise interrupted
        return released

    def _claim_all(self) -> list[tuple[Tracked, Any, str]]:
        """Claim every live owner (newest first, merged with the deferred ones)."""
        deferred = self._take_deferred()
        claimed = []
        for t in list(self._entries.values()):  # insertion order is creation order
            owner = None
            if t.__class__ is _ManagedTracked:  # its cleanup needs the instance itself
                owner = t()
                if owner is None:  # being collected right now: its __del__ will defer it
                    continue
            if self._claim(t):
                claimed.append((t, owner, "exit"))
        claimed.reverse()
        if deferred:
            claimed = sorted(claimed + deferred, key=_newest_first)
        return claimed

    def run_deferred(self) -> int:
        """A safe point: run deferred releases, oldest first, then flush each context's queue.

        Call on the main thread, e.g. between frames; elsewhere it does nothing. A
        ``BaseException`` raised by one release does not stop the others; it is re-raised after.
        Returns how many deferred releases ran.
        """
        if _get_ident() != self._main_ident:
            return 0
        claimed = self._take_deferred()
        interrupted = None
        if claimed:
            self._warn_now = _resource_warnings_shown(claimed)
            self._debug_now = logger.isEnabledFor(logging.DEBUG)
            interrupted = self._run_in_order(claimed, _GC)
        for context in self._live_contexts():
            self._flush(context)
        if interrupted is not None:
            raise interrupted
        return len(claimed)

    def pending(self) -> int:
        """How many releases wait for the next :meth:`run_deferred`."""
        return len(self._deferred)

    def use_hooks(self, hooks: ContextHooks) -> None:
        """Install the layer that activates and flushes contexts."""
        self._hooks = hooks
        self._current = getattr(hooks, "current", None)

    def contexts(self) -> list[Any]:
        """Context keys in use that are still alive, in order of first appearance."""
        return self._live_contexts()

    # -- internals ------------------------------------------------------------------------------

    def _add(self, record_type, owner, callback, release, context, kind, name, warn) -> Tracked:
        # What track() does inline, for managed owners: weakref.ref.__new__ directly (no Python-level __init__).
        t = _new_ref(record_type, owner, callback)
        t.seq = self._created = seq = next(self._counter)
        t.release = release
        t.context = context
        t.kind = kind if kind is not None else owner.__class__  # named on first use
        t.name = name
        t.warn = warn
        t.allocated = _allocation_site(owner) if _is_tracing() else None
        t.site = _capture_site(_getframe(2), _record_of)  # from _track_managed()'s caller, outwards
        t._registry = self
        if context is not None:
            self._use_context(context)
        self._entries[seq] = t
        return t

    def _claim(self, t: Tracked) -> bool:
        """Take ``t``'s entry: True for exactly one caller, who must then release (or detach) it."""
        if self._entries.pop(t.seq, None) is None:
            return False
        if self._strong_contexts and t.context is not None:
            self._unuse_context(t.context)
        return True

    def _use_context(self, context: Any) -> None:
        key = id(context)
        ref = self._contexts.get(key)
        if ref is not None and ref() is context:
            if ref.__class__ is _Strong:
                ref.users += 1
            return
        try:
            ref = weakref.ref(context, functools.partial(self._context_died, key))
        except TypeError:
            ref = _Strong(context)
            self._strong_contexts += 1
        self._contexts[key] = ref
        if self.hooks_loader is not None and self._hooks.__class__ is _NoHooks:
            self.hooks_loader(context)
        self._arm_exit_hook()

    def _arm_exit_hook(self) -> None:
        """Re-register the exit hook if hooks were registered since it was: atexit runs the newest
        hook first, so stay newer than anything that tears down the contexts we learn about.
        (Unregistering costs a pass over every atexit hook: done only when the count changed.)"""
        count = _atexit_count()
        if count != self._armed_at:
            atexit.unregister(self._exit_hook)
            atexit.register(self._exit_hook)
            self._armed_at = _atexit_count()

    def _unuse_context(self, context: Any) -> None:
        key = id(context)
        ref = self._contexts.get(key)
        if ref.__class__ is _Strong and ref.value is context:
            ref.users -= 1
            if ref.users == 0:
                del self._contexts[key]
                self._strong_contexts -= 1

    def _context_died(self, key: int, ref: Any) -> None:
        # Weak-reference callback (any thread): forget the key unless the id was taken again.
        if self._contexts.get(key) is ref:
            self._contexts.pop(key, None)

    def _live_contexts(self) -> list[Any]:
        contexts = (ref() for ref in list(self._contexts.values()))
        return [context for context in contexts if context is not None]

    def _take_deferred(self) -> list[tuple[Tracked, Any, str]]:
        # Finalizers may append while we read: take a counted slice, as pyglet does for its lists.
        count = len(self._deferred)
        taken = self._deferred[:count]
        del self._deferred[:count]
        return taken

    def _close(self, t: Tracked, owner: Any = None) -> bool:
        managed_record = t.__class__ is _ManagedTracked
        if managed_record:
            owner = owner if owner is not None else t()
            if owner is None:  # being collected right now: its __del__ will defer it
                return False
        if self._entries.pop(t.seq, None) is None:
            return False
        context = t.context
        if context is not None and self._strong_contexts:
            self._unuse_context(context)
        if _get_ident() != self._main_ident:
            if managed_record:
                self._deferred.append((t, owner, "close"))
            else:
                self._run_in_finalizer(t, "close")
        elif context is None and not managed_record:  # the hot path of track() + close()
            release, t.release = t.release, _released
            try:
                release(_CLOSE)
            except Exception as exc:  # noqa: BLE001
                self._counts["errors"] += 1
                _log_failure(t, _CLOSE, exc)
            except BaseException:
                self._counts["errors"] += 1
                raise
            else:
                self._counts["close"] += 1
        else:
            interrupted = self._run_in_order([(t, owner, "close")], _CLOSE)
            if interrupted is not None:
                raise interrupted
        return True

    def _collected(self, t: Tracked) -> None:
        # Weak-reference callback: runs inside the collector, on any thread, possibly during
        # interpreter teardown. No import and no graphics call here; see _run_in_finalizer.
        if self._claim(t):
            self._run_in_finalizer(t, "gc")

    def _run_in_finalizer(self, t: Tracked, label: str) -> None:
        """Release with ``Reason.GC``, without activating a context (finalizer or foreign thread)."""
        release, t.release = t.release, _released
        try:
            release(Reason.GC)
        except BaseException as exc:  # noqa: BLE001 - a finalizer must not raise
            self._counts["errors"] += 1
            if not self._exiting:
                _log_failure(t, Reason.GC, exc)
        else:
            self._counts[label] += 1
            if t.warn and label == "gc" and not self._exiting:
                _warn_unclosed(t, Reason.GC)

    def _run_in_order(self, claimed: list[tuple[Tracked, Any, str]], reason: Reason | None) -> BaseException | None:
        """Release each claimed owner in list order, each with its own context current.

        A context made current stays so across consecutive owners of that context, unless a
        release switched away from it (checked with the hooks' ``current()``): then it is made
        current again. Returns the first ``BaseException`` (not ``Exception``) a release raised,
        after releasing all the others.
        """
        interrupted = None
        active, target, activation = None, None, None
        current = self._current
        try:
            for t, owner, label in claimed:
                context = t.context
                if context is not None and (
                    context is not active or activation is None or current is None or current() is not target
                ):
                    if activation is not None:
                        activation.__exit__(None, None, None)
                    active, activation = context, None
                    try:
                        activation = self._hooks.activate(context)
                        target = activation.__enter__()
                    except Exception as exc:  # noqa: BLE001
                        self._activation_failed(t, exc)
                        activation = None
                if context is not None and t.__class__ is _ManagedTracked and t.legacy and current is not None \
                        and target is not context:
                    self._context_gone(t, label)
                    continue
                error = self._invoke(t, reason or (_EXIT if label == "exit" else _GC), owner, label)
                if error is not None and interrupted is None:
                    interrupted = error
        finally:
            if activation is not None:
                activation.__exit__(None, None, None)
        return interrupted

    def _context_gone(self, t: Tracked, label: str) -> None:
        """A legacy cleanup whose context is gone is not run (see :func:`managed`)."""
        t.release = _released
        self._counts[label] += 1
        logger.debug("not running the cleanup of %s: its context is gone, and its per-context names with it",
                     t.description)

    def _activation_failed(self, t: Tracked, exc: Exception) -> None:
        self._counts["errors"] += 1
        logger.warning("making the context of %s current failed: %s: %s", t.description, type(exc).__name__, exc)

    def _invoke(self, t: Tracked, reason: Reason, owner: Any, label: str) -> BaseException | None:
        """Call the release action once (its context already current) and account for it.
        Returns (does not raise) a ``BaseException`` that is not an ``Exception``."""
        release, t.release = t.release, _released
        if t.__class__ is _ManagedTracked:  # its cleanup needs the owner itself
            if owner is None:
                return None
            argument = owner
        else:
            argument = reason
        try:
            release(argument)
        except Exception as exc:  # noqa: BLE001 - one failure must not stop the others
            self._counts["errors"] += 1
            _log_failure(t, reason, exc)
            return None
        except BaseException as exc:  # noqa: BLE001 - SystemExit, KeyboardInterrupt: after the others
            self._counts["errors"] += 1
            _log_failure(t, reason, exc)
            return exc
        self._counts[label] += 1
        if label != "close":
            if self._debug_now:
                logger.debug("released %s (%s)", t.description, label)
            if t.warn and self._warn_now:
                _warn_unclosed(t, reason)
        return None

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
        self._contexts = {}
        self._strong_contexts = 0
        self._main_thread = threading.main_thread()
        self._main_ident = _get_ident()

    def _exit_hook(self) -> None:
        self._exiting = True
        try:
            self.release_all()
        except BaseException as exc:  # noqa: BLE001 - nothing may escape an exit hook
            logger.warning("the exit release was interrupted: %s: %s", type(exc).__name__, exc)

    # -- managed classes ------------------------------------------------------------------------

    def _track_managed(self, owner, kind, legacy: bool) -> _ManagedTracked:
        t = self._add(_ManagedTracked, owner, None, _release_managed, None, kind, None, True)
        t.running = None
        t.legacy = legacy
        return t

    def _set_context(self, t: Tracked, context: Any) -> None:
        """The owner's resources turned out to live in ``context`` (known only after it was built)."""
        if t.context is not None and self._strong_contexts and t.alive:
            self._unuse_context(t.context)
        t.context = context
        if context is not None and t.alive:
            self._use_context(context)

    def _defer_collected(self, t: Tracked, owner: Any) -> None:
        """From a managed owner's ``__del__``: keep the owner until the main thread releases it."""
        if self._claim(t):
            self._deferred.append((t, owner, "gc"))  # resurrects the owner until then


class _Strong:
    """Stands in for a weak reference to a context key that cannot be weakly referenced, and
    counts the live owners that use it (the key is forgotten with the last of them)."""

    __slots__ = ("value", "users")

    def __init__(self, value):
        self.value = value
        self.users = 1

    def __call__(self):
        return self.value


def _atexit_count() -> int:
    count = getattr(atexit, "_ncallbacks", None)
    return count() if count is not None else -2  # unknown: always re-arm


def _seq(t: Tracked) -> int:
    return t.seq


def _newest_first(item: tuple) -> int:
    return -item[0].seq


def _released(*_args) -> None:
    """Release action of an owner that has been released: does nothing."""


def _check_description(kind: Any, name: Any, warn: Any) -> None:
    if kind is not None and kind.__class__ is not str and not isinstance(kind, type):
        raise TypeError(f"kind must be a str or a class, got {type(kind).__name__} {kind!r}")
    if kind == "":
        raise ValueError("kind must not be empty")
    if name is not None and name.__class__ is not str:
        raise TypeError(f"name must be a str or None, got {type(name).__name__} {name!r}")
    if warn is not True and warn is not False:
        raise TypeError(f"warn must be True or False, got {type(warn).__name__} {warn!r}")


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
        if module is not None or lineno:
            return True  # a filter for one module or line: let warnings decide, owner by owner
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


#: Folders whose frames a ResourceWarning skips to reach the user's code: this package's, and
#: those the layers above add with :func:`skip_warning_frames_in` (the libraries they patch).
_SKIPPED_DIRS: list[str] = [os.path.dirname(os.path.abspath(__file__)) + os.sep]


def skip_warning_frames_in(folder: str) -> None:
    """Make unclosed-owner warnings skip frames under ``folder`` (a library whose frame loop runs
    our safe points, e.g. Warp's renderer): they point at the user's line that called into it."""
    folder = os.path.join(os.path.abspath(folder), "")
    if folder not in _SKIPPED_DIRS:
        _SKIPPED_DIRS.append(folder)


def _outside_package(filename: str) -> bool:
    return not filename.startswith(tuple(_SKIPPED_DIRS))


def _warning_site(t: Tracked) -> tuple[str, int]:
    """Where a ResourceWarning about ``t`` should point: the user's line that allocated the owner
    (when tracemalloc recorded it), else the innermost user frame now (the line where the owner
    was dropped or the safe point ran), else ``sys:1`` as Python's own warnings at exit."""
    if t.allocated is not None:
        for frame in reversed(list(t.allocated)):  # most recent call last
            if _outside_package(frame.filename):
                return frame.filename, frame.lineno
    frame = sys._getframe(1)
    while frame is not None:
        if _outside_package(frame.f_code.co_filename):
            return frame.f_code.co_filename, frame.f_lineno
        frame = frame.f_back
    return "sys", 1


def _warn_unclosed(t: Tracked, reason: Reason) -> None:
    """``ResourceWarning: unclosed ...`` pointing at the user's code, with where the owner was
    allocated when tracemalloc was tracing at the time (as Python does for unclosed files and
    asyncio in debug mode). Raised as an error (``-W error``), it goes to ``sys.unraisablehook``,
    as Python reports an unclosed file's warning raised in a finalizer."""
    when = "at exit" if reason is Reason.EXIT else "by garbage collection"
    message = f"unclosed {t.description}, released {when}"
    if t.allocated is not None:
        lines = (line.rstrip("\n") for line in t.allocated.format())
        message += "\nObject allocated at (most recent call last):\n" + "\n".join(lines)
    try:
        filename, lineno = _warning_site(t)
        warnings.warn_explicit(message, ResourceWarning, filename, lineno)
    except Exception as exc:  # noqa: BLE001 - e.g. -W error::ResourceWarning: report it unraisable
        _report_unraisable(exc)


class _UnraisableReport:
    """Hands an exception to ``sys.unraisablehook`` the way CPython reports one from a finalizer
    (there is no public call for it): by raising it from a ``__del__``."""

    __slots__ = ("error",)

    def __init__(self, error: BaseException) -> None:
        self.error = error

    def __del__(self) -> None:
        error, self.error = self.error, None
        raise error


def _report_unraisable(error: BaseException) -> None:
    _UnraisableReport(error)  # dropped at once: its __del__ raises into sys.unraisablehook


# -- managed classes ---------------------------------------------------------------------------

_LIFECYCLE = ("__init__", "__del__", "__getstate__", "__setstate__")


def _release_managed(owner: Any) -> None:
    """Release action of every managed instance (main thread, its context current).

    Calls each of the class's closers (``close``, or the names given to :func:`managed`) and then
    ``__del__`` on ``type(owner)``, with the instance's record in *running* mode, in which each
    managed class's wrapper runs that class's cleanup body instead of claiming the instance again;
    each body runs at most once, however the bodies call each other (``super().close()``, a
    ``__del__`` that calls ``close()``, a ``destroy()`` that calls ``close()``). Bodies no call
    reached (a subclass that forgot ``super().close()``) run last, most derived class first. Every
    body runs even if one raises; the first error is raised after.
    """
    t = owner.__dict__["_wgl_tracked"]
    t.running = set()
    first_error = None
    managers = [klass.__dict__["_wgl_managed"] for klass in type(owner).__mro__ if "_wgl_managed" in klass.__dict__]
    closers = managers[-1].closers if managers else ("close",)
    steps = [getattr(type(owner), name, None) for name in (*closers, "__del__")]
    for manager in managers:
        steps += [functools.partial(_run_body, body) for body in manager.bodies.values()]
    try:
        for step in steps:
            if step is None:
                continue
            try:
                step(owner)
            except BaseException as exc:  # noqa: BLE001 - the other bodies still run
                if first_error is None:
                    first_error = exc
    finally:
        t.running = None
    if first_error is not None:
        raise first_error


def _run_body(body: Callable | None, owner: Any) -> Any:
    """Run one cleanup body of ``owner`` while it is being released, unless it has run already."""
    running = owner.__dict__["_wgl_tracked"].running
    if body is None or body in running:
        return None
    running.add(body)
    return body(owner)


def _record_of(instance: Any) -> _ManagedTracked | None:
    try:
        return instance.__dict__.get("_wgl_tracked")
    except AttributeError:
        return None


def _releasing(t: _ManagedTracked) -> bool:
    """True while ``t``'s instance is being released on this thread (the main thread)."""
    return t.running is not None and _get_ident() == t._registry._main_ident


class Managed:
    """What :func:`managed` did to one class (and, derived from it, to each subclass).

    ``adopt(instance)`` tracks an instance created before; ``restore()`` stops tracking new
    instances; ``bodies`` maps each closer (and ``__del__``) to the cleanup body it runs on release
    (None: nothing of this class's own); ``originals`` holds what the class itself defined.
    """

    def __init__(self, cls: type, registry: Registry, context, kind: str, release, closers: tuple[str, ...] = ("close",),
                 parent: "Managed | None" = None) -> None:
        self.cls = cls
        self.registry = registry
        self.context = context
        self.kind = kind
        self.closers = closers
        self.parent = parent
        self.active = True
        #: True when the bodies are the class's own (not a ``release`` given to managed()): they may
        #: make GL calls of their own, so they never run with a stand-in context current.
        self.legacy = release is None if parent is None else parent.legacy
        patched = (*closers, *_LIFECYCLE)
        self.originals = {name: cls.__dict__[name] for name in patched if name in cls.__dict__}
        if parent is None:  # the class given to managed(): its own or inherited bodies
            if release is not None:  # one release replaces every body
                self.bodies = {name: (release if i == 0 else None) for i, name in enumerate((*closers, "__del__"))}
            else:
                self.bodies = {name: _unwrapped(getattr(cls, name, None)) for name in (*closers, "__del__")}
            names = patched
        else:  # a subclass: only what it defines itself; the rest is inherited from the base's wrappers
            self.bodies = {name: self.originals.get(name) for name in (*closers, "__del__")}
            names = tuple(name for name in patched if name in self.originals)
        self._patch(names)
        if parent is None:
            self._patch_init_subclass()
        for sub in cls.__subclasses__():
            self._manage_subclass(sub)

    def adopt(self, instance: Any, context: Any = None) -> Tracked:
        """Track an instance created before the class was managed (idempotent). ``context``, when
        given, is its context key (else the class's ``context(instance)`` is asked)."""
        t = _record_of(instance)
        if t is None:
            t = self.registry._track_managed(instance, self.kind, self.legacy)
            t.site = None  # made before its class was managed: where is not known
            instance.__dict__["_wgl_tracked"] = t
            if context is not None:
                self.registry._set_context(t, context)
            else:
                self._bind_context(instance, t)
        return t

    def restore(self) -> None:
        """Stop tracking new instances of the class and its subclasses: from now on they behave
        exactly as the class's own methods make them. Instances tracked so far stay tracked and
        are still released exactly once (by ``close()``, collection or exit); for them the thin
        wrappers stay in place, so that the class's ``__del__`` does not run their cleanup again.
        """
        self._set_active(False)

    def _set_active(self, active: bool) -> None:
        self.active = active
        for sub in self.cls.__subclasses__():
            manager = sub.__dict__.get("_wgl_managed")
            if manager is not None and manager.parent is self:
                manager._set_active(active)

    def _manage_subclass(self, sub: type) -> None:
        if "_wgl_managed" not in sub.__dict__:
            Managed(sub, self.registry, self.context, sub.__name__, None, self.closers, parent=self)

    def _bind_context(self, instance, t: Tracked) -> None:
        if self.context is not None:
            try:
                context = self.context(instance)
            except Exception as exc:  # noqa: BLE001 - a half-built instance may not know it
                logger.debug("no context for %s: %s: %s", t.description, type(exc).__name__, exc)
                context = None
            self.registry._set_context(t, context)

    def _patch_init_subclass(self) -> None:
        """Subclasses defined later are managed as they are created (their own bodies too)."""
        manager, cls = self, self.cls
        original = cls.__dict__.get("__init_subclass__")

        def __init_subclass__(sub, **kwargs):
            if original is not None:
                original.__func__(sub, **kwargs)
            else:
                super(cls, sub).__init_subclass__(**kwargs)
            manager._manage_subclass(sub)

        cls.__init_subclass__ = classmethod(__init_subclass__)

    def _closer(self, name: str) -> Callable:
        """The wrapper of one method by which users free an instance (``close``, ``destroy``...)."""
        manager = self
        original = _unwrapped(getattr(self.cls, name, None))

        def closer(self, *args, **kwargs):
            t = _record_of(self)
            if t is None:  # never tracked: behave as the original
                return original(self, *args, **kwargs) if original is not None else None
            if _releasing(t):
                return _run_body(manager.bodies[name], self)
            t._registry._close(t, self)
            return None

        closer.__name__ = closer.__qualname__ = name
        closer.__qualname__ = f"Managed._patch.<locals>.{name}"
        closer.__wrapped__ = original
        closer.__doc__ = getattr(original, "__doc__", None)
        return closer

    def _patch(self, names: tuple[str, ...]) -> None:
        manager, cls = self, self.cls
        original_init = _unwrapped(getattr(cls, "__init__"))
        original_del = _unwrapped(getattr(cls, "__del__", None))
        original_getstate = self.originals.get("__getstate__") or _unwrapped(getattr(cls, "__getstate__", None))
        original_setstate = self.originals.get("__setstate__") or _unwrapped(getattr(cls, "__setstate__", None))

        def __init__(self, *args, **kwargs):
            if not manager.active or _record_of(self) is not None:  # untracked, or a base's __init__ again
                return original_init(self, *args, **kwargs)
            # Tracked before its body runs, so that what it creates is newer and released first.
            t = manager.registry._track_managed(self, manager.kind, manager.legacy)
            self.__dict__["_wgl_tracked"] = t  # also for frozen dataclasses
            try:
                original_init(self, *args, **kwargs)
            except BaseException:
                manager._bind_context(self, t)
                manager.registry._close(t, self)  # what it acquired before failing is released now
                raise
            manager._bind_context(self, t)

        def __del__(self):
            t = _record_of(self)
            if t is None:
                if original_del is not None:
                    original_del(self)
                return
            if _releasing(t):
                _run_body(manager.bodies["__del__"], self)
                return
            t._registry._defer_collected(t, self)

        def __getstate__(self):
            state = original_getstate(self) if original_getstate is not None else self.__dict__
            return _without_record(state)

        def __setstate__(self, state):
            if original_setstate is not None:
                original_setstate(self, state)
            else:
                _set_state(self, state)
            if manager.active:
                manager.adopt(self)  # a copy (or an unpickled instance) is an owner of its own

        wrappers = {"__init__": __init__, "__del__": __del__, "__getstate__": __getstate__, "__setstate__": __setstate__}
        wrapped = {"__init__": original_init, "__del__": original_del,
                   "__getstate__": original_getstate, "__setstate__": original_setstate}
        for name in names:
            if name in wrappers:
                function = wrappers[name]
                function.__wrapped__ = wrapped[name]
                function.__doc__ = getattr(wrapped[name], "__doc__", None)
            else:
                function = self._closer(name)
            setattr(cls, name, function)
        cls._wgl_managed = self


def _without_record(state: Any) -> Any:
    """``state`` as ``__getstate__`` gives it, without the registry record (a copy's is its own)."""
    if isinstance(state, dict) and "_wgl_tracked" in state:
        return {k: v for k, v in state.items() if k != "_wgl_tracked"}
    if isinstance(state, tuple) and len(state) == 2 and isinstance(state[0], dict) and "_wgl_tracked" in state[0]:
        return (_without_record(state[0]), state[1])
    return state


def _set_state(instance: Any, state: Any) -> None:
    """What ``copy`` and ``pickle`` do with a state when the class has no ``__setstate__``."""
    slots = None
    if isinstance(state, tuple) and len(state) == 2:
        state, slots = state
    if state:
        instance.__dict__.update(state)
    if slots:
        for key, value in slots.items():
            object.__setattr__(instance, key, value)


def managed(
    cls: type | None = None,
    *,
    registry: Registry | None = None,
    context: Callable[[Any], Any] | None = None,
    kind: str | None = None,
    release: Callable[[Any], None] | None = None,
    closers: tuple[str, ...] = ("close",),
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
    after ``__init__`` (default: none).

    Edge cases: subclasses (existing and future) are managed too, their own ``close``/``__del__``
    bodies included; each body runs once even when bodies call ``super().close()`` or a
    ``__del__`` calls ``close()``. An ``__init__`` that raises has what it acquired released at
    once. A copy (``copy``, ``deepcopy``, ``pickle``) is an owner of its own. A class whose
    instances have no ``__dict__`` or cannot be weakly referenced is refused with ``TypeError``.
    ``closers`` names the methods by which users already free an instance (default ``close``;
    e.g. ``("destroy",)`` or ``("close", "destroy")``): each is wrapped as ``close`` is, so the
    instance is released once whichever is called, and each one's body runs once on release.

    Contexts: a class's own bodies may make GL calls of their own, so they run only with their
    own context current. When that context is gone (its window closed) they are **not run**: its
    per-context names (vertex arrays, framebuffers) died with it, and running the body with a
    sibling current would delete that sibling's objects of the same numbers; the release counts
    as done and is logged at debug level. A ``release`` given here is trusted to cope (it runs with
    a live sibling of the context's object space current, as :class:`~.glresources.GLResources`
    releases do).

    ``SomeClass._wgl_managed`` is the :class:`Managed` record (``adopt(instance)``, ``restore()``).
    Applying ``managed`` again is harmless (and re-activates a restored class).
    """
    if cls is None:
        return lambda c: managed(c, registry=registry, context=context, kind=kind, release=release, closers=closers)
    if not isinstance(cls, type):
        raise TypeError(f"managed() expects a class, got {type(cls).__name__}")
    if release is not None and not callable(release):
        raise TypeError(f"release must be callable, got {type(release).__name__}")
    if context is not None and not callable(context):
        raise TypeError(f"context must be callable, got {type(context).__name__}")
    _check_description(kind, None, True)
    if not cls.__dictoffset__:
        raise TypeError(f"managed() needs instances with a __dict__; {cls.__name__} has __slots__ without one")
    if not cls.__weakrefoffset__:
        raise TypeError(f"managed() needs instances that can be weakly referenced; {cls.__name__} cannot be")
    if isinstance(closers, str) or not closers or not all(isinstance(n, str) and n.isidentifier() for n in closers):
        raise TypeError(f"closers must be a non-empty tuple of method names, got {closers!r}")
    if set(closers) & set(_LIFECYCLE):
        raise ValueError(f"closers must not name {', '.join(sorted(set(closers) & set(_LIFECYCLE)))}")
    existing = cls.__dict__.get("_wgl_managed")
    if existing is None:
        Managed(cls, registry if registry is not None else _default, context, kind or cls.__name__, release, tuple(closers))
    elif not existing.active:
        existing._set_active(True)
    return cls


def _unwrapped(method):
    """The original behind a method that ``managed`` patched on a base class."""
    while method is not None and getattr(method, "__qualname__", "").startswith("Managed._patch.<locals>"):
        method = method.__wrapped__
    return method


#: The process-wide registry used by the module-level functions and the exit hook.
registry = _default = Registry()
_default._arm_exit_hook()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_default._forget_after_fork)

track = _default.track
live = _default.live
stats = _default.stats
release_all = _default.release_all
run_deferred = _default.run_deferred
pending = _default.pending
