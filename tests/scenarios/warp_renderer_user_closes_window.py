"""A desktop window: the user closes it mid-loop (a WM_DELETE_WINDOW request from another X client).

The render loop ends through Warp's own on_close handling, and the program exits without close().
"""
import _warp_scene as scene
from _x11 import request_close

r = scene.renderer()
frame = 0
while r.is_running() and frame < 300:
    scene.draw(r, frames=1)
    frame += 1
    if frame == 5:
        request_close(r.window)
print("loop ended at frame", frame, "window closed:", r.window.context is None, flush=True)
