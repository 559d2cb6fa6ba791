"""A user allocates zero instances and draws: nothing is read past an empty array (run under valgrind
by test_instancer_misuse.py when WARP_GL_LIFECYCLE_VALGRIND=1)."""
import _scene

window = _scene.window()
inst = _scene.instancer(count=0, name="empty")
inst.update_colors((0.0, 1.0, 0.0), None)
inst.render()
inst.close()
window.close()
