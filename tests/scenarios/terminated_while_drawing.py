"""A render loop that is sent SIGTERM (--handle-signals: with warp_gl_lifecycle.handle_signals())."""
import sys
import time

import _scene

import warp_gl_lifecycle as wgl

_scene.report_at_exit()
if "--handle-signals" in sys.argv:
    print("handled", wgl.handle_signals(), flush=True)
window = _scene.window()
inst = _scene.instancer(name="terminated")
print("drawing", flush=True)
deadline = time.monotonic() + 60
while time.monotonic() < deadline:
    inst.render()
    time.sleep(0.01)
