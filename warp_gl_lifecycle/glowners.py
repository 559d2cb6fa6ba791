"""What the compat modules share: taking an upstream object's GL names into a GLResources, and the
safe point they put at the start of an upstream frame.

Knows nothing of Warp or Newton: callers name the attributes that hold names. Nothing here runs
inside a finalizer (the compat modules release through :func:`~.registry.managed`, which defers
a collected owner to a safe point on the main thread).
"""

from __future__ import annotations

from typing import Any, Callable, Iterable

__all__ = ["HOLDINGS", "gl_name", "missing_attributes", "names_in", "patch", "program_ids", "safe_point_first",
           "take_names", "take_programs", "take_registrations"]


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
