"""Workers started with multiprocessing's spawn each draw headless with an instancer and exit."""
import multiprocessing

import _scene


def draw_in_worker(index):
    import numpy as np
    from pyglet import gl

    window = _scene.window(32)
    inst = _scene.instancer(count=1, name=f"worker {index}")
    gl.glClearColor(0, 0, 0, 1)
    gl.glClear(gl.GL_COLOR_BUFFER_BIT)
    inst.render()
    pixel = (gl.GLubyte * 4)()
    gl.glReadPixels(16, 16, 1, 1, gl.GL_RGBA, gl.GL_UNSIGNED_BYTE, pixel)
    return index, list(pixel)[:3]  # inst and window are left to the worker's exit


if __name__ == "__main__":
    context = multiprocessing.get_context("spawn")
    with context.Pool(2) as pool:
        for index, rgb in pool.map(draw_in_worker, range(4)):
            print("worker", index, "pixel", rgb, flush=True)
