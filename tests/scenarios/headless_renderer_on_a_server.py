"""A program asks for a headless renderer (Warp's ``OpenGLRenderer(headless=True)`` or Newton's
``ViewerGL(headless=True)``), draws a frame, and, with ``--then-window``, opens a real window
afterwards. It sets neither ``DISPLAY`` nor ``PYGLET_HEADLESS`` itself: the test runs it on a
"server" (both unset) and on a desktop (Xvfb). ``warp`` or ``newton`` picks the renderer;
``WGL_IMPORT=0`` leaves warp_gl_lifecycle out (plain Warp/Newton, or under ``run``).

Prints the class of each window pyglet made, whether the real window is visible, and one pixel.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

if os.environ.get("WGL_IMPORT", "1") == "1":
    import warp_gl_lifecycle  # noqa: F401

import warp as wp

wp.config.quiet = True
if hasattr(wp, "LOG_WARNING"):
    wp.config.log_level = wp.LOG_WARNING

which = sys.argv[1]
if which == "warp":
    import warp.render

    renderer = warp.render.OpenGLRenderer(headless=True, screen_width=64, screen_height=48)
    renderer.begin_frame(0.0)
    renderer.render_box("box", (0.0, 0.0, 0.0), (0.0, 0.0, 0.0, 1.0), (0.5, 0.5, 0.5))
    renderer.end_frame()
    window = renderer.window
else:
    import newton.viewer

    renderer = newton.viewer.ViewerGL(width=64, height=48, headless=True)
    renderer.begin_frame(0.0)
    renderer.end_frame()
    window = renderer.renderer.window
print("headless renderer window:", type(window).__name__, flush=True)
renderer.close()

if "--then-window" in sys.argv:
    import pyglet
    from pyglet import gl

    real = pyglet.window.Window(32, 32, caption="after a headless renderer")
    real.switch_to()
    gl.glClearColor(0.0, 1.0, 0.0, 1.0)
    gl.glClear(gl.GL_COLOR_BUFFER_BIT)
    pixel = (gl.GLubyte * 4)()
    gl.glReadPixels(16, 16, 1, 1, gl.GL_RGBA, gl.GL_UNSIGNED_BYTE, pixel)
    print("then window:", type(real).__name__, "visible:", real.visible, "pixel:", list(pixel)[:3], flush=True)
    real.close()
print("done", flush=True)
