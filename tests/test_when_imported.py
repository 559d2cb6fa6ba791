"""The post-import hook: a function runs once a module is first imported, and nothing is imported early."""

import sys

import pytest

from warp_gl_lifecycle.when_imported import cancel, when_imported


@pytest.fixture
def module_dir(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    for name in [m for m in sys.modules if m.startswith("wgl_hooked")]:
        del sys.modules[name]


def test_hook_runs_once_after_the_module_executed(module_dir):
    (module_dir / "wgl_hooked_a.py").write_text("VALUE = 42\n")
    seen = []
    when_imported("wgl_hooked_a", lambda module: seen.append(module.VALUE))
    assert "wgl_hooked_a" not in sys.modules and seen == []
    import wgl_hooked_a  # noqa: F401, PLC0415

    assert seen == [42]
    assert type(wgl_hooked_a.__loader__).__name__ != "_HookedLoader"  # the module sees its own loader
    del sys.modules["wgl_hooked_a"]
    import wgl_hooked_a  # noqa: F401, F811, PLC0415 - imported again: the hook has run already

    assert seen == [42]


def test_hook_runs_at_once_for_a_module_already_imported(module_dir):
    (module_dir / "wgl_hooked_b.py").write_text("VALUE = 7\n")
    import wgl_hooked_b  # noqa: F401, PLC0415

    seen = []
    when_imported("wgl_hooked_b", lambda module: seen.append(module.VALUE))
    assert seen == [7]


def test_submodule_of_a_package_and_cancel(module_dir):
    package = module_dir / "wgl_hooked_pkg"
    package.mkdir()
    (package / "__init__.py").write_text("from . import inner\n")
    (package / "inner.py").write_text("NAME = 'inner'\n")
    seen, cancelled = [], []
    when_imported("wgl_hooked_pkg.inner", lambda module: seen.append(module.NAME))
    when_imported("wgl_hooked_pkg.inner", cancelled.append)
    assert cancel("wgl_hooked_pkg.inner", cancelled.append)
    assert not cancel("wgl_hooked_pkg.inner", cancelled.append)
    import wgl_hooked_pkg  # noqa: F401, PLC0415

    assert seen == ["inner"] and cancelled == []
