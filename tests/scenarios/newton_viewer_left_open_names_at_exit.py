"""Newton viewers draw and the program ends without close(): the GL names left after the exit release."""
import atexit


def _names_after_exit_release():  # registered before the package's exit hook: runs after it
    import _newton_scene as scene

    print("NAMES_AFTER_EXIT", scene.live_names(), flush=True)


atexit.register(_names_after_exit_release)

import _newton_scene as scene  # noqa: E402

viewers = []
for _ in range(2):  # each draws right after it is made (Newton draws in the current context)
    viewers.append(scene.viewer())
    scene.draw(viewers[-1], frames=2)
print("NAMES_WHILE_OPEN", scene.live_names(), flush=True)
