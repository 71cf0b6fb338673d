"""Shared builders for the ACD tests (as fixtures: importlib mode has no sibling imports)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from flowengine.acd.core import ACD
from flowengine.acd.testing import Behaviour, VirtualCentre


def _centre(
    strategy: str = "ring_all",
    params: dict[str, Any] | None = None,
    n: int = 3,
    *,
    operators: list[dict[str, Any]] | None = None,
    extra_queues: list[dict[str, Any]] | None = None,
    **queue: Any,
) -> dict[str, Any]:
    """Operators 901..90n and one queue 'q' with all of them as members."""
    ops = operators or [{"id": str(900 + i), "extension": str(900 + i)} for i in range(1, n + 1)]
    q: dict[str, Any] = {
        "id": "q",
        "strategy": strategy,
        "strategy_params": params or {},
        "members": [o["id"] for o in ops],
        "ring_timeout": 10,
        "retry": 5,
    }
    q.update(queue)
    return {"operators": ops, "queues": [q, *(extra_queues or [])]}


def _run(
    c: dict[str, Any],
    behaviours: dict[str, Behaviour] | None = None,
    seed: int = 1,
    default: Behaviour | None = None,
) -> VirtualCentre:
    return VirtualCentre(ACD(c, seed=seed), behaviours, default)


@pytest.fixture
def make_centre() -> Callable[..., dict[str, Any]]:
    return _centre


@pytest.fixture
def make_run() -> Callable[..., VirtualCentre]:
    return _run
