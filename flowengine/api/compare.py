"""What changed between two versions of a scenario: the data of the editor's diff.

Nodes are matched by id. A node is *changed* when its type, params, title or
wiring differ (its position `ui` alone is reported as `moved`); exits are
compared per node and exit name: added, removed, or re-wired to another node.
"""

from __future__ import annotations

from typing import Any

_NODE_FIELDS = ("type", "title", "params", "entry")


def _nodes(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for node in doc.get("nodes") or []:
        if isinstance(node, dict) and isinstance(node.get("id"), str):
            out[node["id"]] = node
    return out


def compare_documents(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    a, b = _nodes(old), _nodes(new)
    added = [nid for nid in b if nid not in a]
    removed = [nid for nid in a if nid not in b]
    changed: list[dict[str, Any]] = []
    moved: list[str] = []
    exits_added: list[dict[str, Any]] = []
    exits_removed: list[dict[str, Any]] = []
    exits_changed: list[dict[str, Any]] = []
    for nid in a:
        if nid not in b:
            continue
        before, after = a[nid], b[nid]
        fields = [f for f in _NODE_FIELDS if before.get(f) != after.get(f)]
        if fields:
            changed.append({"node_id": nid, "fields": fields})
        if (before.get("ui") or {}) != (after.get("ui") or {}):
            moved.append(nid)
        ea, eb = before.get("exits") or {}, after.get("exits") or {}
        for name, target in eb.items():
            if name not in ea:
                exits_added.append({"node_id": nid, "exit": name, "to": target})
            elif ea[name] != target:
                exits_changed.append({"node_id": nid, "exit": name, "from": ea[name], "to": target})
        for name, target in ea.items():
            if name not in eb:
                exits_removed.append({"node_id": nid, "exit": name, "to": target})
    for nid in added:
        for name, target in (b[nid].get("exits") or {}).items():
            exits_added.append({"node_id": nid, "exit": name, "to": target})
    for nid in removed:
        for name, target in (a[nid].get("exits") or {}).items():
            exits_removed.append({"node_id": nid, "exit": name, "to": target})
    top = sorted(
        k for k in set(old) | set(new) if k not in ("nodes", "version") and old.get(k) != new.get(k)
    )
    return {
        "nodes_added": added,
        "nodes_removed": removed,
        "nodes_changed": changed,
        "nodes_moved": moved,
        "exits_added": exits_added,
        "exits_removed": exits_removed,
        "exits_changed": exits_changed,
        "fields_changed": top,
    }
