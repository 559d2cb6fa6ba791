"""What the built distribution ships."""

import os
import re
import subprocess
import sys
import zipfile

import warp_gl_lifecycle

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


def test_sdist_and_wheel_build_without_a_warning(tmp_path):
    """``python -m build`` (an sdist, then a wheel from it, as an index would) prints no warning: no
    deprecated metadata (``license`` is an SPDX string, PEP 639), nothing setuptools boxes in ``!!``."""
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}  # a setting
    # of this machine, not of the project: with it, distutils warns that it skips byte-compiling
    proc = subprocess.run([sys.executable, "-m", "build", "-o", str(tmp_path), str(ROOT)],
                          capture_output=True, text=True, timeout=600, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    output = proc.stdout + proc.stderr
    lines = [line for line in output.splitlines()
             if re.search(r"warn|deprecat|!!", line, re.IGNORECASE)]
    assert not lines, "\n".join(lines)
    version = warp_gl_lifecycle.__version__
    wheel = f"warp_gl_lifecycle-{version}-py3-none-any.whl"
    assert sorted(p.name for p in tmp_path.iterdir()) == [wheel, f"warp_gl_lifecycle-{version}.tar.gz"]
    metadata = zipfile.ZipFile(tmp_path / wheel).read(f"warp_gl_lifecycle-{version}.dist-info/METADATA").decode()
    assert "License-Expression: Apache-2.0" in metadata


EDITABLE_BUILD = """
import sys
from build import ProjectBuilder
from build.env import DefaultIsolatedEnv

with DefaultIsolatedEnv() as env:
    builder = ProjectBuilder.from_isolated_env(env, sys.argv[1])
    env.install(builder.build_system_requires)
    env.install(builder.get_requires_for_build("editable"))
    print(builder.build("editable", sys.argv[2]))
"""


def test_editable_build_prints_no_notice(tmp_path):
    """What ``make install``/``make demo`` build (``pip install -e``): no boxed setuptools notice either
    (its default editable strategy for a flat layout prints one; pyproject's package-dir avoids it)."""
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    proc = subprocess.run([sys.executable, "-c", EDITABLE_BUILD, str(ROOT), str(tmp_path)],
                          capture_output=True, text=True, timeout=600, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    output = proc.stdout + proc.stderr
    lines = [line for line in output.splitlines() if re.search(r"warn|deprecat|!!", line, re.IGNORECASE)]
    assert not lines, "\n".join(lines)
    assert proc.stdout.strip().endswith(".whl")
