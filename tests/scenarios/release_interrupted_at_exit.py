"""Owners left open at exit whose releases misbehave: one calls sys.exit() or raises
KeyboardInterrupt (Ctrl-C during the exit release), one makes a helper owner, and an app object
closes its renderer from its own __del__ inside one garbage cycle.

``--mode systemexit|interrupt|helper|cycle``. Every owner must still be released exactly once, in
its own context, and nothing printed by Python ("Exception ignored in atexit callback")."""

import gc
import sys

import _scene
from pyglet import gl

import warp_gl_lifecycle as wgl

mode = sys.argv[sys.argv.index("--mode") + 1]
_scene.report_at_exit()
window = _scene.window()


class LegacyBuffer:
    """A class in the legacy style: its close() deletes a GL buffer with whatever is current."""

    def __init__(self, tag, misbehave=None):
        self.tag = tag
        self.misbehave = misbehave
        self.context = gl.current_context
        self.buffer = gl.GLuint()
        gl.glGenBuffers(1, self.buffer)

    def close(self):
        assert gl.current_context is self.context, "released with a foreign context current"
        gl.glDeleteBuffers(1, self.buffer)
        print("released", self.tag, flush=True)
        if self.misbehave == "systemexit":
            sys.exit(7)
        if self.misbehave == "interrupt":
            raise KeyboardInterrupt
        if self.misbehave == "helper":
            helpers.append(LegacyBuffer(f"{self.tag}'s helper"))


wgl.managed(LegacyBuffer, context=lambda self: self.context)
helpers = []
keep = [LegacyBuffer("oldest"), LegacyBuffer("middle", misbehave=mode if mode != "cycle" else None), LegacyBuffer("newest")]

if mode == "cycle":
    class App:
        def __init__(self):
            self.renderer = LegacyBuffer("in cycle")
            self.renderer.app = self

        def __del__(self):
            self.renderer.close()

    App()
    gc.collect()  # both in one garbage cycle: the app's __del__ closes the renderer
    wgl.flush()

other = _scene.window()  # current at exit: each release must make its owner's context current again
