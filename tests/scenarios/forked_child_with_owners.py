"""A process forks while owners are alive: the child releases none of the parent's, tracks its own."""
import os
import sys

import _scene

import warp_gl_lifecycle as wgl

_scene.report_at_exit()
window = _scene.window()
inst = _scene.instancer(name="parent's")


class Owner:
    pass


parent_owner = Owner()
wgl.track(parent_owner, lambda reason: print("released parent owner", os.getpid(), reason.value, flush=True))
pid = os.fork()
if pid == 0:
    print("child live at fork:", len(wgl.live()), flush=True)
    child_owner = Owner()
    wgl.track(child_owner, lambda reason: print("released child owner", reason.value, flush=True), name="child's")
    print("child live:", [t.description for t in wgl.live()], flush=True)
    sys.exit(0)  # a normal exit: atexit hooks run in the child
_, status = os.waitpid(pid, 0)
print("child exit status", os.waitstatus_to_exitcode(status), flush=True)
