"""Test-suite wide setup.

With `--import-mode=importlib` pytest does not put test folders on sys.path,
and putting `tests/` there would let `tests/flowengine/` shadow the real
`flowengine` package. So the shared helpers module is loaded by path here
and registered under its own name: test modules say
`from scenario_builders import doc, node, run`.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path


def _load_helpers(name: str) -> None:
    if name in sys.modules:
        return
    spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name(f"{name}.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)


_load_helpers("scenario_builders")
_load_helpers("local_http")


def _hypothesis_profiles() -> None:
    """In CI (CI=true) property tests run a fixed, derandomized set of
    examples, so a submission's result does not depend on luck; on a
    developer's machine they keep exploring new random examples."""
    import os

    from hypothesis import settings

    settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
    if os.environ.get("CI"):
        settings.load_profile("ci")


_hypothesis_profiles()
