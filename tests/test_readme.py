"""The README as a newcomer reads it: its first program runs as it is on a machine without a display,
and every relative link in the README and docs/ leads to a file."""

import os
import re
import subprocess
import sys

import numpy as np

from .conftest import ROOT, without_warp_lines

# Pages other branches of this session write (merged by the lead); the README links them already.


def first_program() -> str:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("\n## A first program\n", 1)[1].split("\n## ", 1)[0]
    return re.search(r"```python\n(.*?)```", section, re.DOTALL).group(1)


def test_the_first_program_runs_as_it_is_without_a_display(tmp_path):
    (tmp_path / "first.py").write_text(first_program())
    env = {key: value for key, value in os.environ.items() if key not in ("DISPLAY", "PYGLET_HEADLESS")}
    proc = subprocess.run([sys.executable, "first.py"], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    stderr = without_warp_lines(proc.stderr)
    for bad in ("Traceback", "Exception ignored", "Error", "Warning"):
        assert bad not in stderr, proc.stderr
    import pyglet

    image = pyglet.image.load(str(tmp_path / "first.png"))
    pixels = np.frombuffer(image.get_image_data().get_data("RGB", image.width * 3), np.uint8)
    pixels = pixels.reshape(image.height, image.width, 3).astype(int)
    blue = (pixels[:, :, 2] > 120) & (pixels[:, :, 2] > pixels[:, :, 0] + 60)
    # three cubes side by side across the middle, the corners empty
    middle = blue[image.height // 2]
    runs = np.flatnonzero(np.diff(np.r_[0, middle.astype(int), 0]))
    assert len(runs) == 6, f"expected three cubes across the middle row, got runs at {runs}"
    assert not blue[:10, :10].any() and not blue[-10:, -10:].any()


def test_relative_links_lead_to_files():
    missing = []
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text()):
            if re.match(r"[a-z]+:", target):
                continue
            path = (page.parent / target).resolve()
            if not path.exists():
                missing.append(f"{page.name}: {target}")
    assert not missing


def test_the_readme_starts_with_what_a_newcomer_needs():
    """What it is, how to install it, a first program and the two commands come before any reference."""
    headings = re.findall(r"(?m)^## (.+)$", (ROOT / "README.md").read_text())
    assert headings[:3] == ["Install", "A first program", "The two commands"]
    assert "Troubleshooting" in headings
    assert len((ROOT / "README.md").read_text()) < 12_000
