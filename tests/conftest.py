"""Shared fixtures: a real headless pyglet GL context, and a runner for subprocess exit scenarios."""

import importlib.metadata
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

os.environ.setdefault("PYGLET_HEADLESS", "true")

import pyglet  # noqa: E402

pyglet.options["headless"] = True

from warp_gl_lifecycle.warp_compat import quiet_warp  # noqa: E402

wp = quiet_warp()

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = Path(__file__).resolve().parent / "scenarios"
BAD_STDERR = ("Exception ignored", "Traceback", "ImportError", "CUDA error")

# What Warp itself prints on a machine without a CUDA driver, line by line, exactly; removed from a
# scenario's stderr before it is checked (there only), so that anything else, ours above all, still
# fails the check. Start-up (``wp.init()``): 1.8 tries libcuda.so and reports the failed calls;
# later versions print one warning.
WARP_START_UP_WITHOUT_DRIVER = (
    r"Warp CUDA error: Could not open libcuda\.so\.",
    r"Warp CUDA error: Function cuDriverGetVersion_f: a suitable driver entry point was not found",
    r"Warp CUDA error 36 \(in function (wp_)?cuda_driver_version, \S+warp\.cu:\d+\)",
    r"Warp CUDA warning: Could not find or load the NVIDIA CUDA driver\. GPU execution will not be available\.",
    r"Warp UserWarning: ",
    r"   Insufficient CUDA driver version\.",
    r"   The minimum required CUDA driver version is [\d.]+, but the installed CUDA driver version is 0\.0\.",
    r"   Visit https://github\.com/NVIDIA/warp/blob/main/README\.md#installing for guidance\.",
)
# Plain Warp (before the drop-in is installed) registering a renderer's GL buffer with CUDA there.
WARP_REGISTRATION_WITHOUT_DRIVER = (
    r"Warp CUDA error: Function cuGraphicsGLRegisterBuffer_f: a suitable driver entry point was not found",
    r"Warp CUDA error 36 \(in function (wp_)?cuda_graphics_register_gl_buffer, \S+warp\.cu:\d+\)",
    r"Warp UserWarning: Could not register GL buffer since CUDA/OpenGL interoperability is not available\. "
    r"Falling back to copy operations between the Warp array and the OpenGL buffer\.",
)


def without_warp_lines(stderr: str, patterns=WARP_START_UP_WITHOUT_DRIVER) -> str:
    """``stderr`` less the lines that are exactly one of ``patterns`` (Warp's own messages on a
    machine without a CUDA driver). With a CUDA device nothing is removed."""
    if has_cuda():
        return stderr
    whole = re.compile("|".join(f"(?:{p})" for p in patterns))
    # Warp's native code writes unbuffered, Python's warnings buffered: a line may end mid-line.
    kept = [line for line in re.split(r"\n|(?=Warp CUDA )", stderr) if not whole.fullmatch(line)]
    return "\n".join(kept)


def has_cuda() -> bool:
    wp.init()
    return wp.is_cuda_available()


def pytest_collection_modifyitems(config, items):
    if has_cuda():
        return
    skip = pytest.mark.skip(reason="needs a CUDA device")
    for item in items:
        if "cuda" in item.keywords:
            item.add_marker(skip)


# gl_window and gl_context come from the package's own pytest plugin (warp_gl_lifecycle_pytest),
# loaded through its entry point when the package is installed and named here when it is only on
# PYTHONPATH (as on the GPU machine).
_installed = any(ep.name == "warp_gl_lifecycle" for ep in importlib.metadata.entry_points(group="pytest11"))
pytest_plugins = ["pytester"] + ([] if _installed else ["warp_gl_lifecycle_pytest"])
pytest_plugins.append("tests.measurements")  # the `measurement` fixture: figures go to the summary


class Result:
    def __init__(self, proc: subprocess.CompletedProcess):
        self.returncode = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr

    def assert_clean(self, returncode: int = 0, warp_lines=WARP_START_UP_WITHOUT_DRIVER) -> "Result":
        """Exit ``returncode`` and nothing bad on stderr, once Warp's own ``warp_lines`` are taken out."""
        assert self.returncode == returncode, f"exit {self.returncode}\nstdout:\n{self.stdout}\nstderr:\n{self.stderr}"
        ours = without_warp_lines(self.stderr, warp_lines)
        for bad in BAD_STDERR:
            assert bad not in ours, f"{bad!r} in stderr:\n{self.stderr}"
        return self

    def figures(self) -> dict:
        """The JSON a scenario printed after ``FIGURES``."""
        import json  # noqa: PLC0415

        line = next(line for line in self.stdout.splitlines() if line.startswith("FIGURES "))
        return json.loads(line[len("FIGURES "):])

    def stats(self) -> dict:
        line = next(line for line in self.stdout.splitlines() if line.startswith("STATS "))
        return dict(eval(line[len("STATS "):]))  # noqa: S307 - our own scenario's repr of a list of tuples


def python_path() -> str:
    """PYTHONPATH for a child interpreter: the project first, then whatever this one was given
    (on the GPU machine warp and pyglet come from there, not from an installed environment)."""
    return os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)


def imported_by_the_package(*packages: str) -> list[str]:
    """The modules of ``packages`` that ``import warp_gl_lifecycle`` imports, in a fresh interpreter."""
    code = f"import sys, warp_gl_lifecycle; print(sorted(m for m in sys.modules if m.split('.')[0] in {packages!r}))"
    proc = subprocess.run([sys.executable, "-c", code], env={**os.environ, "PYTHONPATH": python_path()},
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    import ast  # noqa: PLC0415

    return ast.literal_eval(proc.stdout.strip())


def run_scenario(name: str, *args: str, env: dict | None = None, timeout: float = 180) -> Result:
    """Run ``tests/scenarios/<name>`` in a fresh interpreter; returns its exit code and output."""
    full_env = {**os.environ, "PYGLET_HEADLESS": "true", "PYTHONPATH": python_path(), **(env or {})}
    proc = subprocess.run(
        [sys.executable, str(SCENARIOS / name), *args],
        cwd=SCENARIOS,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return Result(proc)


@pytest.fixture
def scenario():
    return run_scenario
