"""Run a function when a module is first imported, without importing it ahead of the program.

As wrapt's ``when_imported``: :func:`when_imported` runs ``hook(module)`` right after the module
named has executed, on the thread that imported it, or at once if it is imported already. A small
``sys.meta_path`` finder finds the module's spec through the other finders and wraps its loader;
nothing is imported early, and a program that never imports the module pays one dictionary
lookup per import. The hook runs at most once per :func:`when_imported` call; :func:`cancel`
withdraws a hook that has not run.
"""

from __future__ import annotations

import importlib.abc
import sys
import threading
from typing import Any, Callable

__all__ = ["cancel", "when_imported"]

_lock = threading.Lock()
_hooks: dict[str, list[Callable[[Any], None]]] = {}


def when_imported(name: str, hook: Callable[[Any], None]) -> None:
    """Call ``hook(module)`` once module ``name`` has been imported (now, if it already is).

    A hook that raises is reported by the import that ran it (its caller sees the error):
    hooks should catch their own failures. Thread-safe.
    """
    module = sys.modules.get(name)
    if module is not None:
        hook(module)
        return
    with _lock:
        _hooks.setdefault(name, []).append(hook)
        if _FINDER not in sys.meta_path:
            sys.meta_path.insert(0, _FINDER)


def cancel(name: str, hook: Callable[[Any], None]) -> bool:
    """Withdraw ``hook`` for ``name`` if it has not run. Returns whether it was waiting."""
    with _lock:
        waiting = _hooks.get(name, [])
        if hook not in waiting:
            return False
        waiting.remove(hook)
        if not waiting:
            del _hooks[name]
        if not _hooks and _FINDER in sys.meta_path:
            sys.meta_path.remove(_FINDER)
        return True


def _run_hooks(module: Any) -> None:
    with _lock:
        hooks = _hooks.pop(module.__name__, [])
        if not _hooks and _FINDER in sys.meta_path:
            sys.meta_path.remove(_FINDER)
    for hook in hooks:
        hook(module)


class _HookedLoader(importlib.abc.Loader):
    """The module's own loader, with the hooks run after it executed the module."""

    def __init__(self, loader: Any) -> None:
        self._loader = loader

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module) -> None:
        module.__loader__ = self._loader  # the module sees its own loader, as if we were not here
        if getattr(module, "__spec__", None) is not None:
            module.__spec__.loader = self._loader
        self._loader.exec_module(module)
        _run_hooks(module)

    def __getattr__(self, name):  # get_resource_reader, get_source, is_package, ...
        return getattr(self._loader, name)


class _Finder(importlib.abc.MetaPathFinder):
    """Finds nothing itself: wraps the loader of a watched module found by the other finders."""

    def find_spec(self, fullname, path, target=None):
        if fullname not in _hooks:
            return None
        for finder in sys.meta_path:
            if finder is self:
                continue
            find_spec = getattr(finder, "find_spec", None)
            if find_spec is None:
                continue
            spec = find_spec(fullname, path, target)
            if spec is not None:
                if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                    spec.loader = _HookedLoader(spec.loader)
                return spec
        return None


_FINDER = _Finder()
