"""The pytest plugin of warp-gl-lifecycle (entry point ``pytest11``): a headless GL context, and a check for leaked owners.

* ``gl_window`` (session) / ``gl_context`` (per test): a hidden pyglet window whose context is
  current for the test. Headless (EGL) unless a display is set and pyglet was configured
  otherwise. Where no context can be made, the test is skipped with the reason.
* ``@pytest.mark.no_leaked_owners`` (or the ``no_leaked_owners`` fixture): the test fails if,
  after it returns, owners it created are still tracked by ``warp_gl_lifecycle`` (after a
  collection and a safe point); the message lists them. Owners meant to live until exit
  (tracked with ``warn=False``, like the shared default shader) do not count.

Nothing is imported from ``warp_gl_lifecycle``, pyglet, Warp or Newton, and nothing is installed
(no drop-in, import hook or exit hook), until a fixture or the marker is used, so installing the
package changes nothing for test suites that do not use them. That is why this module lives
outside the package: importing ``warp_gl_lifecycle`` installs its drop-ins and exit hook.
"""

from __future__ import annotations

import gc
import os
import sys

import pytest

MARKER = "no_leaked_owners"


def pytest_configure(config) -> None:
    config.addinivalue_line("markers", f"{MARKER}: fail the test if it leaves warp_gl_lifecycle owners alive")


@pytest.fixture(scope="session")
def gl_window():
    """A hidden pyglet window for the session (headless EGL where there is no display)."""
    try:
        import pyglet  # noqa: PLC0415
    except ImportError as exc:
        pytest.skip(f"no GL context: pyglet is not installed ({exc})")
    if "pyglet.window" not in sys.modules and not os.environ.get("DISPLAY"):
        pyglet.options["headless"] = True
    try:
        window = pyglet.window.Window(64, 64, visible=False)
    except Exception as exc:  # noqa: BLE001 - any failure to make a context means "skip here"
        pytest.skip(f"no GL context can be made here: {type(exc).__name__}: {exc}")
    yield window
    window.close()


@pytest.fixture
def gl_context(gl_window):
    """The session window's pyglet context, made current for this test."""
    gl_window.switch_to()
    return gl_window.context


@pytest.fixture
def no_leaked_owners(request) -> None:
    """Fail the test if it leaves tracked owners alive (same as the marker)."""
    request.node.add_marker(MARKER)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    if item.get_closest_marker(MARKER) is None:
        return (yield)
    from warp_gl_lifecycle import live  # noqa: PLC0415

    before = {t.seq for t in live()}
    result = yield
    gc.collect()
    if "warp_gl_lifecycle.glresources" in sys.modules:
        sys.modules["warp_gl_lifecycle.glresources"].flush()
    # Owners tracked with warn=False (such as the default shader shared by an object space's
    # instancers) are meant to live until exit; the others are the user's to close.
    leaked = [t for t in live() if t.seq not in before and t.warn]
    if leaked:  # what each holds, where the test made it, its window; what upstream made under its maker
        pytest.fail(leak_message(leaked), pytrace=False)
    return result


def leak_message(leaked: list) -> str:
    """The failure message of a test that left the tracked owners ``leaked`` alive: the report of
    :mod:`warp_gl_lifecycle.diagnostics` (kind, the test's line that made each, its window, its GL
    names and bytes; what an upstream object made for itself under it)."""
    from warp_gl_lifecycle.diagnostics import leak_message as report  # noqa: PLC0415

    return report(leaked)
