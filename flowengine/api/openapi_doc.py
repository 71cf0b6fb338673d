"""Writes the service's OpenAPI document as JSON.

The web editor generates its TypeScript API types from this document
(`npm run gen:api` in editor/), so they cannot drift from the service:

    python -m flowengine.api.openapi_doc editor/openapi.json
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import orjson


def openapi_document() -> dict[str, Any]:
    """The OpenAPI document of `flowengine serve`; nothing is started or opened."""
    from flowengine.api.app import create_app
    from flowengine.api.settings import ServeSettings

    return create_app(ServeSettings(import_examples=False)).openapi()


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    data = orjson.dumps(openapi_document(), option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS)
    if not args or args[0] == "-":
        sys.stdout.buffer.write(data + b"\n")
    else:
        Path(args[0]).write_bytes(data + b"\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
