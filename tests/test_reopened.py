"""A renderer opened after another was closed runs: plain Warp 1.19 leaves pyglet's app-wide
``event_loop.has_exit`` set once the last window closed, so ``while renderer.is_running():`` of
every later renderer drew nothing (5, 0, 0 frames). Headless (EGL) and in real windows (Xvfb, GLX),
where the reopened window must draw the same pixels as the first; and Newton's viewer."""

import pytest

from .conftest import run_scenario
from .test_warp_dropin import MODES, desktop_env, run_warp_scenario, xvfb_display  # noqa: F401 - the fixture


def check_three_runs(result):
    assert "FRAMES [5, 5, 5]" in result.stdout, result.stdout
    assert "SAME_PIXELS True" in result.stdout, result.stdout
    # an exit the user asked for while a window was still open is kept by the next renderer
    assert "EXIT_KEPT True" in result.stdout, result.stdout
    assert result.stats()["errors"] == 0


@pytest.mark.parametrize("mode", MODES)
def test_warp_renderers_opened_one_after_another_each_run(mode):
    check_three_runs(run_warp_scenario("warp_renderers_opened_one_after_another.py", mode).assert_clean())


def test_warp_windows_opened_one_after_another_each_run_and_draw_the_same_pixels(xvfb_display):
    result = run_scenario("warp_renderers_opened_one_after_another.py", env=desktop_env(xvfb_display))
    check_three_runs(result.assert_clean())


def test_newton_viewers_opened_one_after_another_each_run():
    """Newton 1.8 clears the flag itself in RendererGL.__init__; with the drop-in it still runs."""
    pytest.importorskip("newton", reason="Newton is not installed: pip install -e '.[newton]'")
    from .test_newton import own_stderr, run_newton_scenario

    result = run_newton_scenario("newton_viewers_opened_one_after_another.py")
    assert result.returncode == 0 and not own_stderr(result), result.stderr
    assert "FRAMES [3, 3, 3]" in result.stdout and "SAME_PIXELS True" in result.stdout, result.stdout
    assert result.stats()["errors"] == 0
