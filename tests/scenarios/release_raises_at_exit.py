"""One owner's release raises at exit: logged once, the others are still released, no traceback."""
import _scene

import warp_gl_lifecycle as wgl

_scene.report_at_exit()
window = _scene.window()
first = _scene.instancer(name="first")


class Owner:
    pass


def broken(reason):
    raise RuntimeError("driver lost the buffer")


bad = Owner()
wgl.track(bad, broken, name="broken owner", warn=False)
last = _scene.instancer(name="last")
