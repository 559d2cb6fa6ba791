"""A class in the legacy style (GL delete in __del__, pyglet error checking on) left in a cycle.

Without ``--managed`` the __del__ runs during interpreter teardown and fails; with
``warp_gl_lifecycle.managed`` its body runs once, at exit, with its context current.
"""

import sys

import _scene
from pyglet import gl


class LegacyBuffers:
    def __init__(self):
        self.context = gl.current_context
        self.buffer = gl.GLuint()
        gl.glGenBuffers(1, self.buffer)

    def __del__(self):
        gl.glDeleteBuffers(1, self.buffer)
        print("legacy __del__ body ran")


if "--managed" in sys.argv:
    import warp_gl_lifecycle

    warp_gl_lifecycle.managed(LegacyBuffers, context=lambda self: self.context)
    _scene.report_at_exit()

window = _scene.window()
keep = [LegacyBuffers()]
keep.append(keep)  # a reference cycle held by a module global: finalized only at teardown
