"""A Warp renderer made with the drop-in installed, then ``uninstall()``, then exit without close():
the renderer tracked before is still released exactly once (no AttributeError, no second run of
Warp's cleanup), and one made after uninstall is Warp's own business."""
import _warp_scene as scene

import warp_gl_lifecycle as wgl

tracked_before = scene.renderer()
scene.draw(tracked_before, frames=2)
wgl.uninstall()
print("installed", wgl.installed(), flush=True)
