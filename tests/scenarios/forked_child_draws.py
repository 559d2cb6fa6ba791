"""The parent draws, then forks (multiprocessing's default start method on Linux does); the child
opens its own window and draws, then exits. Nothing may hang: the child either draws or raises,
at its first GL use, a RuntimeError naming fork and the fix. The parent waits at most 60 s.

``--plain``: pyglet alone, without warp_gl_lifecycle (which hangs).
"""
import os
import sys
import time

import _scene

PLAIN = "--plain" in sys.argv
if not PLAIN:
    import warp_gl_lifecycle as wgl

    _scene.report_at_exit()
import pyglet
from pyglet import gl

window = _scene.window()
if not PLAIN:
    inst = _scene.instancer(name="parent's")
gl.glClearColor(0.2, 0.4, 0.6, 1.0)
gl.glClear(gl.GL_COLOR_BUFFER_BIT)
gl.glFinish()
print("parent drew", flush=True)

pid = os.fork()
if pid == 0:
    try:
        child_window = _scene.window()
        gl.glClearColor(1.0, 0.0, 0.0, 1.0)
        gl.glClear(gl.GL_COLOR_BUFFER_BIT)
        pixel = (gl.GLubyte * 4)()
        gl.glReadPixels(0, 0, 1, 1, gl.GL_RGBA, gl.GL_UNSIGNED_BYTE, pixel)
        print("child drew", list(pixel)[:3], flush=True)
        if not PLAIN:
            child_inst = _scene.instancer(name="child's")
            child_inst.render()
            print("child instancer drew", flush=True)
    except RuntimeError as exc:
        print("child refused:", exc, flush=True)
        sys.exit(3)
    sys.exit(0)  # a normal exit: atexit hooks and pyglet's teardown run in the child

deadline = time.monotonic() + 60
while time.monotonic() < deadline:
    done, status = os.waitpid(pid, os.WNOHANG)
    if done:
        print("child exit status", os.waitstatus_to_exitcode(status), flush=True)
        break
    time.sleep(0.1)
else:
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    print("child hung", flush=True)
window.clear()
print("parent still draws", flush=True)
