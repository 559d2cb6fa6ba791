"""Holding SIGINT and SIGTERM while the registry's own code runs between two releases, so that an
interrupt never cuts the registry's bookkeeping (it is raised once the release loop is done)."""

from __future__ import annotations

import _thread
import functools
import signal
from typing import Any

__all__ = ["HeldSignals"]

#: Signals whose handlers are held while the registry itself works between two releases.
_HELD_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM") if hasattr(signal, name))


class HeldSignals:
    """While a release loop runs on the main thread: a SIGINT or SIGTERM whose Python handler
    would run in the registry's own frames (between two releases: claiming, switching context,
    accounting) is held and its handler run once the loop is done (:meth:`raised`); one that
    arrives inside a release (the user's code, the GL layer) is handled at once, as usual."""

    __slots__ = ("main_ident", "own_files", "saved", "held")

    def __init__(self, main_ident: int, own_files: set[str]) -> None:
        self.main_ident = main_ident
        self.own_files = own_files  # the registry's files: a frame there is between two releases
        self.saved: list[tuple[int, Any]] = []
        self.held: list[tuple[Any, int]] = []

    def __enter__(self) -> "HeldSignals":
        if _thread.get_ident() == self.main_ident:
            for signum in _HELD_SIGNALS:
                handler = signal.getsignal(signum)
                if callable(handler):
                    self.saved.append((signum, handler))
                    signal.signal(signum, functools.partial(self._handle, handler))
        return self

    def _handle(self, handler: Any, signum: int, frame: Any) -> None:
        if frame is not None and frame.f_code.co_filename in self.own_files:
            self.held.append((handler, signum))
        else:
            handler(signum, frame)

    def __exit__(self, *exc_info) -> None:
        for signum, handler in self.saved:
            signal.signal(signum, handler)

    def raised(self) -> BaseException | None:
        """Run the held handlers; the first exception one raises (KeyboardInterrupt...)."""
        first = None
        for handler, signum in self.held:
            try:
                handler(signum, None)
            except BaseException as exc:  # noqa: BLE001
                first = first or exc
        self.held.clear()
        return first
