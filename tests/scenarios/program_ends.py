"""A program that ends the way its first argument says; prints the arguments it was given.

Run side by side under plain ``python`` and under ``python -m warp_gl_lifecycle run`` (also as
``-m program_ends``): the exit status and stderr must be the same.
"""
import os
import signal
import sys

print("argv", sys.argv[1:], flush=True)
how = sys.argv[1] if len(sys.argv) > 1 else "normal"


def interrupted_loop():
    for frame in range(1000):
        if frame == 5:
            os.kill(os.getpid(), signal.SIGINT)  # what Ctrl-C does


if how == "ctrl-c":
    interrupted_loop()
elif how == "keyboard-interrupt":
    raise KeyboardInterrupt
elif how == "exit-3":
    sys.exit(3)
elif how == "exit-message":
    sys.exit("stopped: bad input")
elif how == "exception":
    raise ValueError("user bug")
elif how == "os-exit":
    sys.stdout.flush()
    os._exit(7)
