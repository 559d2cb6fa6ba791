"""The ``ResourceWarning`` for an owner released unclosed (by collection or at exit): one per owner,
each through the warning filters on its own, pointing at the user's code, never at ours."""

from __future__ import annotations

import linecache
import os
import sys
import tracemalloc
import warnings
from typing import Any

__all__ = ["allocation_site", "could_show", "skip_warning_frames_in", "warn_unclosed"]

#: Folders whose frames a ResourceWarning skips to reach the user's code: this package's, and
#: those the layers above add with :func:`skip_warning_frames_in` (the libraries they patch).
_SKIPPED_DIRS: list[str] = [os.path.dirname(os.path.abspath(__file__)) + os.sep]


def skip_warning_frames_in(folder: str) -> None:
    """Make unclosed-owner warnings skip frames under ``folder`` (a library whose frame loop runs
    our safe points, e.g. Warp's renderer): they point at the user's line that called into it, and
    the allocation traceback under ``-X tracemalloc`` leaves them out."""
    folder = os.path.join(os.path.abspath(folder), "")
    if folder not in _SKIPPED_DIRS:
        _SKIPPED_DIRS.append(folder)


def _outside_package(filename: str) -> bool:
    return not filename.startswith(tuple(_SKIPPED_DIRS))


def could_show() -> bool:
    """Whether the current filters could show an unclosed-owner warning; False only when they
    certainly ignore every ``ResourceWarning`` (Python's default outside ``-X dev``), so that a
    release of many owners skips ``warnings`` altogether. One call per batch; a filter for some
    messages, modules or lines leaves the decision to ``warnings``, owner by owner."""
    for action, message, category, module, lineno in warnings.filters:
        if not issubclass(ResourceWarning, category):
            continue
        if message is not None or module is not None or lineno:
            return True  # decided owner by owner, by warnings itself
        return action != "ignore"
    return True


def allocation_site(owner: Any) -> list[tuple[str, int]] | None:
    """Where ``owner`` was allocated, most recent call last, as (filename, line) pairs of the
    user's frames only (this package's and the skipped libraries' are left out); None when
    tracemalloc is not tracing. Called while the owner is being tracked: when tracemalloc has no
    user frame for the object (an instance's inline dict, or an allocation inside our frames),
    the current stack stands in, up to tracemalloc's frame limit."""
    if not tracemalloc.is_tracing():
        return None
    limit = tracemalloc.get_traceback_limit()
    recorded = tracemalloc.get_object_traceback(owner)
    frames = [(f.filename, f.lineno) for f in recorded] if recorded is not None else []
    frames = [f for f in frames if _outside_package(f[0])]
    if not frames:  # most recent call first, while walking out
        frame = sys._getframe(1)
        while frame is not None and len(frames) < limit:
            if _outside_package(frame.f_code.co_filename):
                frames.append((frame.f_code.co_filename, frame.f_lineno))
            frame = frame.f_back
        frames.reverse()
    return frames  # tracemalloc's order: oldest first


def _warning_site(allocated: list[tuple[str, int]] | None) -> tuple[str, int]:
    """Where a ResourceWarning should point: the user's innermost line that allocated the owner
    (when tracemalloc recorded it), else the innermost user frame now (the line where the owner
    was dropped or the safe point ran), else ``sys:1`` as Python's own warnings at exit."""
    if allocated:
        return allocated[-1]
    frame = sys._getframe(1)
    while frame is not None:
        if _outside_package(frame.f_code.co_filename):
            return frame.f_code.co_filename, frame.f_lineno
        frame = frame.f_back
    return "sys", 1


def warn_unclosed(description: str, allocated: list[tuple[str, int]] | None, at_exit: bool) -> None:
    """``ResourceWarning: unclosed <description>, released at exit|by garbage collection``, pointing
    at the user's code, with where the owner was allocated when tracemalloc was tracing (as Python
    does for unclosed files). Goes through the filters on its own (no registry of shown warnings:
    one warning per owner). Raised as an error (``-W error``) it goes to ``sys.unraisablehook``,
    as Python reports an unclosed file's warning raised in a finalizer."""
    when = "at exit" if at_exit else "by garbage collection"
    message = f"unclosed {description}, released {when}"
    if allocated:
        lines = []
        for filename, lineno in allocated:
            lines.append(f'  File "{filename}", line {lineno}')
            source = linecache.getline(filename, lineno).strip()
            if source:
                lines.append(f"    {source}")
        message += "\nObject allocated at (most recent call last):\n" + "\n".join(lines)
    try:
        filename, lineno = _warning_site(allocated)
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
