"""Opt-in: SIGTERM and SIGHUP end the program as a normal exit, so the exit release still runs."""

from __future__ import annotations

import signal
import threading

__all__ = ["handle_signals"]


def handle_signals(signals: tuple[int, ...] | None = None) -> list[int]:
    """Turn each of ``signals`` (default SIGTERM and SIGHUP) into ``SystemExit(128 + signum)``.

    Python's default for these signals kills the process at once: no ``atexit`` hook runs and
    GL objects and CUDA-GL registrations are left to the driver. With this, the signal raises
    ``SystemExit`` in the main thread, ``finally`` blocks and the exit hook run, nothing is
    printed, and the exit status is ``128 + signum``, as a shell reports a killed process.
    A handler already installed by the program (anything but the default) is left alone.
    Call from the main thread. Returns the signals now handled.
    """
    if threading.current_thread() is not threading.main_thread():
        raise RuntimeError("handle_signals() must be called from the main thread")
    wanted = _checked(signals) if signals is not None else tuple(
        getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name)
    )
    handled = []
    for signum in wanted:
        if signal.getsignal(signum) in (signal.SIG_DFL, _exit_on_signal):
            signal.signal(signum, _exit_on_signal)
            handled.append(signum)
    return handled


def _checked(signals) -> tuple[int, ...]:
    """``signals`` as signal numbers that may be handled; TypeError/ValueError naming the
    mistake before any handler is installed."""
    if isinstance(signals, (int, str)) or not hasattr(signals, "__iter__"):
        raise TypeError(f"signals must be a tuple of signal numbers such as (signal.SIGTERM,), "
                        f"got {type(signals).__name__} {signals!r}")
    checked = []
    for signum in signals:
        if isinstance(signum, bool) or not isinstance(signum, int):
            raise TypeError(f"signals must hold signal numbers, got {type(signum).__name__} {signum!r}")
        if signum not in signal.valid_signals():
            raise ValueError(f"signals: {signum} is not a signal number on this system")
        if signum in _UNCATCHABLE:
            raise ValueError(f"signals: {signal.Signals(signum).name} cannot be handled")
        checked.append(signal.Signals(signum))
    return tuple(checked)


_UNCATCHABLE = {getattr(signal, name) for name in ("SIGKILL", "SIGSTOP") if hasattr(signal, name)}


def _exit_on_signal(signum, _frame) -> None:
    raise SystemExit(128 + signum)
