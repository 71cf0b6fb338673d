"""The package map holds: no import cycles between packages, and the core
never imports a telephony backend (it finds them through the registry).

The graph is built from the source with `ast`, at the level of packages
(`flowengine.runtime`, `flowengine.acd.analysis`, `nodes`,
`telephony_adapters.sim`, ...). Every import that runs counts, including
ones inside functions; imports under `if TYPE_CHECKING:` do not, since they
name types for the checker and never load anything.
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx

ROOT = Path(__file__).resolve().parents[2]
TOP = ("flowengine", "nodes", "telephony_adapters")


def _package_of(module: str, packages: set[str]) -> str:
    """The deepest known package that contains `module`."""
    parts = module.split(".")
    for i in range(len(parts), 0, -1):
        name = ".".join(parts[:i])
        if name in packages:
            return name
    return parts[0]


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for top in TOP:
        for path in (ROOT / top).rglob("*.py"):
            rel = path.relative_to(ROOT).with_suffix("")
            parts = list(rel.parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


def _imports(module: str, path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out: set[str] = set()
    is_package = path.name == "__init__.py"
    type_only: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            type_only.update(id(inner) for stmt in node.body for inner in ast.walk(stmt))
    for node in ast.walk(tree):
        if id(node) in type_only:
            continue
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                keep = len(base) - node.level + (1 if is_package else 0)
                prefix = ".".join(base[:keep])
                target = f"{prefix}.{node.module}" if node.module else prefix
            else:
                target = node.module or ""
            out.add(target)
            out.update(f"{target}.{alias.name}" for alias in node.names)
    return {name for name in out if name.split(".")[0] in TOP}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def package_graph() -> nx.DiGraph:
    modules = _modules()
    packages = {
        name for name, path in modules.items() if path.name == "__init__.py"
    } | set(TOP)
    graph = nx.DiGraph()
    for module, path in modules.items():
        src = _package_of(module, packages)
        graph.add_node(src)
        for target in _imports(module, path):
            dst = _package_of(target, packages)
            if dst != src and not src.startswith(dst + ".") and not dst.startswith(src + "."):
                graph.add_edge(src, dst, via=f"{module} -> {target}")
    return graph


def test_no_import_cycles_between_packages() -> None:
    graph = package_graph()
    cycles = list(nx.simple_cycles(graph))
    described = [
        " -> ".join(c + [c[0]]) + "  (" + "; ".join(
            graph.edges[a, b]["via"] for a, b in zip(c, c[1:] + c[:1], strict=True)
        ) + ")"
        for c in cycles
    ]
    assert not cycles, "import cycles between packages:\n" + "\n".join(described)


def test_the_core_never_imports_a_backend() -> None:
    graph = package_graph()
    offending = [
        graph.edges[a, b]["via"]
        for a, b in graph.edges
        if a.startswith("flowengine") and b.startswith("telephony_adapters")
    ]
    assert not offending, f"flowengine imports telephony backends: {offending}"


def test_the_graph_sees_real_imports() -> None:
    """Guard against a graph that is empty by mistake (the tests above would pass)."""
    graph = package_graph()
    assert graph.has_edge("flowengine.runtime", "flowengine.events")
    assert graph.has_edge("telephony_adapters.sim", "flowengine.telephony")
    assert graph.has_edge("nodes", "flowengine.components")
