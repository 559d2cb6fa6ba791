"""KeyboardInterrupt (Ctrl-C) arrives in the middle of a render loop."""
import os
import signal

import _scene

_scene.report_at_exit()
window = _scene.window()
inst = _scene.instancer(name="interrupted")
for frame in range(1000):
    inst.render()
    if frame == 5:
        os.kill(os.getpid(), signal.SIGINT)
