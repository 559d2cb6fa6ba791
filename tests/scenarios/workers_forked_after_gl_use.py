"""The parent uses GL one way, then a multiprocessing pool's workers draw (a window, a clear, a pixel read).

``python workers_forked_after_gl_use.py WAY START``: WAY is how the parent used GL first:
``window`` (its own pyglet window), ``import-gl`` (``import pyglet.gl``, which makes pyglet's
shadow window), ``renderer-before-import`` (Warp's renderer made before ``import
warp_gl_lifecycle``), ``none`` (no GL in the parent). START is the start method: fork, spawn or
forkserver. ``WGL_IMPORT=0`` leaves ``import warp_gl_lifecycle`` out (plain pyglet, or under ``run``).

Nothing may hang: the parent waits 60 s for the workers, then prints "workers hung" and exits 4.
A worker either draws (prints its pixel) or raises; the parent prints the first error line.
"""
import multiprocessing
import os
import sys

os.environ.setdefault("PYGLET_HEADLESS", "true")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

WAY, START = sys.argv[1], sys.argv[2]
IMPORT = os.environ.get("WGL_IMPORT", "1") == "1"


def draw(index):
    import pyglet
    from pyglet import gl

    window = pyglet.window.Window(32, 32, visible=False)
    window.switch_to()
    gl.glClearColor(0.0, 0.0, 1.0, 1.0)
    gl.glClear(gl.GL_COLOR_BUFFER_BIT)
    pixel = (gl.GLubyte * 4)()
    gl.glReadPixels(16, 16, 1, 1, gl.GL_RGBA, gl.GL_UNSIGNED_BYTE, pixel)
    window.close()
    return index, list(pixel)[:3]


def main():
    renderer = None
    if WAY == "renderer-before-import":
        import warp as wp
        import warp.render

        wp.config.quiet = True
        renderer = warp.render.OpenGLRenderer(headless=True, screen_width=32, screen_height=32)
    if IMPORT:
        import warp_gl_lifecycle  # noqa: F401
    if WAY == "window":
        import pyglet

        parent_window = pyglet.window.Window(32, 32, visible=False)
        parent_window.switch_to()
    elif WAY == "import-gl":
        import pyglet.gl  # noqa: F401 - makes pyglet's shadow window
    print("parent used GL:", WAY, flush=True)

    pool = multiprocessing.get_context(START).Pool(2)
    try:
        for index, rgb in pool.map_async(draw, range(4)).get(timeout=60):
            print("worker", index, "pixel", rgb, flush=True)
    except multiprocessing.TimeoutError:
        print("workers hung", flush=True)
        pool.terminate()
        os._exit(4)
    except RuntimeError as exc:
        print("worker refused:", str(exc).splitlines()[0], flush=True)
    pool.close()
    pool.join()
    if renderer is not None:
        renderer.close()
    print("parent done", flush=True)


if __name__ == "__main__":
    main()
