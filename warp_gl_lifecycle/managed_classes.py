"""``managed()``: a class written in the legacy style (cleanup in ``close()``/``__del__``) releases
through the registry, exactly once, deciding at call time from ``type(self)`` and its MRO.

One :class:`Managed` per managed family (the class given to ``managed()`` and every subclass, made
before or after, however made). The family's root class gets thin wrappers: ``__new__`` (tracks
each new instance of any class of the family while the family is active, and wraps, on the
first instance of each class, the methods that class defines itself: its closers, ``__init__``,
``__del__``, ``__getstate__``/``__setstate__``), plus the closers, ``__del__`` and the state
methods. So a ``@dataclass``-made ``__init__``, an ``__init_subclass__`` that does not chain, a
subclass made after ``restore()``, an ABC and a ``__del__`` that frees directly need no special
case: what runs is decided when an instance is made, closed, collected or released.
"""

from __future__ import annotations

import functools
import inspect
import types
from typing import Any, Callable

from .registry import _OWN_FILES, Registry, _ManagedTracked, _check_description, _get_ident, _record_of, logger
from .registry import registry as _default

__all__ = ["Managed", "managed"]

_OWN_FILES.add(__file__)
_STATE = ("__getstate__", "__setstate__")
_MISSING = object()


def _is_wrapper(function: Any) -> bool:
    return getattr(function, "_wgl_wrapper", False) is True


def _body_of(function: Any) -> Any:
    """The user's function behind one of our wrappers (None for a wrapper of nothing)."""
    while _is_wrapper(function):
        function = function.__wrapped__
    return function


def _is_abstract(body: Any) -> bool:
    return getattr(body, "__isabstractmethod__", False) is True


def _releasing(t: _ManagedTracked) -> bool:
    """True while ``t``'s instance is being released on this thread (the main thread)."""
    return t.running is not None and _get_ident() == t._registry._main_ident


def _run_body(body: Callable | None, owner: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
    """Run one cleanup body of ``owner`` while it is being released, unless it has run already."""
    running = owner.__dict__["_wgl_tracked"].running
    if body is None or body in running or _is_abstract(body):
        return None
    running.add(body)
    return body(owner, *args, **(kwargs or {}))


def _release_managed(owner: Any) -> None:
    """Release action of every managed instance (main thread, its context current).

    With the instance's record in *running* mode (each wrapper then runs its class's body, once),
    calls: the user's explicit closer call first, with the user's arguments (its value and
    exception are kept in ``outcome`` for the caller); then each closer and ``__del__`` on
    ``type(owner)``; then the bodies no call reached (a subclass that forgot ``super().close()``),
    most derived class first. Every body runs even if one raises; the first error of those not
    called by the user is raised after.
    """
    t = owner.__dict__["_wgl_tracked"]
    cls = type(owner)
    manager = cls._wgl_managed  # the nearest family
    call, t.call = t.call, None
    t.running = set()
    first_error = None
    try:
        if call is not None:
            name, args, kwargs = call
            try:
                t.outcome = (_call_in_running_mode(cls, name, owner, args, kwargs), None)
            except BaseException as exc:  # noqa: BLE001 - the caller's to see, after the others ran
                t.outcome = (None, exc)
                if not t.waiting:  # a deferred call (made on a worker): nobody waits for it
                    first_error = exc
        steps = [name for name in (*manager.closers, "__del__") if call is None or name != call[0]]
        for name in steps:
            try:
                _call_in_running_mode(cls, name, owner, (), {})
            except BaseException as exc:  # noqa: BLE001 - the other bodies still run
                first_error = first_error or exc
        for body in manager.bodies_of(cls):
            try:
                _run_body(body, owner)
            except BaseException as exc:  # noqa: BLE001
                first_error = first_error or exc
    finally:
        t.running = None
        if not t.waiting:
            t.outcome = None  # nobody will read it: keep no reference to the value
    if first_error is not None:
        raise first_error


def _call_in_running_mode(cls: type, name: str, owner: Any, args: tuple, kwargs: dict) -> Any:
    function = getattr(cls, name, None)
    if function is None:
        return None
    if _is_wrapper(function):
        return function(owner, *args, **kwargs)
    return _run_body(function, owner, args, kwargs)  # added after the class was prepared: still once


class Managed:
    """What :func:`managed` did to one class family (the class and all its subclasses).

    ``adopt(instance)`` tracks an instance created before; ``restore()`` stops tracking new
    instances; ``originals`` holds what the root class itself defined; ``active`` tells whether
    new instances are tracked. ``SomeSubclass._wgl_managed`` is its family's record.
    """

    def __init__(self, cls: type, registry: Registry, context, kind: str, release, closers: tuple[str, ...]) -> None:
        self.cls = cls
        self.registry = registry
        self.context = context
        self.kind = kind
        #: The root's one body when a ``release`` is given: called with the instance only (the
        #: arguments of a user's closer call are for the class's own bodies, which it replaces).
        self.release = None if release is None else _release_body(release)
        self.closers = closers
        self.active = True
        #: True when the bodies are the class's own (not a ``release`` given to managed()): they may
        #: make GL calls of their own, so they never run with a stand-in context current.
        self.legacy = release is None
        self.originals = {name: cls.__dict__[name] for name in (*closers, "__new__", "__init__", "__del__", *_STATE)
                          if name in cls.__dict__}
        self._wrap_root()
        cls._wgl_managed = self
        for sub in _subclasses(cls):  # what exists now may have instances to adopt
            self._prepare(sub)

    # -- public ---------------------------------------------------------------------------------

    def adopt(self, instance: Any, context: Any = None) -> _ManagedTracked:
        """Track an instance created before the class was managed (idempotent). ``context``, when
        given, is its context key (else the class's ``context(instance)`` is asked)."""
        t = _record_of(instance)
        if t is None:
            t = self._track(instance)
            t.site = None  # made before its class was managed: where is not known
            if context is not None:
                self.registry._set_context(t, context)
            else:
                self._bind_context(instance, t)
        return t

    def restore(self) -> None:
        """Stop tracking new instances of the class and of every subclass (made before or after):
        from now on they behave exactly as the class's own methods make them. Instances tracked so
        far stay tracked and are still released exactly once (by ``close()``, collection or exit);
        for them the thin wrappers stay in place, so that no ``__del__`` or closer runs their
        cleanup again."""
        self.active = False

    def bodies_of(self, cls: type) -> list[Callable]:
        """The cleanup bodies of an instance of ``cls``, most derived class first: each class's own
        closers and ``__del__`` down to the root, whose bodies are the ``release`` given to
        ``managed()`` or what the root has (defines or inherits)."""
        bodies = []
        names = (*self.closers, "__del__")
        for klass in cls.__mro__:
            if klass is self.cls:
                if self.release is not None:
                    bodies.append(self.release)
                else:
                    bodies += [_body_of(getattr(klass, name, None)) for name in names]
                break
            bodies += [_body_of(klass.__dict__[name]) for name in names if name in klass.__dict__]
        return [body for body in bodies if body is not None]

    # -- instances ------------------------------------------------------------------------------

    def _track(self, instance: Any) -> _ManagedTracked:
        cls = type(instance)
        if cls.__dict__.get("_wgl_prepared") is not self:
            self._prepare(cls)
        kind = self.kind if cls is self.cls else cls.__name__
        t = self.registry._track_managed(instance, kind, self.legacy, _release_managed)
        instance.__dict__["_wgl_tracked"] = t  # also for frozen dataclasses
        return t

    def _bind_context(self, instance, t: _ManagedTracked) -> None:
        if self.context is not None:
            try:
                context = self.context(instance)
            except Exception as exc:  # noqa: BLE001 - a half-built instance may not know it
                logger.debug("no context for %s: %s: %s", t.description, type(exc).__name__, exc)
                context = None
            self.registry._set_context(t, context)

    # -- wrappers -------------------------------------------------------------------------------

    def _prepare(self, cls: type) -> None:
        """Wrap what each class from ``cls`` up to the root defines itself and is not wrapped yet
        (a subclass's own closers, ``__init__``, ``__del__``, state methods; a dataclass-made
        ``__init__`` on the root itself)."""
        for klass in cls.__mro__:
            for name in (*self.closers, "__init__", "__del__", *_STATE):
                function = klass.__dict__.get(name)
                if isinstance(function, types.FunctionType) and not _is_wrapper(function):
                    setattr(klass, name, self._wrapper(name, function, klass))
            if klass is self.cls:
                self._sign_new()  # a dataclass may have given the root its __init__ since
                break
        cls._wgl_prepared = self

    def _wrap_root(self) -> None:
        cls = self.cls
        if self.release is not None:
            bodies = {name: (self.release if i == 0 else None) for i, name in enumerate(self.closers)}
            bodies["__del__"] = None
        else:
            bodies = {name: _body_of(getattr(cls, name, None)) for name in (*self.closers, "__del__")}
        for name, body in bodies.items():
            setattr(cls, name, self._wrapper(name, body, cls, original=_body_of(getattr(cls, name, None))))
        for name in ("__init__", *_STATE):
            function = _body_of(getattr(cls, name, None))
            if name == "__init__" and function is object.__init__:
                continue  # nothing to catch: the instance is built when __new__ returns
            setattr(cls, name, self._wrapper(name, function, cls))
        original_new = self.originals.get("__new__")
        original_new = original_new.__func__ if isinstance(original_new, staticmethod) else original_new
        cls.__new__ = staticmethod(self._new(original_new))
        self._sign_new()

    def _sign_new(self) -> None:
        """``inspect.signature(cls)`` reads the root's ``__new__`` first: let it find what the
        class's own ``__new__``, else its ``__init__``, takes (followed through ``__wrapped__``)."""
        new = self.cls.__dict__["__new__"].__func__
        shown = self.originals.get("__new__") or _body_of(self.cls.__dict__.get("__init__")) \
            or _body_of(getattr(self.cls, "__init__"))
        shown = shown.__func__ if isinstance(shown, staticmethod) else shown
        if isinstance(shown, types.FunctionType):
            new.__wrapped__ = shown
        else:  # object.__init__: no arguments
            new.__signature__ = inspect.Signature([inspect.Parameter("cls", inspect.Parameter.POSITIONAL_ONLY)])

    def _wrapper(self, name: str, body: Any, klass: type, original: Any = None) -> Callable:
        if name == "__init__":
            wrapper = self._init(body)
        elif name == "__del__":
            wrapper = _del(body, original if original is not None else body)
        elif name == "__getstate__":
            wrapper = _getstate(body)
        elif name == "__setstate__":
            wrapper = self._setstate(body)
        else:
            wrapper = _closer(name, body, original if original is not None else body)
        shown = original if original is not None else body
        if shown is not None:
            functools.update_wrapper(wrapper, shown)
        wrapper.__wrapped__ = body
        wrapper.__name__ = name
        wrapper.__qualname__ = f"{klass.__qualname__}.{name}"
        wrapper._wgl_wrapper = True
        return wrapper

    def _new(self, original_new: Callable | None) -> Callable:
        root = self.cls

        def __new__(cls, *args, **kwargs):
            if original_new is not None:
                instance = original_new(cls, *args, **kwargs)
            else:
                parent_new = super(root, cls).__new__
                if parent_new is object.__new__:
                    if (args or kwargs) and cls.__init__ is object.__init__:
                        raise TypeError(f"{cls.__name__}() takes no arguments")
                    instance = object.__new__(cls)
                else:
                    instance = parent_new(cls, *args, **kwargs)
            manager = cls._wgl_managed  # the nearest family (a subclass may be managed on its own)
            if manager.active and isinstance(instance, cls) and _record_of(instance) is None:
                # Tracked before __init__ runs, so that what it creates is newer and released first.
                t = manager._track(instance)
                if cls.__init__ is object.__init__:  # no __init__ to wait for
                    manager._bind_context(instance, t)
            return instance

        return __new__

    def _init(self, body: Callable) -> Callable:
        manager = self

        def __init__(self, *args, **kwargs):
            t = _record_of(self)
            if t is None or type(self).__init__ is not wrapper:  # untracked, or an inner __init__
                return body(self, *args, **kwargs)
            try:
                body(self, *args, **kwargs)
            except BaseException:
                manager._bind_context(self, t)
                t._registry._close(t, self)  # what it acquired before failing is released now
                raise
            manager._bind_context(self, t)

        wrapper = __init__
        return wrapper

    def _setstate(self, body: Callable | None) -> Callable:
        manager = self

        def __setstate__(self, state):
            t = _record_of(self)  # the copy's own record (tracked by __new__), if any
            state = _without_record(state)
            if body is not None:
                body(self, state)
            else:
                _set_state(self, state)
            if t is not None:
                self.__dict__["_wgl_tracked"] = t
                manager._bind_context(self, t)

        return __setstate__


def _release_body(release: Callable[[Any], None]) -> Callable:
    def release_body(owner, *_args, **_kwargs):
        return release(owner)

    release_body.__wrapped__ = release
    return release_body


def _closer(name: str, body: Callable | None, original: Callable | None) -> Callable:
    """The wrapper of one method by which users free an instance (``close``, ``destroy``...)."""

    def closer(self, *args, **kwargs):
        t = _record_of(self)
        if t is None:  # never tracked: behave as the original
            return original(self, *args, **kwargs) if original is not None else None
        if _releasing(t):
            return _run_body(body, self, args, kwargs)
        return t._registry._close_managed(t, self, name, args, kwargs)

    closer.__name__ = name
    return closer


def _del(body: Callable | None, original: Callable | None) -> Callable:
    # Held in the closure, not looked up at call time: an instance that outlives the main module
    # (kept in another module's global) is collected while module globals are being set to None.
    record_of, run_body, get_ident = _record_of, _run_body, _get_ident

    def __del__(self):
        t = record_of(self)
        if t is None:
            if original is not None:
                original(self)
            return
        if t.running is not None and get_ident() == t._registry._main_ident:  # being released: _releasing()
            run_body(body, self)
            return
        t._registry._defer_collected(t, self)

    return __del__


def _getstate(body: Callable | None) -> Callable:
    def __getstate__(self):
        state = body(self) if body is not None else self.__dict__
        return _without_record(state)

    return __getstate__


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


def _subclasses(cls: type) -> list[type]:
    found, todo = [], list(cls.__subclasses__())
    while todo:
        sub = todo.pop()
        if sub not in found:
            found.append(sub)
            todo += sub.__subclasses__()
    return found


def _check_closers(cls: type, closers: Any, release: Any) -> tuple[str, ...]:
    """``closers`` as a tuple of names of methods of ``cls``; ``TypeError`` naming the argument.
    A name the class lacks is refused only when named on purpose: the default ``close`` of a
    class that frees in ``__del__`` alone, or any closer when ``release`` is given, is added."""
    if closers is None:
        closers, named = ("close",), False
    else:
        named = release is None
    if isinstance(closers, str) or not isinstance(closers, (tuple, list)) or not closers \
            or not all(isinstance(n, str) and n.isidentifier() for n in closers):
        raise TypeError(f"closers must be a non-empty tuple of method names, got {closers!r}")
    lifecycle = {"__new__", "__init__", "__del__", *_STATE} & set(closers)
    if lifecycle:
        raise ValueError(f"closers must not name {', '.join(sorted(lifecycle))}")
    for name in closers:
        found = inspect.getattr_static(cls, name, _MISSING)
        if found is _MISSING:
            if not named:
                continue  # managed() adds it: the way to release an instance now
            raise TypeError(f"closers: {cls.__name__} has no method {name!r}")
        if not isinstance(found, types.FunctionType):
            raise TypeError(f"closers: {cls.__name__}.{name} is not a method but {type(found).__name__} "
                            f"{found!r}; name the methods by which an instance is freed")
    return tuple(closers)


def managed(
    cls: type | None = None,
    *,
    registry: Registry | None = None,
    context: Callable[[Any], Any] | None = None,
    kind: str | None = None,
    release: Callable[[Any], None] | None = None,
    closers: tuple[str, ...] | None = None,
) -> Any:
    """Make a class written in the legacy style (cleanup in ``close()``/``__del__``) release safely.

    Works as ``@managed`` on a class you own and as ``managed(SomeClass)`` on one you do not
    (the class is patched in place and returned). Each instance of the class or of any subclass
    is tracked when it is made, before its ``__init__`` runs (so what it creates is newer and
    released first). Its cleanup, ``release(instance)`` if given, else the original ``close()``
    body then the original ``__del__`` body, runs **at most once**, at the first of: an explicit
    ``close()`` (main thread, context current), the exit hook (main thread, context current,
    before interpreter teardown), or collection. On collection the cleanup does not run inside
    ``__del__``: the instance is kept and released at the next :func:`run_deferred` (a safe point
    on the main thread) or at exit. After release the class's ``__del__`` is a no-op.
    ``context(instance)`` gives the instance's context key, evaluated once, after ``__init__``
    (default: none).

    An explicit call of a closer is the user's call: ``mesh.close(keep_texture=True)`` runs the
    closer's body with those arguments, exactly once, returns its value and raises its exception
    (the other bodies still run; the instance counts as released). Called again, it does nothing
    and returns None. From another thread the release (with the arguments) waits for the next
    safe point and the call returns None.

    Edge cases: every subclass, however and whenever made (a ``@dataclass``, one whose parent's
    ``__init_subclass__`` does not chain), is managed too, its own ``close``/``__del__`` bodies
    included; each body runs once even when bodies call ``super().close()`` or a ``__del__`` calls
    ``close()``. An abstract closer stays abstract (and an abstract body is never run). An
    ``__init__`` that raises has what it acquired released at once. A copy (``copy``,
    ``deepcopy``, ``pickle``) is an owner of its own. A class whose instances have no ``__dict__``
    or cannot be weakly referenced is refused with ``TypeError``. ``closers`` names the methods by
    which users already free an instance (default ``close``; e.g. ``("destroy",)`` or ``("close",
    "destroy")``): each must be a plain method of the class (a property, attribute, static method
    or missing name is refused with ``TypeError``; the default ``close``, and any name when
    ``release`` is given, is added when the class lacks it);
    each is wrapped as ``close`` is, so the instance is released once whichever is called.

    Contexts: a class's own bodies may make GL calls of their own, so they run only with their
    own context current. When that context is gone (its window closed) they are **not run**: its
    per-context names (vertex arrays, framebuffers) died with it, and running the body with a
    sibling current would delete that sibling's objects of the same numbers; the release counts
    as done and is logged at debug level. A key that is not a pyglet context is a plain label:
    the bodies run. A ``release`` given here is trusted to cope (it runs with a live sibling of
    the context's object space current, as :class:`~.glresources.GLResources` releases do).

    ``SomeClass._wgl_managed`` is the :class:`Managed` record (``adopt(instance)``, ``restore()``).
    Applying ``managed`` again is harmless (and re-activates a restored class).
    """
    if cls is None:
        return lambda c: managed(c, registry=registry, context=context, kind=kind, release=release, closers=closers)
    if not isinstance(cls, type):
        raise TypeError(f"managed() expects a class, got {type(cls).__name__}")
    if registry is not None and not isinstance(registry, Registry):
        raise TypeError(f"registry must be a Registry, got {type(registry).__name__} {registry!r}")
    if release is not None and not callable(release):
        raise TypeError(f"release must be callable, got {type(release).__name__}")
    if context is not None and not callable(context):
        raise TypeError(f"context must be callable, got {type(context).__name__}")
    _check_description(kind, None, True)
    if not cls.__dictoffset__:
        raise TypeError(f"managed() needs instances with a __dict__; {cls.__name__} has __slots__ without one")
    if not cls.__weakrefoffset__:
        raise TypeError(f"managed() needs instances that can be weakly referenced; {cls.__name__} cannot be")
    existing = cls.__dict__.get("_wgl_managed")
    if existing is not None:
        existing.active = True
        return cls
    closers = _check_closers(cls, closers, release)
    Managed(cls, registry if registry is not None else _default, context, kind or cls.__name__, release, closers)
    return cls
