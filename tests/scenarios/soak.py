"""Soak: 1,000 instancer create/update/close cycles in one context, then 100 Warp renderer cycles.

Before the measured instancer cycles, 1,500 unmeasured ones warm the driver: Mesa's llvmpipe
keeps a bounded cache of JIT-compiled draw variants that grows over the first ~1,500 fresh vertex
arrays and then stays level (it also evicts, so RSS steps down now and then). Peak RSS over the
last 500 warm-up cycles is the baseline; peak RSS over the measured cycles is compared with it.
"""
import gc
import json

import _scene
import numpy as np

wp = _scene.quiet_warp()
import warp.render  # noqa: E402
from pyglet import gl  # noqa: E402

from warp_gl_lifecycle import ShapeInstancer  # noqa: E402
from warp_gl_lifecycle.glresources import live_names  # noqa: E402


def rss_mb():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS")) / 1024


def names():
    gl._shadow_window.switch_to()
    return {kind: len(live_names(kind, range(1, 4000))) for kind in ("buffer", "texture", "program")}


window = _scene.window()
transforms = wp.array(np.tile([0, 0, 0, 0, 0, 0, 1], (16, 1)), dtype=wp.transform)
figures = {}
peaks = {"warm": 0.0, "measured": 0.0}
for cycle in range(-1499, 1001):
    window.switch_to()
    inst = ShapeInstancer(device="cpu")
    inst.register_shape(_scene.QUAD, _scene.QUAD_INDICES)
    inst.allocate_instances(np.zeros((16, 3)))
    inst.update_instances(transforms)
    inst.render()
    inst.close()
    if cycle % 50 == 0:
        phase = "measured" if cycle > 0 else "warm" if cycle > -500 else None
        if phase:
            peaks[phase] = max(peaks[phase], rss_mb())
    if cycle in (10, 1000):
        gc.collect()
        figures[f"instancer {cycle}"] = {"names": names(), "rss_mb": round(rss_mb(), 1)}
figures["instancer peaks"] = {key: round(value, 1) for key, value in peaks.items()}
for cycle in range(1, 101):
    r = warp.render.OpenGLRenderer(screen_width=32, screen_height=32, headless=True, device="cpu", vsync=False)
    r.begin_frame(0.0)
    r.render_box("box", pos=(0, 0, 0), rot=(0, 0, 0, 1), extents=(0.5, 0.5, 0.5))
    r.end_frame()
    r.close()
    del r
    if cycle in (10, 50, 100):
        gc.collect()
        figures[f"renderer {cycle}"] = {"names": names(), "rss_mb": round(rss_mb(), 1)}
print("FIGURES", json.dumps(figures), flush=True)
