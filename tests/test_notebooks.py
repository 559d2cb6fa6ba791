"""Notebook users: a real Jupyter kernel (jupyter_client + ipykernel) re-running a cell that makes
Newton's ViewerGL or Warp's OpenGLRenderer (headless, device cpu) and draws one frame.

Each test starts one kernel (Newton's import alone takes a while on two CPUs), re-runs the cell 10
times, counts live GL names and RSS from inside the kernel after every run, deletes the variable,
restarts the kernel and shuts it down, and checks the kernel's own stderr and exit status.
"""

import json
import os
import sys

import pytest

from .conftest import SCENARIOS, imported_by_the_package, python_path, without_warp_lines
from .test_warp_dropin import desktop_env, xvfb_display  # noqa: F401 - the Xvfb fixture

jupyter_client = pytest.importorskip("jupyter_client", reason="pip install -e '.[test]' (jupyter_client)")
pytest.importorskip("ipykernel", reason="pip install -e '.[test]' (ipykernel)")

RERUNS = 10
TIMEOUT = 600  # a fresh machine compiles Newton's kernels on the first viewer

# Counting shared GL names from pyglet's shadow context (same object space as every window).
COUNT = """
import json, pyglet
from pyglet import gl
def _wgl_figures():
    previous = gl.current_context
    gl._shadow_window.switch_to()
    names = {kind: sum(1 for n in range(1, 4000) if check(n)) for kind, check in
             (("buffers", gl.glIsBuffer), ("textures", gl.glIsTexture),
              ("renderbuffers", gl.glIsRenderbuffer), ("programs", gl.glIsProgram))}
    if previous is not None and previous.canvas is not None:
        previous.set_current()
    with open("/proc/self/status") as status:
        rss = next(int(line.split()[1]) for line in status if line.startswith("VmRSS")) / 1024
    print("FIGURES", json.dumps({"names": names, "rss_mb": round(rss, 1)}), flush=True)
"""
# (set-up cell, the cell re-run). The set-up makes one, draws a frame and closes it first, so that what pyglet makes
# once per process and shares (the glyph texture of Warp's info label) is in the baseline.
SCENES = {
    "newton": ("import _newton_scene as scene\nfirst = scene.viewer()\nscene.draw(first, frames=1)\nfirst.close()",
               "viewer = scene.viewer()\nscene.draw(viewer, frames=1)"),
    "warp": ("import _warp_scene as scene\nfirst = scene.renderer()\nscene.draw(first, frames=1)\nfirst.close()",
             "viewer = scene.renderer()\nscene.draw(viewer, frames=1)"),
}


class Kernel:
    """A real IPython kernel running this interpreter, its stdout and stderr in ``log``."""

    def __init__(self, tmp_path, env):
        from jupyter_client import KernelManager

        self.log_path = tmp_path / "kernel.log"
        self.log = open(self.log_path, "w")  # noqa: SIM115 - closed in shutdown()
        self.manager = KernelManager(kernel_name="python3")
        self.manager.shutdown_wait_time = 120  # the exit release of a Newton viewer on 2 busy CPUs
        self.manager.start_kernel(env=env, cwd=str(SCENARIOS), stdout=self.log, stderr=self.log)
        self.processes = [self.manager.provisioner.process]
        self.client = self.manager.client()
        self.client.start_channels()
        self.client.wait_for_ready(timeout=120)

    def run(self, code):
        """Run one cell; its printed output (and the traceback, if it fails)."""
        out = []

        def hook(msg):
            if msg["msg_type"] == "stream":
                out.append(msg["content"]["text"])
            elif msg["msg_type"] == "error":
                out.append("\n".join(msg["content"]["traceback"]))

        reply = self.client.execute_interactive(code, timeout=TIMEOUT, output_hook=hook)
        assert reply["content"]["status"] == "ok", "".join(out)
        return "".join(out)

    def figures(self):
        line = next(line for line in self.run("_wgl_figures()").splitlines() if line.startswith("FIGURES "))
        return json.loads(line[len("FIGURES "):])

    def restart(self):
        self.manager.restart_kernel(now=False)
        self.processes.append(self.manager.provisioner.process)
        self.client.wait_for_ready(timeout=120)

    def shutdown(self):
        """Shut down (as Jupyter does); the exit status of every kernel process, and their stderr."""
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=False)
        self.log.close()
        return [process.wait(timeout=60) for process in self.processes], self.log_path.read_text()


@pytest.fixture
def kernel_env():
    return {**os.environ, "PYGLET_HEADLESS": "true", "PYTHONPATH": python_path(), "WGL_IMPORT": "1"}


@pytest.mark.parametrize("scene", ["newton", "warp"])
def test_rerunning_a_viewer_cell_keeps_only_the_live_viewer(tmp_path, kernel_env, scene, measurement):
    if scene == "newton":
        pytest.importorskip("newton", reason="Newton is not installed: pip install -e '.[newton]'")
    check_reruns(tmp_path, kernel_env, scene, measurement)


def test_rerunning_a_desktop_newton_viewer_cell_keeps_only_the_live_viewer(tmp_path, kernel_env, xvfb_display, measurement):
    """A real window (Xvfb, GLX) with Newton's imgui GUI: the window holds the renderer's mouse
    handlers and the GUI holds the viewer, cycles of their own."""
    pytest.importorskip("newton", reason="Newton is not installed: pip install -e '.[newton]'")
    pytest.importorskip("imgui_bundle")
    check_reruns(tmp_path, {**kernel_env, **desktop_env(xvfb_display)}, "newton", measurement, label="desktop newton")


def check_reruns(tmp_path, kernel_env, scene, measurement, label=None):
    setup, cell = SCENES[scene]
    kernel = Kernel(tmp_path, kernel_env)
    try:
        assert kernel.run("import sys; print(sys.executable)").strip() == sys.executable
        kernel.run(setup + "\nimport warp_gl_lifecycle\n" + COUNT)
        baseline = kernel.figures()
        runs = []
        for _ in range(RERUNS):
            kernel.run(cell)
            runs.append(kernel.figures())
        kernel.run("del viewer")  # nothing holds it: released between cells, not at the next frame
        after_del = kernel.figures()
        kernel.restart()
        assert "ok" in kernel.run("import warp_gl_lifecycle\nprint('ok')")
    finally:
        codes, log = kernel.shutdown()
    rss = [run["rss_mb"] for run in runs]
    per_rerun = (rss[-1] - rss[1]) / (RERUNS - 2)
    measurement(f"{label or scene} cell re-run {RERUNS} times in a kernel",
                f"names {baseline['names']} before, {runs[0]['names']} after run 1, {runs[-1]['names']} after run "
                f"{RERUNS}, {after_del['names']} after del; RSS {' '.join(str(r) for r in rss)} MB "
                f"({per_rerun:+.2f} MB per re-run, runs 2-{RERUNS})")
    assert all(run["names"] == runs[0]["names"] for run in runs), [run["names"] for run in runs]
    assert per_rerun < 3
    assert after_del["names"] == baseline["names"]
    assert codes == [0, 0]
    stderr = without_warp_lines(log)
    for bad in ("Exception ignored", "Traceback", "ImportError", "CUDA error"):
        assert bad not in stderr, stderr


def test_the_package_does_not_import_ipython():
    """Outside IPython nothing of it is imported (it is looked up in sys.modules)."""
    assert imported_by_the_package("IPython", "ipykernel") == []
