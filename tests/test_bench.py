"""`bench --quick` as a smoke test: it runs and reports every key. Goals are not asserted here."""

import json
import os
import subprocess
import sys

import pytest

from .conftest import ROOT
from warp_gl_lifecycle.bench import GOALS


def test_bench_quick_reports_every_key(tmp_path):
    out = tmp_path / "bench.json"
    proc = subprocess.run(
        [sys.executable, "-m", "warp_gl_lifecycle", "bench", "--quick", "--json", str(out)],
        cwd=ROOT, env={**os.environ, "PYGLET_HEADLESS": "true"}, capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(out.read_text())
    results = report["results"]
    bases = {key.split("@")[0] for key in results}
    assert bases == set(GOALS)
    for key, value in results.items():
        assert key in proc.stdout
        if "skipped" not in value:
            assert 0 < value["min"] <= value["median"] <= value["max"], (key, value)
            assert value["goal"] == GOALS[key.split("@")[0]]
    assert report["machine"]["gl_renderer"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--json", "{tmp}"], "--json '{tmp}' is a directory"),
        (["--json", "{tmp}/file.txt/bench.json"], "--json '{tmp}/file.txt/bench.json' cannot be written"),
        (["--device", "nonsense"], "--device 'nonsense' is not a device here"),
        (["--device", "cpu"], "--device must be a CUDA device, got 'cpu'"),
    ],
)
def test_bench_mistakes_end_in_one_usage_line_before_any_work(tmp_path, capsys, args, message):
    from .test_demo import usage_error

    (tmp_path / "file.txt").write_text("")
    line = usage_error(capsys, ["bench", "--only", "registry", *[a.format(tmp=tmp_path) for a in args]])
    assert line.startswith("python -m warp_gl_lifecycle bench: error: ") and message.format(tmp=tmp_path) in line
    assert [p.name for p in tmp_path.iterdir()] == ["file.txt"]
