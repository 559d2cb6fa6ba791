"""Diagnostics (issue 19): where the user's code made each live owner, in which context, what GL names
it holds and their bytes (as GL itself reports them), owners an upstream object made for itself shown
under it; in report(), owner_counts(), the no_leaked_owners message, ``run --report`` and doctor."""

import importlib.metadata
import json
import os
import subprocess
import sys
import textwrap
import tracemalloc

import pytest

import warp_gl_lifecycle as wgl
from warp_gl_lifecycle import diagnostics
from warp_gl_lifecycle.managed_classes import managed
from warp_gl_lifecycle.registry import Registry, registry
from warp_gl_lifecycle.sites import file_line, line_of, parent_of

from .conftest import SCENARIOS, Result, python_path

HERE = os.path.basename(__file__)


def line_marked(path, marker):
    """The number of the line of ``path`` that contains ``marker``."""
    with open(path) as source:
        return next(number for number, line in enumerate(source, 1) if marker in line)


class Owner:
    pass


# -- creation sites (no GL) --------------------------------------------------------------------------


def test_creation_site_is_the_line_that_tracked_it_without_tracemalloc():
    assert not tracemalloc.is_tracing()
    reg = Registry()
    owner = Owner()
    tracked = reg.track(owner, lambda reason: None, warn=False)  # site: this line
    filename, line = line_of(tracked.site)
    assert os.path.basename(filename) == HERE
    assert line == line_marked(__file__, "# site: this line")
    assert parent_of(tracked.site) is None
    tracked.close()


def test_creation_site_of_a_managed_instance_skips_the_package_frames():
    reg = Registry()

    @managed(registry=reg)
    class Legacy:
        def close(self):
            pass

    legacy = Legacy()  # made here
    record = legacy.__dict__["_wgl_tracked"]
    assert file_line(record.site).endswith(f"{HERE}:{line_marked(__file__, '# made here')}")
    legacy.close()


# -- counts and bytes, against what GL says ---------------------------------------------------------


def _gl_owner(gl, context, buffer_bytes, texture_size, renderbuffer_size):
    """A tracked owner holding one buffer, one RGBA8 texture and one RGBA8 renderbuffer."""
    from warp_gl_lifecycle.glresources import GLResources

    resources = GLResources(context)
    buffer = resources.gen_buffer()
    gl.glBindBuffer(gl.GL_ARRAY_BUFFER, buffer)
    gl.glBufferData(gl.GL_ARRAY_BUFFER, buffer_bytes, None, gl.GL_STATIC_DRAW)
    gl.glBindBuffer(gl.GL_ARRAY_BUFFER, 0)
    texture = gl.GLuint()
    gl.glGenTextures(1, texture)
    gl.glBindTexture(gl.GL_TEXTURE_2D, texture)
    gl.glTexImage2D(gl.GL_TEXTURE_2D, 0, gl.GL_RGBA8, *texture_size, 0, gl.GL_RGBA, gl.GL_UNSIGNED_BYTE, None)
    gl.glBindTexture(gl.GL_TEXTURE_2D, 0)
    resources.textures.append(texture.value)
    renderbuffer = gl.GLuint()
    gl.glGenRenderbuffers(1, renderbuffer)
    gl.glBindRenderbuffer(gl.GL_RENDERBUFFER, renderbuffer)
    gl.glRenderbufferStorage(gl.GL_RENDERBUFFER, gl.GL_RGBA8, *renderbuffer_size)
    gl.glBindRenderbuffer(gl.GL_RENDERBUFFER, 0)
    resources.renderbuffers.append(renderbuffer.value)
    owner = Owner()
    tracked = wgl.track(owner, resources.release, context=context, kind="Probe")  # probe made here
    return owner, tracked, resources


@pytest.mark.parametrize("path", ["direct state access", "binding, as on a GL 3.3 context"])
def test_owner_counts_give_names_and_bytes_as_gl_reports_them(gl_context, monkeypatch, path):
    from pyglet import gl

    if path.startswith("binding"):
        monkeypatch.setattr(diagnostics._Sizer, "direct", False)
    bound = {}
    for binding in ("GL_COPY_READ_BUFFER_BINDING", "GL_TEXTURE_BINDING_2D", "GL_RENDERBUFFER_BINDING"):
        value = gl.GLint()
        gl.glGetIntegerv(getattr(gl, binding), value)
        bound[binding] = value.value

    before = wgl.owner_counts()
    owner, tracked, resources = _gl_owner(gl, gl_context, 1000, (16, 8), (4, 4))
    held = resources.names()
    during = wgl.owner_counts()
    assert during["owners"] == before["owners"] + 1
    assert during["by_kind"]["Probe"] == before["by_kind"].get("Probe", 0) + 1
    grown = {kind: during["names"][kind] - before["names"][kind] for kind in during["names"]}
    assert grown == {"buffers": 1, "textures": 1, "renderbuffers": 1, "vaos": 0, "framebuffers": 0, "programs": 0}
    added = {kind: during["bytes"][kind] - before["bytes"][kind] for kind in during["bytes"]}
    assert added == {"buffers": 1000, "textures": 16 * 8 * 4, "renderbuffers": 4 * 4 * 4, "total": 1000 + 512 + 64}
    text = wgl.report([tracked])
    assert "Probe x1" in text and f"{HERE}:{line_marked(__file__, '# probe made here')}" in text
    assert "1 buffer (1000 B), 1 texture (512 B), 1 renderbuffer (64 B)" in text
    assert "(open)" in text
    for binding, value in bound.items():  # sizing left the bindings as they were
        now = gl.GLint()
        gl.glGetIntegerv(getattr(gl, binding), now)
        assert now.value == value, binding
    tracked.close()
    after = wgl.owner_counts()
    assert after["names"] == before["names"] and after["bytes"] == before["bytes"]
    assert not gl.glIsBuffer(held["buffers"][0]) and not gl.glIsTexture(held["textures"][0])


def test_an_owner_whose_window_closed_is_in_a_gone_context_and_its_shared_names_are_still_sized(gl_window):
    import pyglet
    from pyglet import gl

    window = pyglet.window.Window(16, 16, visible=False, caption="short-lived")
    window.switch_to()
    owner, tracked, resources = _gl_owner(gl, window.context, 256, (4, 4), (2, 2))
    resources.gen_vao()
    text = wgl.report([tracked])
    assert "in window 'short-lived' (open)" in text and "1 vertex array" in text
    window.close()
    gl_window.switch_to()
    [root] = diagnostics.owners([tracked])
    assert root.context_alive is False and "gone" in root.context
    assert "vaos" not in root.names, "a vertex array died with its context: it is not held any more"
    assert root.bytes == {"buffers": 256, "textures": 4 * 4 * 4, "renderbuffers": 2 * 2 * 4}
    assert gl.current_context is gl_window.context, "sizing left another context current"
    tracked.close()


def _live_shared_names(gl, limit):
    """Live buffer and texture names below ``limit`` of the shared object space, seen from pyglet's
    shadow context."""
    previous = gl.current_context
    gl._shadow_window.switch_to()
    live = {"buffers": {n for n in range(1, limit) if gl.glIsBuffer(n)},
            "textures": {n for n in range(1, limit) if gl.glIsTexture(n)}}
    if previous is not None and previous.canvas is not None:
        previous.set_current()
    return live


def test_a_warp_renderers_holdings_are_exactly_what_its_close_deletes_and_its_instancers_are_under_it(gl_context):
    import warp.render
    from pyglet import gl

    renderer = warp.render.OpenGLRenderer(  # renderer made here
        headless=True, screen_width=32, screen_height=32, device="cpu")
    renderer.begin_frame(0.0)
    renderer.render_box("box", pos=(0.0, 0.0, 0.0), rot=(0.0, 0.0, 0.0, 1.0), extents=(0.5, 0.5, 0.5))
    renderer.end_frame()
    record = renderer.__dict__["_wgl_tracked"]
    mine = [t for t in registry.live() if t.seq >= record.seq]
    roots = diagnostics.owners(mine)
    assert [root.kind for root in roots] == ["OpenGLRenderer"], "an instancer Warp made was shown as the user's"
    children = roots[0].children
    assert children and {child.kind for child in children} == {"warp ShapeInstancer"}
    assert all(child.made_by == roots[0].description for child in children)
    assert roots[0].site.endswith(f"{HERE}:{line_marked(__file__, '# renderer made here')}")
    held = {kind: {n for owner in roots[0].walk() for n in owner.names.get(kind, ())} for kind in ("buffers", "textures")}
    assert held["buffers"] and held["textures"]
    counted = diagnostics.owner_counts()
    limit = max(held["buffers"] | held["textures"]) + 1000  # names grow over a whole test session
    live_before = _live_shared_names(gl, limit)
    assert held["buffers"] <= live_before["buffers"] and held["textures"] <= live_before["textures"]
    renderer.close()
    live_after = _live_shared_names(gl, limit)
    assert live_before["buffers"] - live_after["buffers"] == held["buffers"]
    assert live_before["textures"] - live_after["textures"] == held["textures"]
    after = diagnostics.owner_counts()
    assert counted["names"]["buffers"] - after["names"]["buffers"] == len(held["buffers"])
    assert counted["names"]["textures"] - after["names"]["textures"] == len(held["textures"])
    assert counted["bytes"]["buffers"] > after["bytes"]["buffers"]


# -- the no_leaked_owners message, in a pytest of its own ---------------------------------------------


LEAKY_TEST = """
import pytest
import warp.render


@pytest.mark.no_leaked_owners
def test_leaves_a_renderer_open():
    renderer = warp.render.OpenGLRenderer(headless=True, screen_width=32, screen_height=32, device="cpu")
    renderer.begin_frame(0.0)
    renderer.render_box("box", pos=(0.0, 0.0, 0.0), rot=(0.0, 0.0, 0.0, 1.0), extents=(0.5, 0.5, 0.5))
    renderer.end_frame()
    pytest.leaked = renderer
"""


def test_a_renderer_leaked_by_a_test_is_reported_with_the_tests_line(tmp_path):
    (tmp_path / "test_leaky.py").write_text(textwrap.dedent(LEAKY_TEST))
    (tmp_path / "conftest.py").write_text("import os\nos.environ.setdefault('PYGLET_HEADLESS', 'true')\n"
                                          "import pyglet\npyglet.options['headless'] = True\n"
                                          "import warp_gl_lifecycle\n")
    installed = any(ep.name == "warp_gl_lifecycle" for ep in importlib.metadata.entry_points(group="pytest11"))
    plugin = [] if installed else ["-p", "warp_gl_lifecycle_pytest"]
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *plugin, "test_leaky.py"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYGLET_HEADLESS": "true", "PYTHONPATH": python_path()})
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    line = line_marked(tmp_path / "test_leaky.py", "OpenGLRenderer(")
    assert "owner(s) left alive by this test" in out
    assert f"test_leaky.py:{line}" in out, out
    assert "OpenGLRenderer x1" in out and "made for itself:" in out
    made_for_itself = out.split("made for itself:", 1)[1]
    assert "warp ShapeInstancer" in made_for_itself
    assert "warp ShapeInstancer x" not in out, "an instancer Warp made was listed as the test's own"
    assert "in window 'Warp' (open)" in out and "buffers (" in out


# -- run --report --------------------------------------------------------------------------------------


def test_run_report_names_the_scripts_line_of_the_renderer_it_left_open():
    script = "warp_renderer_left_open_under_run_report.py"
    proc = subprocess.run([sys.executable, "-m", "warp_gl_lifecycle", "run", "--report", script], cwd=SCENARIOS,
                          env={**os.environ, "PYGLET_HEADLESS": "true", "PYTHONPATH": python_path(), "WGL_IMPORT": "0"},
                          capture_output=True, text=True, timeout=300)
    Result(proc).assert_clean()
    assert "pixels" in proc.stdout
    report = proc.stderr.split("warp_gl_lifecycle released at exit (newest first):", 1)
    assert len(report) == 2, proc.stderr
    line = line_marked(SCENARIOS / script, "left open: reported")
    assert f"{script}:{line}" in report[1]
    assert "OpenGLRenderer x1" in report[1] and "made for itself:" in report[1]
    assert "STATS" in proc.stdout


def test_run_without_report_prints_nothing_of_it():
    script = "warp_renderer_left_open_under_run_report.py"
    proc = subprocess.run([sys.executable, "-m", "warp_gl_lifecycle", "run", script], cwd=SCENARIOS,
                          env={**os.environ, "PYGLET_HEADLESS": "true", "PYTHONPATH": python_path(), "WGL_IMPORT": "0"},
                          capture_output=True, text=True, timeout=300)
    Result(proc).assert_clean()
    assert "released at exit" not in proc.stderr


# -- Newton: a viewer's helpers under their viewer -------------------------------------------------------


NEWTON_TREE = """
import json
import _newton_scene as scene
from warp_gl_lifecycle import diagnostics
viewer = scene.viewer()
scene.draw(viewer)

def tree(owner):
    return {"kind": owner.kind, "site": owner.site, "children": [tree(child) for child in owner.children]}

print("TREE", json.dumps([tree(root) for root in diagnostics.owners()]), flush=True)
print(diagnostics.report(), flush=True)
viewer.close()
"""


def test_a_newton_viewers_renderer_and_helpers_appear_under_the_viewer():
    pytest.importorskip("newton")
    proc = subprocess.run([sys.executable, "-c", NEWTON_TREE], cwd=SCENARIOS, capture_output=True, text=True,
                          env={**os.environ, "PYGLET_HEADLESS": "true", "PYTHONPATH": python_path()}, timeout=300)
    assert proc.returncode == 0, proc.stderr
    roots = json.loads(next(line for line in proc.stdout.splitlines() if line.startswith("TREE "))[5:])
    assert [root["kind"] for root in roots] == ["newton ViewerGL"], roots
    assert roots[0]["site"].startswith("_newton_scene.py:")
    kinds = {child["kind"] for child in roots[0]["children"]}
    assert {"newton RendererGL", "newton MeshGL", "newton MeshInstancerGL", "newton LinesGL"} <= kinds
    assert "newton ViewerGL x1 (+" in proc.stdout


# -- doctor ---------------------------------------------------------------------------------------------


def test_doctor_reports_the_owners_left_after_its_checks():
    proc = subprocess.run([sys.executable, "-m", "warp_gl_lifecycle", "doctor", "--json"], cwd=SCENARIOS,
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYGLET_HEADLESS": "true", "PYTHONPATH": python_path()})
    findings = json.loads(proc.stdout)
    rows = {row["what"]: row for row in findings["checks"]}
    assert rows["live owners"]["status"] == "ok", rows["live owners"]
    assert findings["owners"]["owners"] == 0 and findings["owners"]["names"]["buffers"] == 0
