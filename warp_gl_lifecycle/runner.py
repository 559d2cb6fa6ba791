"""``python -m warp_gl_lifecycle run``: run an unmodified program with the drop-in installed first.

``run script.py [args...]`` and ``run -m module [args...]`` behave as ``python script.py`` and
``python -m module``: everything after the script or module belongs to the program (``-h`` too);
the program sees its own ``sys.argv``, ``sys.path[0]``, ``__file__`` and ``__main__``. It ends as
under plain ``python``: an uncaught exception prints only the program's traceback (through
``sys.excepthook``) and exits 1; ``KeyboardInterrupt`` does the same, then Python kills the process
with SIGINT after finalizing (a shell reports 130); ``sys.exit(n)`` exits ``n``, ``sys.exit("msg")``
prints ``msg`` and exits 1. The module globals it leaves stay alive until exit, as under plain
``python``, so the exit hook releases what they hold.
"""

from __future__ import annotations

import argparse
import os
import runpy
import sys

__all__ = ["add_arguments", "main", "parse"]

_kept_globals: list[dict] = []
_USAGE = "python -m warp_gl_lifecycle run [-h] [--report] (SCRIPT | -m MODULE) [ARGS...]"


def add_arguments(parser) -> None:
    """What ``run -h`` shows; the arguments themselves are split by :func:`parse`, as python does."""
    parser.usage = _USAGE
    parser.add_argument("--report", action="store_true",
                        help="at exit, list on stderr what the exit release released (newest first): where the "
                             "program made each owner, its window, its GL names and their bytes")
    parser.add_argument("-m", dest="module", metavar="MODULE", help="run a module as a script, like python -m")
    parser.add_argument("target", nargs="?", metavar="SCRIPT", help="the script to run (unless -m)")
    parser.add_argument("args", nargs=argparse.REMAINDER, metavar="ARGS",
                        help="passed to the program, as they are (options such as -h included)")


def parse(argv: list[str]) -> argparse.Namespace:
    """Split ``run``'s own arguments from the program's: the first argument that is not one of
    ``run``'s options names the program, and everything after it is the program's.

    ``-h`` before the program prints ``run``'s help; an unknown option before it exits 2.
    """
    parser = argparse.ArgumentParser(prog="python -m warp_gl_lifecycle run",
                                     description="Run a program with Warp's renderer made lifecycle-safe.")
    add_arguments(parser)
    module = target = None
    report = False
    rest = list(argv)
    while rest:
        arg = rest.pop(0)
        if arg in ("-h", "--help"):
            parser.print_help()
            raise SystemExit(0)
        if arg == "-m" or (arg.startswith("-m") and not arg.startswith("--")):
            module = arg[2:] or (rest.pop(0) if rest else None)
            if module is None:
                parser.error("argument -m: expected one argument")
            break
        if arg == "--report":
            report = True
            continue
        if arg == "--":
            target = rest.pop(0) if rest else None
            break
        if arg.startswith("-") and arg != "-":
            parser.error(f"unrecognized option before the program: {arg}")
        target = arg
        break
    return argparse.Namespace(module=module, target=target, args=rest, report=report)


def main(args) -> int:
    from . import dropins  # noqa: PLC0415

    if args.module is None and args.target is None:
        print("run: give a script, or -m MODULE", file=sys.stderr)
        return 2
    if args.module is None and not os.path.exists(args.target):
        path = os.path.abspath(args.target)
        print(f"{sys.executable}: can't open file {path!r}: [Errno 2] No such file or directory", file=sys.stderr)
        return 2
    dropins.install()
    snapshot = None
    if getattr(args, "report", False):
        from .diagnostics import report_at_exit  # noqa: PLC0415

        snapshot = report_at_exit()
    try:
        if args.module is not None:
            sys.argv = [args.module, *args.args]
            sys.path[0] = os.getcwd()
            _kept_globals.append(runpy.run_module(args.module, run_name="__main__", alter_sys=True))
        else:
            sys.argv = [args.target, *args.args]
            path = os.path.abspath(args.target)  # python gives __main__ an absolute __file__
            sys.path[0] = os.path.dirname(path)
            _kept_globals.append(runpy.run_path(path, run_name="__main__"))
    except BaseException as exc:  # noqa: BLE001 - ends as python would, without our frames
        tb = _user_frames(exc.__traceback__)
        if tb is not None:  # keep the program's globals alive until exit, as python does
            _kept_globals.append(tb.tb_frame.f_globals)
        if not isinstance(exc, SystemExit):
            _report_with(tb, exc)
        raise  # Python's own top level prints it and exits (1; SIGINT for KeyboardInterrupt)
    finally:
        if snapshot is not None:
            snapshot()  # the program's owners, while their contexts are alive
    return 0


def _report_with(tb, exc: BaseException) -> None:
    """Have the top-level report of ``exc`` show traceback ``tb`` (the program's frames only).

    Python's top level calls ``sys.excepthook`` once for the uncaught exception, then exits as it
    does for any program (status 1, or re-raising SIGINT after a ``KeyboardInterrupt``). The hook
    in force (the program's own, if it set one) is called with ``tb``, then put back.
    """
    hook = sys.excepthook

    def report(exc_type, value, full_tb):
        sys.excepthook = hook
        if value is exc:  # the default hook prints value.__traceback__, not its argument
            full_tb = tb
            value.with_traceback(tb)
        hook(exc_type, value, full_tb)

    sys.excepthook = report


def _user_frames(tb):
    """Drop the leading frames of this module and runpy from a traceback."""
    ours = os.path.abspath(__file__)
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename != ours and "runpy" not in filename:
            break
        tb = tb.tb_next
    return tb
