"""A program that keeps its state in a class of its own and saves it (pickles it) at exit, from an
atexit handler and from a non-daemon thread that outlives the top level; it prints what python
shows it: ``sys.argv``, ``sys.path[0]``, ``__file__`` and the ``__main__`` module at each point.

Run side by side under plain ``python`` and under ``python -m warp_gl_lifecycle run`` in every form
(script, symlinked script, directory, zip, ``-m``, ``-c``, ``-``): the output must be the same.
"""
import atexit
import pickle
import sys
import threading


class State:
    def __init__(self):
        self.frames = 3


def describe(when):
    main = sys.modules["__main__"]
    print(when, "argv", sys.argv, "path0", repr(sys.path[0]), "file", getattr(main, "__file__", None),
          "main is the program", getattr(main, "State", None) is State, flush=True)


def save(when):
    describe(when)
    print(when, "saved", pickle.loads(pickle.dumps(State())).frames, flush=True)


def after_top_level():
    threading.main_thread().join()  # returns once the top level has returned (interpreter shutdown)
    save("thread")


describe("top")
atexit.register(save, "atexit")
threading.Thread(target=after_top_level).start()
