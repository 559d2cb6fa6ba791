"""What the built distribution ships."""

import subprocess
import sys
import zipfile

from .conftest import ROOT


def test_wheel_ships_py_typed(tmp_path):
    """The package is typed: its wheel carries the PEP 561 marker, so users' type checkers see it."""
    proc = subprocess.run(  # pip builds it as an installer would, with pyproject.toml's build-system
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path), str(ROOT)],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    names = zipfile.ZipFile(next(tmp_path.glob("warp_gl_lifecycle-*.whl"))).namelist()
    assert "warp_gl_lifecycle/py.typed" in names
    assert "warp_gl_lifecycle/warp_compat.py" in names
    # every module of the source tree, subpackages included (bench/ is one)
    shipped = {name for name in names if name.endswith(".py")}
    in_tree = {path.relative_to(ROOT).as_posix() for path in (ROOT / "warp_gl_lifecycle").rglob("*.py")}
    assert in_tree <= shipped, sorted(in_tree - shipped)
