"""Shared by the desktop scenarios: what a window manager does when the user clicks close.

Also a command, for a window of another process: ``python _x11.py close TITLE`` waits (up to 120 s)
for a top-level window named ``TITLE`` on ``$DISPLAY``, asks it to close, and exits 0 (1 when no
such window appeared).
"""
import ctypes
import sys
import time

from pyglet.libs.x11 import xlib


def request_close(window):
    """Send ``window`` a WM_DELETE_WINDOW request from another X client, as a window manager does."""
    request_close_id(window._window)


def request_close_id(xid):
    """The same for the X window ``xid`` (of any process on the display)."""
    display = xlib.XOpenDisplay(None)
    event = xlib.XEvent()
    event.xclient.type = xlib.ClientMessage
    event.xclient.window = xid
    event.xclient.message_type = xlib.XInternAtom(display, b"WM_PROTOCOLS", False)
    event.xclient.format = 32
    event.xclient.data.l[0] = xlib.XInternAtom(display, b"WM_DELETE_WINDOW", False)
    xlib.XSendEvent(display, xid, False, 0, ctypes.byref(event))
    xlib.XFlush(display)
    xlib.XCloseDisplay(display)


def find_window(title):
    """The X id of a top-level window named ``title`` on ``$DISPLAY``, or None."""
    display = xlib.XOpenDisplay(None)
    try:
        root, parent, children, count = xlib.Window(), xlib.Window(), ctypes.POINTER(xlib.Window)(), ctypes.c_uint()
        xlib.XQueryTree(display, xlib.XDefaultRootWindow(display), ctypes.byref(root), ctypes.byref(parent),
                        ctypes.byref(children), ctypes.byref(count))
        found = None
        for i in range(count.value):
            name = ctypes.c_char_p()
            if xlib.XFetchName(display, children[i], ctypes.byref(name)) and name.value is not None:
                if name.value.decode() == title:
                    found = children[i]
                xlib.XFree(name)
        if children:
            xlib.XFree(children)
        return found
    finally:
        xlib.XCloseDisplay(display)


if __name__ == "__main__" and sys.argv[1:2] == ["close"]:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        xid = find_window(sys.argv[2])
        if xid is not None:
            time.sleep(0.5)  # let the program draw a few frames first
            request_close_id(xid)
            print("closed", flush=True)
            sys.exit(0)
        time.sleep(0.1)
    print("no window named", repr(sys.argv[2]), flush=True)
    sys.exit(1)
