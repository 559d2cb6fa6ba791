"""Where the user's code made an owner: its first calling frame outside this package and the libraries
the package wraps (Warp, pyglet, Newton), and the owner an upstream object made it for, if any.

The registry records one *site* per tracked owner (on whatever thread tracks it), in one slot of
its record: ``(code, offset)`` of the user's frame, or ``(code, offset, parent)`` when an upstream
object made the owner for itself (``parent``: that object's record; ``code`` None when no user
frame was below). It keeps a code object and an instruction offset, never a frame (whose locals
would keep the owner alive); the line number is worked out when a report asks (:func:`line_of`).
Recording must be cheap: ``track()`` checks its caller's file against :data:`user_files` inline and
calls :func:`capture` only for a file not known to be the user's. Nothing here knows of GL.

Which frames are skipped is decided per file, once, and cached by file name: the package's own
modules (except its programs ``demo`` and ``bench``, which use the package as any user does) and
the installed ``warp``, ``pyglet`` and ``newton`` packages.
"""

from __future__ import annotations

import os
from typing import Any, Callable

__all__ = ["Site", "capture", "file_line", "line_of", "parent_of", "user_files", "with_parent"]


#: Top-level packages whose frames a creation site skips, besides this package's own.
UPSTREAM = ("warp", "pyglet", "newton")
#: Modules of this package that are programs using it (their frames are the user's): demo, bench and
#: the bench's parts (bench_newton, bench_diagnostics, or a bench/ package).
_PROGRAMS = ("demo", "bench")

_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep
USER = 0
# co_filename -> USER (0), 1: this package's, 2: an upstream library's. Written on a miss from
# any thread (a dict item store is atomic; two threads computing one verdict agree).
_verdicts: dict[str, int] = {}
#: The files known to be the user's (co_filename): the registry's inline check. Added to by
#: :func:`capture` (a set add is atomic).
user_files: set[str] = set()
_upstream_dirs: list[tuple[str, ...]] = []

#: A creation site: ``(code, offset)`` of the user's frame, or ``(code or None, offset, parent)``.
Site = tuple


def _upstream() -> tuple[str, ...]:
    """The folders of the installed upstream packages (found once, without importing them)."""
    if not _upstream_dirs:
        import importlib.util  # noqa: PLC0415 - once, on the first unknown file

        folders = []
        for name in UPSTREAM:
            try:
                spec = importlib.util.find_spec(name)
            except (ImportError, ValueError):
                spec = None
            for location in getattr(spec, "submodule_search_locations", None) or ():
                folders.append(os.path.join(os.path.abspath(location), ""))
        _upstream_dirs.append(tuple(folders))
    return _upstream_dirs[0]


def _verdict(filename: str) -> int:
    path = os.path.abspath(filename) if filename and not filename.startswith("<") else filename
    if path.startswith(_PACKAGE):
        module = path[len(_PACKAGE):].split(os.sep, 1)[0]
        verdict = USER if module.startswith(_PROGRAMS) else 1
    else:
        verdict = 2 if path.startswith(_upstream()) else USER
    _verdicts[filename] = verdict
    if verdict == USER:
        user_files.add(filename)
    return verdict


def capture(frame: Any, record_of: Callable[[Any], Any]) -> Site | None:
    """The site of an owner being tracked by the code running in ``frame``.

    The first frame, from ``frame`` outwards, outside this package and the upstream libraries,
    as ``(code, offset)``, with a third item, the parent, when there is one: the record
    (``record_of(self)``) of the innermost live owner that is ``self`` in an upstream library's
    frame on the way (the Warp renderer that makes its own instancers, the Newton viewer that
    makes its helpers). Frames of this package are never asked (its owners are the user's).
    None when there is neither a user frame nor a parent; ``(None, 0, parent)`` for a parent
    without a user frame (an owner made in a callback the upstream library runs).
    """
    verdicts = _verdicts
    parent = None
    while frame is not None:
        code = frame.f_code
        verdict = verdicts.get(code.co_filename)
        if verdict is None:
            verdict = _verdict(code.co_filename)
        if not verdict:
            return (code, frame.f_lasti) if parent is None else (code, frame.f_lasti, parent)
        if verdict == 2 and parent is None and code.co_argcount and code.co_varnames[0] == "self":
            try:
                record = record_of(frame.f_locals.get("self"))
            except Exception:  # noqa: BLE001 - an odd upstream object must not stop tracking
                record = None
            if record is not None and record.alive:
                parent = record
        frame = frame.f_back
    return None if parent is None else (None, 0, parent)


def parent_of(site: Site | None) -> Any:
    """The parent record in a site, or None."""
    return site[2] if site is not None and len(site) > 2 else None


def with_parent(site: Site | None, parent: Any) -> Site:
    """``site`` with ``parent`` as its parent (an owner adopted under the one that made it)."""
    code, offset = site[:2] if site is not None else (None, 0)
    return (code, offset, parent)


def line_of(site: Site | None) -> tuple[str, int] | None:
    """``(filename, line)`` of a site recorded by :func:`capture`; None for none."""
    if site is None or site[0] is None:
        return None
    code, offset = site[0], site[1]
    line = code.co_firstlineno
    for start, end, number in code.co_lines():
        if start <= offset < end:
            if number is not None:
                line = number
            break
    return code.co_filename, line


def file_line(site: Site | None) -> str:
    """``file:line`` of a site (the file as given, relative to the working folder when inside
    it), or ``unknown`` for none."""
    where = line_of(site)
    if where is None:
        return "unknown"
    filename, line = where
    try:
        relative = os.path.relpath(filename)
        if not relative.startswith(os.pardir):
            filename = relative
    except ValueError:  # another drive (Windows)
        pass
    return f"{filename}:{line}"
