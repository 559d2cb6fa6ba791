"""``python -m warp_gl_lifecycle run``: run an unmodified program as ``python`` would, with the drop-in installed first.

``run SCRIPT|DIR|ZIP [args...]``, ``run -m MODULE [args...]``, ``run -c CODE [args...]`` and
``run - [args...]`` (the program read from standard input) behave as the same ``python`` command:
everything after the program belongs to it (``-h`` too). The program sees what python shows it:
``sys.argv`` as typed (``-c``/``-`` for code and standard input, the module's file for ``-m``),
``sys.path[0]`` (a script's real folder, symlinks resolved; the directory or zip itself; the
current directory for ``-m``; ``''`` for code and standard input), ``__file__``, and a ``__main__``
module of its own, which stays ``sys.modules["__main__"]`` until exit (its atexit handlers and
non-daemon threads can pickle the classes it defined). It ends as under plain ``python``: an
uncaught exception prints only the program's traceback (through ``sys.excepthook``) and exits 1;
``KeyboardInterrupt`` does the same, then Python kills the process with SIGINT after finalizing (a
shell reports 130); ``sys.exit(n)`` exits ``n``, ``sys.exit("msg")`` prints ``msg`` and exits 1; a
program that cannot be found prints python's one line (``<python>: No module named x``, ``can't
find '__main__' module in ...``) with python's exit status.

``run --report ...`` also lists on stderr, at exit, what the exit release released (newest first;
:mod:`.diagnostics`). The program's child Python processes are covered too (:mod:`.children`).

Where python itself uses :mod:`runpy` (``-m``, a directory, a zip), so does ``run``
(``runpy._run_module_as_main``, the function python calls), so the messages are python's own.
"""

from __future__ import annotations

import argparse
import importlib.machinery
import io
import os
import pkgutil
import runpy
import sys
import types

__all__ = ["add_arguments", "main", "parse"]

_kept: list = []  # the runner's own __main__ module, replaced by the program's
_USAGE = "python -m warp_gl_lifecycle run [-h] [--report] (SCRIPT | DIR | ZIP | -m MODULE | -c CODE | -) [ARGS...]"
#: Options that name the program, as python's: ``-m MODULE``, ``-c CODE`` (also ``-mMODULE``, ``-cCODE``).
_PROGRAM_OPTIONS = {"-m": "module", "-c": "code"}


def add_arguments(parser) -> None:
    """What ``run -h`` shows; the arguments themselves are split by :func:`parse`, as python does."""
    parser.usage = _USAGE
    parser.add_argument("--report", action="store_true",
                        help="at exit, list on stderr what the exit release released (newest first): where the "
                             "program made each owner, its window, its GL names and their bytes")
    parser.add_argument("-m", dest="module", metavar="MODULE", help="run a module as a script, like python -m")
    parser.add_argument("-c", dest="code", metavar="CODE", help="run CODE (a program passed as a string), like python -c")
    parser.add_argument("target", nargs="?", metavar="SCRIPT",
                        help="the script, directory or zip file to run (unless -m or -c); - reads it from standard input")
    parser.add_argument("args", nargs=argparse.REMAINDER, metavar="ARGS",
                        help="passed to the program, as they are (options such as -h included)")


def parse(argv: list[str]) -> argparse.Namespace:
    """Split ``run``'s own arguments from the program's: the first argument that is not one of
    ``run``'s options names the program, and everything after it is the program's.

    Returns ``module``, ``code``, ``target`` (one of them set, or none) and ``args``. ``-h`` before
    the program prints ``run``'s help; an unknown option before it, or ``-m``/``-c`` without a
    value, exits 2 with argparse's usage error.
    """
    parser = argparse.ArgumentParser(prog="python -m warp_gl_lifecycle run",
                                     description="Run a program with Warp's renderer made lifecycle-safe.")
    add_arguments(parser)
    found = dict.fromkeys(("module", "code", "target"))
    report = False
    rest = list(argv)
    while rest:
        arg = rest.pop(0)
        if arg in ("-h", "--help"):
            parser.print_help()
            raise SystemExit(0)
        option = arg[:2]
        if option in _PROGRAM_OPTIONS and not arg.startswith("--"):
            value = arg[2:] or (rest.pop(0) if rest else None)
            if value is None:
                parser.error(f"argument {option}: expected one argument")
            found[_PROGRAM_OPTIONS[option]] = value
            break
        if arg == "--report":
            report = True
            continue
        if arg == "--":
            found["target"] = rest.pop(0) if rest else None
            break
        if arg.startswith("-") and arg != "-":
            parser.error(f"unrecognized option before the program: {arg}")
        found["target"] = arg
        break
    return argparse.Namespace(**found, args=rest, report=report)


def main(args) -> int:
    """Run the program ``args`` names (from :func:`parse`) on this, the main, thread; returns 0
    when its top level returns. Its exceptions (``SystemExit`` included) propagate to Python's top
    level, which reports them and exits as for the program run by plain ``python``."""
    from . import dropins  # noqa: PLC0415

    code, module = getattr(args, "code", None), args.module
    if module is None and code is None and args.target is None:
        print("run: give a script, -m MODULE, -c CODE or - (standard input)", file=sys.stderr)
        return 2
    if module is None and code is None and args.target != "-" and not os.path.exists(args.target):
        print(f"{sys.executable}: can't open file {_absolute(args.target)!r}: [Errno 2] No such file or directory",
              file=sys.stderr)
        return 2
    dropins.install()
    from .children import cover_children  # noqa: PLC0415

    cover_children()  # the program's child Python processes (spawn, forkserver, subprocess) too
    snapshot = None
    if args.report:
        from .diagnostics import report_at_exit  # noqa: PLC0415

        snapshot = report_at_exit()
    program = _program_module()
    try:
        if module is not None:
            _run_module(module, args.args)
        elif code is not None:
            _run_source(program, code, "<string>", ["-c", *args.args], file=None)
        elif args.target == "-":
            _run_source(program, sys.stdin.buffer.read(), "<stdin>", ["-", *args.args], file="<stdin>")
        else:
            _run_path(program, args.target, args.args)
    except BaseException as exc:  # noqa: BLE001 - ends as python would, without our frames
        if not isinstance(exc, SystemExit):
            _report_with(_user_frames(exc.__traceback__), exc)
        raise  # Python's own top level prints it and exits (1; SIGINT for KeyboardInterrupt)
    finally:
        if snapshot is not None:
            snapshot()  # the program's owners, while their contexts are alive
    return 0


def _program_module() -> types.ModuleType:
    """A fresh ``__main__`` module for the program, installed as ``sys.modules["__main__"]`` for
    good (the program's classes pickle by that name until exit). The runner's own ``__main__``
    is kept alive: its code is still running."""
    _kept.append(sys.modules.get("__main__"))
    program = types.ModuleType("__main__")
    program.__loader__ = importlib.machinery.BuiltinImporter  # as python's own __main__ before a script runs
    sys.modules["__main__"] = program
    return program


def _set_path0(entry: str) -> None:
    """``sys.path[0]`` as python sets it for the program; untouched under ``python -P`` (safe path),
    where python adds nothing."""
    if not getattr(sys.flags, "safe_path", False):
        sys.path[0] = entry


def _absolute(path: str) -> str:
    """``path`` made absolute as python does (the current directory joined, not normalised)."""
    return path if os.path.isabs(path) else os.path.join(os.getcwd(), path)


def _run_module(name: str, args: list[str]) -> None:
    """``python -m name args``: argv[0] is ``-m`` while the module is found, then its file."""
    sys.argv = ["-m", *args]
    _set_path0(os.getcwd())
    runpy._run_module_as_main(name, alter_argv=True)  # noqa: SLF001 - what python -m itself calls


def _run_path(program: types.ModuleType, target: str, args: list[str]) -> None:
    """``python target args``: a directory or zip file runs its ``__main__`` (python's way, through
    runpy); a file runs as the ``__main__`` script, with its real folder first on ``sys.path``."""
    sys.argv = [target, *args]
    path = _absolute(target)
    if pkgutil.get_importer(path) is not None:  # a directory or a zip file
        _set_path0(path)
        runpy._run_module_as_main("__main__", alter_argv=False)  # noqa: SLF001 - what python itself calls
        return
    _set_path0(os.path.dirname(os.path.realpath(path)))
    with io.open_code(path) as stream:
        code = pkgutil.read_code(stream)  # a compiled .pyc script, as python runs one
    if code is None:
        with io.open_code(path) as stream:
            code = stream.read()
    program.__loader__ = importlib.machinery.SourceFileLoader("__main__", path)
    _run_source(program, code, path, sys.argv, file=path)


def _run_source(program: types.ModuleType, source, filename: str, argv: list[str], file: str | None) -> None:
    """Execute ``source`` (text, bytes or a code object) in ``program``'s namespace, as python runs
    ``-c``, ``-`` and scripts: ``__file__`` (when ``file``) is set for the run and removed after it."""
    sys.argv = argv
    if file is None or file == "<stdin>":
        _set_path0("")
    namespace = program.__dict__
    if file is not None:
        namespace.update(__file__=file, __cached__=None)
    code = source if isinstance(source, types.CodeType) else compile(source, filename, "exec", dont_inherit=True)
    try:
        exec(code, namespace)  # noqa: S102 - running the user's program is this module's job
    finally:
        if file is not None:
            namespace.pop("__file__", None)
            namespace.pop("__cached__", None)


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
