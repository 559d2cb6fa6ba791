"""A desktop window: the user closes the viewer's window mid-loop (a WM_DELETE_WINDOW request from
another X client). The loop ends through Newton's own on_close handling; then close(), twice."""
import _newton_scene as scene
from _x11 import request_close

v = scene.viewer()
scene.draw(v, frames=1)
frame = 0
while v.is_running() and frame < 300:
    scene.more_frames(v, frames=1)
    frame += 1
    if frame == 5:
        request_close(v.renderer.window)
print("loop ended at frame", frame, "window closed:", v.renderer.window.context is None, flush=True)
v.close()
v.close()
