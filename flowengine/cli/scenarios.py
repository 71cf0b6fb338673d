"""`flowengine validate`, `schema` and `components`: scenario documents and the catalogue."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from flowengine.cli import options
from flowengine.errors import FlowEngineError


def add_parsers(sub: Any) -> None:
    p = sub.add_parser("validate", help="check scenario files and report every problem")
    p.add_argument("files", nargs="+", type=Path)
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument(
        "--lib",
        action="append",
        type=Path,
        default=[],
        metavar="DIR|FILE",
        help="scenarios that Subscenario nodes may call: a file, or a folder's *.json (repeatable)",
    )
    p.add_argument(
        "--centre", type=Path, help="centre file: queues and operators the scenarios may name, its dial policy"
    )
    p.add_argument(
        "--media",
        action="append",
        type=options.folder,
        default=[],
        metavar="DIR",
        help="media folder (repeatable): every audio file the scenarios name must be a file in one",
    )
    p.set_defaults(handler=cmd_validate)

    p = sub.add_parser("schema", help="print the JSON Schema of scenario documents")
    p.add_argument("--output", type=Path)
    p.set_defaults(handler=cmd_schema)

    p = sub.add_parser("components", help="list the node types (components)")
    p.add_argument("--json", action="store_true")
    p.add_argument("--markdown", action="store_true", help="the full reference (docs/components.md)")
    p.set_defaults(handler=cmd_components)


def cmd_validate(args: argparse.Namespace) -> int:
    from flowengine.validation import format_problem, validate_files

    known = None
    dial_policy = None
    if args.centre is not None:
        from flowengine.acd import load_centre

        centre = load_centre(args.centre)
        known = {"queue": {q.id for q in centre.queues}, "operator": {o.id for o in centre.operators}}
        dial_policy = centre.dial_rules
    from flowengine.telephony.media import MediaFolders

    results = validate_files(
        args.files, library=args.lib, known=known, dial_policy=dial_policy, media=MediaFolders(args.media)
    )
    errors = sum(1 for problems in results.values() for p in problems if p.severity == "error")
    warnings = sum(1 for problems in results.values() for p in problems if p.severity != "error")
    if args.json:
        out = [dict(p.to_dict(), file=str(path)) for path, problems in results.items() for p in problems]
        print(json.dumps({"errors": errors, "warnings": warnings, "problems": out}, ensure_ascii=False, indent=2))
    else:
        for path, problems in results.items():
            for p in problems:
                print(format_problem(path, p))
            if not problems:
                print(f"{path}: ok")
        print(f"{len(results)} file(s): {errors} error(s), {warnings} warning(s)")
        if args.centre is None and any(_uses_acd(path) for path in args.files):
            print("note: queue and operator names were not checked; pass --centre FILE to check them")
    return 1 if errors else 0


def _uses_acd(path: Path) -> bool:
    """Whether a scenario file has Queue or Transfer nodes (for the validate note)."""
    from flowengine.documents import load_document

    try:
        data = load_document(path)
    except FlowEngineError:
        return False
    nodes = data.get("nodes") if isinstance(data, dict) else None
    return isinstance(nodes, list) and any(
        isinstance(n, dict) and n.get("type") in ("queue", "transfer") for n in nodes
    )


def cmd_schema(args: argparse.Namespace) -> int:
    from flowengine.scenario.schema import scenario_json_schema

    text = json.dumps(scenario_json_schema(), ensure_ascii=False, indent=2)
    if args.output:
        options.writable(args.output, "--output").write_text(text + "\n", encoding="utf-8")
    else:
        print(text)
    return 0


def cmd_components(args: argparse.Namespace) -> int:
    from flowengine.components.registry import builtin_registry

    if args.markdown:
        from flowengine.components.catalogue import catalogue_markdown

        print(catalogue_markdown(), end="")
        return 0
    rows = [
        {
            "type": name,
            "title_en": cls.title_en,
            "title_ru": cls.title_ru,
            "description": cls.description,
            "exits": list(cls.exits) + (["(from params)"] if "exit_names" in vars(cls) else []),
        }
        for name, cls in builtin_registry().items()
    ]
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        for r in rows:
            print(f"{r['type']:<12} {r['title_en']} / {r['title_ru']}: {r['description']}")
    return 0


