"""A library imported after warp_gl_lifecycle closes every window in its own atexit hook.

atexit runs the newest hook first; the registry re-arms its hook when a new context appears,
so the instancer is still released with its own context current.
"""
import atexit
import logging
import sys

import _scene
import pyglet

import warp_gl_lifecycle  # noqa: F401


def close_all_windows():  # what the later library does at exit
    print("library closes windows")
    for window in list(pyglet.app.windows):
        window.close()


atexit.register(close_all_windows)
logging.basicConfig(stream=sys.stdout, level=logging.DEBUG, format="%(message)s")
logging.getLogger("warp_gl_lifecycle").setLevel(logging.DEBUG)
window = _scene.window()
inst = _scene.instancer(name="late library")
