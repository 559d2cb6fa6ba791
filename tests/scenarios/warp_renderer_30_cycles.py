"""30 create/draw/close cycles of Warp's renderer; prints live GL names and RSS after cycles 1 and 30."""
import gc
import json

import _warp_scene as scene
from pyglet import gl


def rss_mb():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS")) / 1024


def live_names():
    shadow = gl._shadow_window
    shadow.switch_to()  # shares the object space with every renderer's context
    counts = {kind: sum(1 for n in range(1, 3000) if check(n)) for kind, check in
              (("buffers", gl.glIsBuffer), ("textures", gl.glIsTexture), ("programs", gl.glIsProgram))}
    return counts


def gpu_used_mb():
    if not scene.DEVICE.startswith("cuda"):
        return None
    scene.wp.synchronize()
    device = scene.wp.get_device(scene.DEVICE)
    return round((device.total_memory - device.free_memory) / 2**20, 1)


figures = {}
for cycle in range(1, 31):
    r = scene.renderer()
    scene.draw(r, frames=2)
    r.close()
    del r
    gc.collect()
    if cycle in (1, 30):
        figures[cycle] = {"names": live_names(), "rss_mb": round(rss_mb(), 1), "gpu_mb": gpu_used_mb()}
print("FIGURES", json.dumps(figures), flush=True)
