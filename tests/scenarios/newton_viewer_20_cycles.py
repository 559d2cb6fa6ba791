"""20 (or $WGL_CYCLES) create/draw/close cycles of Newton's ViewerGL; prints live shared GL names
by kind and RSS after cycles 1, 2, 5, 10, 20, ... as FIGURES json."""
import gc
import json
import os

import _newton_scene as scene

cycles = int(os.environ.get("WGL_CYCLES", "20"))
scene.model()
figures = {}
for cycle in range(1, cycles + 1):
    v = scene.viewer()
    scene.draw(v, frames=2)
    v.close()
    del v
    gc.collect()
    if cycle in (1, 2, 5) or cycle % 10 == 0 or cycle == cycles:
        figures[cycle] = {"names": scene.live_names(), "rss_mb": round(scene.rss_mb(), 1)}
print("FIGURES", json.dumps(figures), flush=True)
