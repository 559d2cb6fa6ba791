"""`bench --quick` as a smoke test: it runs and reports every key. Goals are not asserted here."""

import json
import os
import subprocess
import sys

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
