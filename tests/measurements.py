"""A pytest plugin for the suite: figures a test measured go to pytest's own reporting (the test's
``record_property``, hence JUnit XML, and a ``measurements`` section of the terminal summary), never
between the progress dots."""

import pytest

_STASH = pytest.StashKey[list]()


def pytest_configure(config):
    config.stash[_STASH] = []


@pytest.fixture
def measurement(request, record_property):
    """``measurement(name, value)``: report a figure this test measured (a number, a dict...)."""
    def record(name: str, value) -> None:
        record_property(name, value)
        request.config.stash[_STASH].append((request.node.nodeid, name, value))

    return record


def pytest_terminal_summary(terminalreporter, config):
    measured = config.stash.get(_STASH, [])
    if not measured:
        return
    terminalreporter.section("measurements")
    for nodeid, name, value in measured:
        terminalreporter.write_line(f"{nodeid}: {name}: {value}")
