"""What a user sees of the package before reading anything: its names (tab completion, ``import *``) and
``--version``."""

import importlib.metadata
import os
import subprocess
import sys

from .conftest import ROOT

FRESH = [sys.executable, "-c"]  # a fresh interpreter: before any lazy name was used


def fresh(code: str) -> str:
    proc = subprocess.run([*FRESH, code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYGLET_HEADLESS": "true"})
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_dir_offers_every_public_name_before_first_use():
    names = fresh("import warp_gl_lifecycle as w; print(' '.join(dir(w)))").split()
    import warp_gl_lifecycle

    missing = set(warp_gl_lifecycle.__all__) - set(names)
    assert not missing, f"dir() lacks {sorted(missing)}"
    for name in ("ShapeInstancer", "flush", "install", "uninstall", "installed", "handle_signals"):
        assert name in names


def test_the_namespace_holds_no_import_of_its_own():
    """No ``os``, no ``annotations`` (``from __future__``), no module but the package's own. In a fresh
    interpreter: under pytest, assertion rewriting adds its helpers to the package (it holds a plugin)."""
    leaked = fresh(
        "import types, warp_gl_lifecycle as w\n"
        "for name in dir(w):\n"
        "    value = getattr(w, name)\n"
        "    if isinstance(value, types.ModuleType) and not value.__name__.startswith('warp_gl_lifecycle.'):\n"
        "        print(name)\n"
        "    elif type(value).__module__ == '__future__':\n"
        "        print(name)\n"
    )
    assert leaked.split() == []


def test_star_import_gives_all_and_every_name_resolves():
    names = fresh("from warp_gl_lifecycle import *; print(' '.join(sorted(k for k in dir() if not k.startswith('_'))))")
    import warp_gl_lifecycle

    assert names.split() == sorted(warp_gl_lifecycle.__all__)
    for name in warp_gl_lifecycle.__all__:
        assert getattr(warp_gl_lifecycle, name) is not None


def test_version_option_prints_the_installed_version():
    proc = subprocess.run([sys.executable, "-m", "warp_gl_lifecycle", "--version"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    version = importlib.metadata.version("warp-gl-lifecycle")
    assert proc.stdout == f"warp-gl-lifecycle {version}\n"
    import warp_gl_lifecycle

    assert warp_gl_lifecycle.__version__ == version
    assert "Traceback" not in proc.stderr
