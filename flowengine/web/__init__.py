"""The web editor's built assets (editor/ is their source).

`dist/` is built by `npm run build` in editor/ and ships inside the Python
package, so `flowengine serve` needs no Node.js at run time. The tests build
the editor from source and compare it with `dist/`, so the two never drift.
"""

from __future__ import annotations

from pathlib import Path

DIST = Path(__file__).parent / "dist"
