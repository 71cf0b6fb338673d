"""Loads this folder's helper module (`telephone`) by path, as the suite's
root conftest does for its helpers (tests run with --import-mode=importlib)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

if "telephone" not in sys.modules:
    _spec = importlib.util.spec_from_file_location("telephone", Path(__file__).with_name("telephone.py"))
    assert _spec is not None and _spec.loader is not None
    _module = importlib.util.module_from_spec(_spec)
    sys.modules["telephone"] = _module
    _spec.loader.exec_module(_module)
