"""A program whose worker processes (a multiprocessing pool, START = spawn or forkserver) each make
Warp's OpenGLRenderer headless, draw a frame and leave it open; with ``--subprocess`` a child
started by ``subprocess.run([sys.executable, ...])`` does the same. Run as it is under
``python -m warp_gl_lifecycle run`` (it never imports warp_gl_lifecycle itself).

Each process prints whether its renderer is tracked by warp_gl_lifecycle, and where the package came from.
"""
import multiprocessing
import os
import subprocess
import sys

os.environ.setdefault("PYGLET_HEADLESS", "true")


def draw(index):
    import warp as wp
    import warp.render

    wp.config.quiet = True
    renderer = warp.render.OpenGLRenderer(headless=True, screen_width=32, screen_height=32)
    renderer.begin_frame(0.0)
    renderer.render_box("box", (0.0, 0.0, 0.0), (0.0, 0.0, 0.0, 1.0), (0.5, 0.5, 0.5))
    renderer.end_frame()
    draw.renderer = renderer  # left open: the process's exit releases it (with the drop-in)
    package = sys.modules.get("warp_gl_lifecycle")
    where = os.path.dirname(os.path.dirname(package.__file__)) if package is not None else None
    return index, f"{'_wgl_tracked' in renderer.__dict__} package from {where}"


if __name__ == "__main__":
    if sys.argv[1] == "child":
        print("child tracked", draw(0)[1], flush=True)
        sys.exit(0)
    pool = multiprocessing.get_context(sys.argv[1]).Pool(2)
    for index, tracked in pool.map_async(draw, range(2)).get(timeout=240):
        print("worker", index, "tracked", tracked, flush=True)
    pool.close()
    pool.join()
    if "--subprocess" in sys.argv:
        child = subprocess.run([sys.executable, __file__, "child"], timeout=240)
        print("child exit", child.returncode, flush=True)
    print("parent done", flush=True)
