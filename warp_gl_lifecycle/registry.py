"""Weak-reference registry that releases each tracked owner exactly once: on close, after collection, or at exit.

This module holds the registry and its claim protocol; :mod:`.managed_classes` makes legacy classes
release through it (``managed``, also ``warp_gl_lifecycle.managed``), :mod:`.unclosed` writes the
warning for an owner left open; neither is imported here (no import cycle).

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
  An interrupt between two releases never loses an owner: a release loop claims one owner at a
  time, holds SIGINT/SIGTERM while in the registry's own frames, and puts back an owner whose
  release had not begun when an interrupt cut in.
* Releases tracking new owners during ``release_all()`` (and the exit hook) have those released too.
* After each release the context is checked; if the release switched away, the next owner's
  context is made current again.
* An owner released by collection or at exit rather than by ``close()`` gets a
  :class:`ResourceWarning` (shown under ``python -X dev``), as an unclosed file does, pointing at
  the user's code, each through the warning filters on its own (see :mod:`.unclosed`).

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
import time
import tracemalloc as _tracemalloc
import weakref
from contextlib import nullcontext
from typing import Any, Callable, ContextManager, Protocol

from .held_signals import HeldSignals
from .held_signals import __file__ as _held_signals_file
from .sites import capture as _capture_site, user_files as _user_files

__all__ = ["ContextHooks", "Reason", "Registry", "Tracked", "live", "registry", "release_all",
           "pending", "run_deferred", "skip_warning_frames_in", "stats", "track"]

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
#: At exit, how long to wait for owners whose collection is under way on another thread.
_COLLECTION_WAIT = 2.0
#: The files of the registry's own frames (this module, managed_classes, unclosed).
_OWN_FILES: set[str] = set()


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
        registry = self._registry
        if self.context is not None or self.__class__ is not Tracked or _get_ident() != registry._main_ident:
            return registry._close(self)
        # The hot path of track() + close(): a plain owner without a context, on the main thread.
        if registry._entries.pop(self.seq, None) is None:
            return False
        release, self.release = self.release, _released
        try:
            release(_CLOSE)
        except Exception as exc:  # noqa: BLE001 - logged once, as every failed release
            registry._counts["errors"] += 1
            _log_failure(self, _CLOSE, exc)
        except BaseException:
            registry._counts["errors"] += 1
            raise
        else:
            registry._counts["close"] += 1
        return True

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
    bodies are the class's own (they never run with a stand-in for a context that is gone).
    ``call``: the user's explicit closer call (name, args, kwargs) the release starts with;
    ``outcome``: its (value, exception); ``waiting``: the caller waits for that outcome."""

    __slots__ = ("running", "legacy", "call", "outcome", "waiting")


def _record_of(instance: Any) -> _ManagedTracked | None:
    """The record a :func:`~.managed_classes.managed` instance carries (None for any other object)."""
    try:
        return instance.__dict__.get("_wgl_tracked")
    except AttributeError:
        return None


class Registry:
    """Live owners, by creation order. Most code uses the module-level :data:`registry`.

    The claim: whoever removes an owner's entry from ``_entries`` (one atomic ``dict.pop``) is
    the one path that releases it. A managed owner is claimed only together with the instance
    its cleanup needs: a record whose instance is being collected is left for its ``__del__``.
    A release loop claims one owner at a time, just before releasing it; an interrupt that
    arrives after the claim and before the release began puts the owner back.
    """

    def __init__(self) -> None:
        self._entries: dict[int, Tracked] = {}
        self._counter = itertools.count(1)
        self._created = 0
        # Owners claimed off the main thread or by a managed __del__, waiting for a safe point:
        # seq -> (record, owner or None, what to count it as). Added from finalizers; a release
        # loop takes each out (one atomic dict.pop) just before releasing it.
        self._deferred: dict[int, tuple[Tracked, Any, str]] = {}
        self._disordered = False  # an owner was put back: _entries is no longer in creation order
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
        t.allocated = allocation_site(owner) if _is_tracing() else None
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
        all are released (at exit it is logged instead). An interrupt (Ctrl-C, or a signal
        handled by :func:`~.signals.handle_signals`) never loses an owner: one that arrives while
        the registry itself is working is held until the round's releases are done, then raised;
        one that cuts a context switch puts that owner back (still tracked). At exit, an owner
        being collected on another thread is waited for (briefly) and released. Returns how many
        were released.
        """
        # As weakref.finalize's exit function does: no collection while we release (a collection
        # would only find owners we hold anyway, and costs a pass over every live object).
        collecting = gc.isenabled()
        gc.disable()
        try:
            with HeldSignals(self._main_ident, _OWN_FILES) as held:
                released, interrupted = self._release_rounds()
            interrupted = interrupted or held.raised()
        finally:
            if collecting:
                gc.enable()
        for context in reversed(self._live_contexts()):
            self._flush(context)
        if interrupted is not None and not self._exiting:
            raise interrupted
        if interrupted is not None:
            _log_interrupted(interrupted)
        return released

    def _release_rounds(self) -> tuple[int, BaseException | None]:
        released, interrupted = 0, None
        deadline = None
        for _ in range(_MAX_ROUNDS):
            batch = self._batch()
            self._warn_now, self._debug_now = could_show(), logger.isEnabledFor(logging.DEBUG)
            count, error = self._run_in_order(batch, None, claim=True) if batch else (0, None)
            released += count
            interrupted = interrupted or error
            if error is not None and not self._exiting:
                break  # the round is done: raise now, what was put back stays tracked
            if count == 0 and not self._deferred:
                if not self._exiting:
                    break
                if deadline is None:
                    deadline = time.monotonic() + _COLLECTION_WAIT
                if not self._await_collections(deadline):
                    break
        else:
            logger.warning("%d owners are still being tracked after %d rounds of releases that each "
                           "tracked new owners; the rest is left to exit", len(self._entries), _MAX_ROUNDS)
        return released, interrupted

    def _batch(self) -> list[tuple[Tracked, Any, str]]:
        """Every live owner, newest first, merged with the deferred ones (not claimed yet)."""
        if self._disordered:
            self._disordered = False
            self._entries = dict(sorted(self._entries.items()))
        batch = [(t, None, "exit") for t in list(self._entries.values())]  # insertion order is creation order
        batch.reverse()
        if self._deferred:
            batch = sorted(batch + list(self._deferred.values()), key=_newest_first)
        return batch

    def _await_collections(self, deadline: float) -> bool:
        """At exit: wait (until ``deadline``) for managed owners whose collection is under way on
        another thread (weak reference cleared, ``__del__`` not run yet) to be deferred by their
        ``__del__``. True if one was; False if there is none, or the time is up."""
        while True:
            collecting = [t for t in list(self._entries.values()) if t.__class__ is _ManagedTracked and t() is None]
            if not collecting or self._deferred:
                return bool(self._deferred)
            if time.monotonic() >= deadline:
                logger.warning("%d owners were still being collected on another thread at exit: not released",
                               len(collecting))
                return False
            time.sleep(0.002)

    def run_deferred(self) -> int:
        """A safe point: run deferred releases, oldest first, then flush each context's queue.

        Call on the main thread, e.g. between frames; elsewhere it does nothing. A
        ``BaseException`` raised by one release does not stop the others; it is re-raised after.
        Returns how many deferred releases ran.
        """
        if _get_ident() != self._main_ident:
            return 0
        count, interrupted = 0, None
        if self._deferred:
            self._warn_now, self._debug_now = could_show(), logger.isEnabledFor(logging.DEBUG)
            with HeldSignals(self._main_ident, _OWN_FILES) as held:
                count, interrupted = self._run_in_order(list(self._deferred.values()), _GC, claim=True)
            interrupted = interrupted or held.raised()
        for context in self._live_contexts():
            self._flush(context)
        if interrupted is not None:
            raise interrupted
        return count

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
        t.allocated = allocation_site(owner) if _is_tracing() else None
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

    def _put_back(self, t: Tracked, owner: Any, label: str, deferred: bool) -> None:
        """Undo a claim whose release never began (an interrupt came first): tracked again."""
        if deferred:
            self._deferred[t.seq] = (t, owner, label)
            return
        self._entries[t.seq] = t
        self._disordered = True
        if t.context is not None:
            self._use_context(t.context)

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
                self._deferred[t.seq] = (t, owner, "close")
            else:
                self._run_in_finalizer(t, "close")
        else:  # (a plain owner without a context on the main thread takes Tracked.close's hot path)
            _count, interrupted = self._run_in_order([(t, owner, "close")], _CLOSE, claim=False)
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
                warn_unclosed(t.description, t.allocated, False)

    def _run_in_order(self, items: list[tuple[Tracked, Any, str]], reason: Reason | None,
                      claim: bool) -> tuple[int, BaseException | None]:
        """Release each owner of ``items`` in list order, each with its own context current.

        With ``claim``, each is claimed (from the live entries, or for a deferred one from the
        deferred ones) just before its release; one claimed already by another path is skipped.
        A context made current stays so across consecutive owners of that context, unless a
        release switched away from it (checked with the hooks' ``current()``): then it is made
        current again. An interrupt before an owner's release began puts the owner back.
        Returns how many were released and the first ``BaseException`` (not ``Exception``) a
        release (or an interrupt) raised, after releasing all the others.
        """
        interrupted, count = None, 0
        active, target, activation = None, None, None
        current = self._current
        try:
            for t, owner, label in items:
                deferred = label != "exit" and claim
                if claim:
                    if deferred:
                        if self._deferred.pop(t.seq, None) is None:
                            continue
                    else:
                        if t.__class__ is _ManagedTracked:  # its cleanup needs the instance itself
                            owner = t()
                            if owner is None:  # being collected right now: its __del__ will defer it
                                continue
                        if not self._claim(t):
                            continue
                try:  # claimed: released, or put back if interrupted before the release began
                    context = t.context
                    if context is not None and (
                        context is not active or activation is None or current is None or current() is not target
                    ):
                        if activation is not None:
                            activation, leaving = None, activation
                            leaving.__exit__(None, None, None)
                        active, target = None, None
                        try:
                            entering = self._hooks.activate(context)
                            target = entering.__enter__()
                            activation, active = entering, context
                        except Exception as exc:  # noqa: BLE001
                            self._activation_failed(t, exc)
                    if context is not None and t.__class__ is _ManagedTracked and t.legacy and current is not None \
                            and target is not context:
                        self._context_gone(t, label)
                        count += 1
                        continue
                    error = self._invoke(t, reason or (_EXIT if label == "exit" else _GC), owner, label)
                    count += 1
                    if error is not None and interrupted is None:
                        interrupted = error
                except BaseException as exc:  # noqa: BLE001 - an interrupt between two releases
                    if t.release is not _released:
                        self._put_back(t, owner, label, deferred)
                    active = None  # the context switch may have been cut: switch again
                    if interrupted is None:
                        interrupted = exc
        finally:
            if activation is not None:
                activation.__exit__(None, None, None)
        return count, interrupted

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
        if t.__class__ is _ManagedTracked:  # its cleanup needs the owner itself
            if owner is None:
                t.release = _released
                return None
            argument = owner
        else:
            argument = reason
        release, t.release = t.release, _released
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
                warn_unclosed(t.description, t.allocated, reason is _EXIT)
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
        self._deferred = {}
        self._contexts = {}
        self._strong_contexts = 0
        self._main_thread = threading.main_thread()
        self._main_ident = _get_ident()

    def _exit_hook(self) -> None:
        self._exiting = True
        try:
            self.release_all()
        except BaseException as exc:  # noqa: BLE001 - nothing may escape an exit hook
            _log_interrupted(exc)

    # -- managed classes (see managed_classes) --------------------------------------------------

    def _track_managed(self, owner, kind, legacy: bool, release: Callable) -> _ManagedTracked:
        t = self._add(_ManagedTracked, owner, None, release, None, kind, None, True)
        t.running = t.call = t.outcome = None
        t.waiting = False
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
            self._deferred[t.seq] = (t, owner, "gc")  # resurrects the owner until then

    def _close_managed(self, t: _ManagedTracked, owner: Any, name: str, args: tuple, kwargs: dict) -> Any:
        """A user's explicit call of closer ``name``: releases the owner with that call as its first
        step (the user's arguments, exactly once); returns its value, raises its exception.
        Already released: returns None. Off the main thread: deferred (with the arguments)."""
        t.call = (name, args, kwargs)
        t.waiting = _get_ident() == self._main_ident
        try:
            if not self._close(t, owner):
                return None
        finally:
            t.waiting = False
        outcome, t.outcome = t.outcome, None
        if outcome is None:
            return None
        value, error = outcome
        if error is not None:
            self._counts["errors"] += 1
            raise error
        return value


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




def _log_interrupted(exc: BaseException) -> None:
    logger.warning("the exit release was interrupted: %s: %s", type(exc).__name__, exc)


from . import unclosed as _unclosed  # noqa: E402
from .unclosed import allocation_site, skip_warning_frames_in, warn_unclosed, could_show  # noqa: E402

_OWN_FILES.update({__file__, _unclosed.__file__, _held_signals_file})

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

