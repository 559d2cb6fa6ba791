"""A desktop window: the user closes it mid-loop (a WM_DELETE_WINDOW request from another X client).

The render loop ends through Warp's own on_close handling, and the program exits without close().
"""
import ctypes

import _warp_scene as scene
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


r = scene.renderer()
frame = 0
while r.is_running() and frame < 300:
    scene.draw(r, frames=1)
    frame += 1
    if frame == 5:
        request_close(r.window)
print("loop ended at frame", frame, "window closed:", r.window.context is None, flush=True)
