"""The editor shipped inside the Python package is exactly what its source
builds to: the test builds editor/ from source and compares every file.
(After changing editor/, run `npm run build` there and commit the result.)"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from flowengine.web import DIST

EDITOR = Path(__file__).resolve().parents[2] / "editor"


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_shipped_assets_are_built_from_the_source(tmp_path: Path) -> None:
    npm = shutil.which("npm")
    assert npm, "npm is needed to build the editor (scripts/test.sh installs it with node)"
    assert (EDITOR / "node_modules").is_dir(), "run `npm ci` in editor/ (scripts/test.sh does)"
    out = tmp_path / "dist"
    env = {**os.environ, "PYTHON": sys.executable,
           "PYTHONPATH": os.pathsep.join(filter(None, [str(EDITOR.parent), os.environ.get("PYTHONPATH")]))}
    done = subprocess.run(
        [npm, "run", "build", "--", "--outDir", str(out), "--emptyOutDir"],
        cwd=EDITOR, env=env, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    built, shipped = _files(out), _files(DIST)
    assert sorted(built) == sorted(shipped), "rebuild the editor: `npm run build` in editor/"
    stale = [name for name in built if built[name] != shipped[name]]
    assert not stale, f"flowengine/web/dist is stale ({stale}); run `npm run build` in editor/"
