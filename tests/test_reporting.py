"""How the suite reports: figures a test measured go through pytest's own reporting (the
``measurement`` fixture of ``tests/measurements.py``), not printed between the progress dots."""

import ast

from .conftest import ROOT

TEST_FILES = sorted((ROOT / "tests").glob("test_*.py"))


def test_no_test_prints():
    """A ``print`` in a test lands between pytest's dots (with ``capsys.disabled()``) or nowhere."""
    found = []
    for path in TEST_FILES:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "print":
                found.append(f"{path.name}:{node.lineno}")
            if isinstance(node, ast.Attribute) and node.attr == "disabled":
                found.append(f"{path.name}:{node.lineno} (capsys.disabled)")
    assert not found


def test_measurements_appear_in_their_own_summary_section_and_in_junit_xml(pytester):
    pytester.makepyfile(test_figures="""
        def test_one(measurement):
            measurement("cycles", {"rss_mb": 1.5})

        def test_two():
            pass
    """)
    result = pytester.runpytest("-q", "-p", "tests.measurements", "--junitxml=out.xml")
    result.assert_outcomes(passed=2)
    lines = result.outlines
    dots = next(i for i, line in enumerate(lines) if line.startswith(".."))
    assert "rss_mb" not in lines[dots]
    section = next(i for i, line in enumerate(lines) if "measurements" in line and line.startswith("="))
    assert section > dots
    assert "test_figures.py::test_one: cycles: {'rss_mb': 1.5}" in lines[section + 1]
    xml = (pytester.path / "out.xml").read_text()
    assert """<property name="cycles" value="{'rss_mb': 1.5}" />""" in xml


def test_no_section_when_nothing_was_measured(pytester):
    pytester.makepyfile(test_plain="def test_plain():\n    pass\n")
    result = pytester.runpytest("-q", "-p", "tests.measurements")
    assert not any("measurements" in line for line in result.outlines)
