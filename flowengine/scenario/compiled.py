"""The runtime form of a scenario: node instances and wiring, built once.

Calls hold a reference to the `Scenario` they started on; publishing a new
version builds a new object, so a call is pinned to its version for life.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from flowengine.components.node import NodeType
from flowengine.scenario.model import ScenarioDoc, SettingsDoc


@dataclass(eq=False)
class Scenario:
    doc: ScenarioDoc
    nodes: dict[str, NodeType]
    wiring: dict[str, dict[str, str]]
    main_entry: str
    after_hangup_entry: str | None
    tz: ZoneInfo
    source: Path | None = None
    defaults: dict[str, Any] = field(default_factory=dict)

    # `id`, `version` and `settings` are read on every step and every node
    # event of every call; the document never changes once compiled (a new
    # version is a new Scenario), so they are cached on first use.

    @functools.cached_property
    def id(self) -> str:
        return self.doc.id

    @functools.cached_property
    def version(self) -> int:
        return self.doc.version

    @functools.cached_property
    def settings(self) -> SettingsDoc:
        return self.doc.settings

    @property
    def numbers(self) -> list[str]:
        return self.doc.numbers

    def next(self, node_id: str, exit_name: str) -> str | None:
        return self.wiring[node_id].get(exit_name)

    def __repr__(self) -> str:
        return f"<Scenario {self.id} v{self.version} ({len(self.nodes)} nodes)>"
