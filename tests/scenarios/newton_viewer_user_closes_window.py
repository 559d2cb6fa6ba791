"""A desktop window: the user closes the viewer's window mid-loop (a WM_DELETE_WINDOW request from
another X client). The loop ends through Newton's own on_close handling; then close(), twice."""
import ctypes

import _newton_scene as scene
from pyglet.libs.x11 import xlib


def request_close(window):
    """What a window manager does when the user clicks the close button."""
    display = xlib.XOpenDisplay(None)
    event = xlib.XEvent()
    event.xclient.type = xlib.ClientMessage
    event.xclient.window = window._window
    event.xclient.message_type = xlib.XInternAtom(display, b"WM_PROTOCOLS", False)
    event.xclient.format = 32
    event.xclient.data.l[0] = xlib.XInternAtom(display, b"WM_DELETE_WINDOW", False)
    xlib.XSendEvent(display, window._window, False, 0, ctypes.byref(event))
    xlib.XFlush(display)
    xlib.XCloseDisplay(display)


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
