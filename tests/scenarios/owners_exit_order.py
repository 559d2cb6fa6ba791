"""Plain tracked owners: the exit hook releases them newest first; closed and collected ones not again."""
import gc

import _scene  # noqa: F401
import warp_gl_lifecycle as wgl


class Owner:
    pass


owners = []
for i in range(6):
    owner = Owner()
    owners.append(owner)
    wgl.track(owner, lambda reason, i=i: print("released", i, reason.value), name=f"owner{i}")
wgl.live()[2].close()  # owner2 by close
del owners[4]  # owner4 by gc
gc.collect()
