"""Loads this folder's helper modules (`sipmsgs`, `sipp_scenarios`) by path,
as the suite's root conftest does for its helpers (tests run with
--import-mode=importlib)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

for _name in ("sipmsgs", "sipp_scenarios", "baresip_peer", "sip_peers"):
    if _name not in sys.modules:
        _spec = importlib.util.spec_from_file_location(_name, Path(__file__).with_name(f"{_name}.py"))
        assert _spec is not None and _spec.loader is not None
        _module = importlib.util.module_from_spec(_spec)
        sys.modules[_name] = _module
        _spec.loader.exec_module(_module)

# said prompts are cached on disk: tests keep theirs out of the user's cache folder
import os as _os  # noqa: E402
import tempfile as _tempfile  # noqa: E402

_os.environ.setdefault("FLOWENGINE_CACHE_DIR", _tempfile.mkdtemp(prefix="flowengine-test-cache-"))
