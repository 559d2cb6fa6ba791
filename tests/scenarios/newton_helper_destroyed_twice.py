"""Newton destroys a helper (as when it resizes a line batch), a new helper reuses its vertex array
name, and the old one is destroyed again and dropped: the new helper's vertex array must survive."""
import gc

import _newton_scene as scene
from newton._src.viewer.gl.opengl import LinesGL
from pyglet import gl

v = scene.viewer()
scene.draw(v, frames=1)
v.renderer.window.switch_to()
old = v.lines.pop("lines")
old_vao = int(old.vao.value)
old.destroy()
fresh = LinesGL(4, v.device)  # GL hands out the freed name again
print("REUSED", int(fresh.vao.value) == old_vao, flush=True)
old.destroy()
del old
gc.collect()
if "warp_gl_lifecycle" in scene.sys.modules:
    scene.sys.modules["warp_gl_lifecycle"].flush()
v.renderer.window.switch_to()
print("FRESH_ALIVE", bool(gl.glIsVertexArray(fresh.vao.value)), flush=True)
fresh.destroy()
v.close()
