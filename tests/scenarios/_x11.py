"""Shared by the desktop scenarios: what a window manager does when the user clicks close."""
import ctypes

from pyglet.libs.x11 import xlib


def request_close(window):
    """Send ``window`` a WM_DELETE_WINDOW request from another X client, as a window manager does."""
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
