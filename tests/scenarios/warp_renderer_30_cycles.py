"""30 (or $WGL_CYCLES) create/draw/close cycles of Warp's renderer; prints live GL names, RSS and,
on CUDA, device memory in use and Warp's memory-pool use after cycles 1, 10, 20, 30, ...

WGL_PLAIN=1 cycles plain pyglet windows of the same size instead (create, clear, flip, close): the
baseline for what the GL driver itself keeps per context.
"""
import gc
import json
import os

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


def mempool_mb():
    if not scene.DEVICE.startswith("cuda") or not scene.wp.is_mempool_enabled(scene.DEVICE):
        return None
    return round(scene.wp.get_mempool_used_mem_current(scene.DEVICE) / 2**20, 2)


figures = {}
cycles = int(os.environ.get("WGL_CYCLES", "30"))
for cycle in range(1, cycles + 1):
    if os.environ.get("WGL_PLAIN") == "1":
        window = scene.pyglet.window.Window(scene.WIDTH, scene.HEIGHT, visible=False)
        window.switch_to()
        gl.glClear(gl.GL_COLOR_BUFFER_BIT)
        window.flip()
        window.close()
        del window
    else:
        r = scene.renderer()
        scene.draw(r, frames=2)
        r.close()
        del r
    gc.collect()
    if cycle == 1 or cycle % 10 == 0:
        figures[cycle] = {"names": live_names(), "rss_mb": round(rss_mb(), 1), "gpu_mb": gpu_used_mb(), "mempool_mb": mempool_mb()}
print("FIGURES", json.dumps(figures), flush=True)
