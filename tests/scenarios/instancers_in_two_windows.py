"""Several instancers in two windows, left open; each released in its own context, newest first."""
import logging
import sys

import _scene
from pyglet import gl

_scene.report_at_exit()
logging.basicConfig(stream=sys.stdout, level=logging.DEBUG, format="%(message)s")
logging.getLogger("warp_gl_lifecycle").setLevel(logging.DEBUG)
first = _scene.window()
a = _scene.instancer(name="a1")
b = _scene.instancer(name="a2")
second = _scene.window()
c = _scene.instancer(name="b1")
d = _scene.instancer(name="b2")
assert a._gl.context is first.context and c._gl.context is second.context
assert gl.current_context is second.context
