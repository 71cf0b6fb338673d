"""`flowengine serve`: the call-scenario service (REST API, simulator, ACD, SQLite)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from flowengine.errors import FlowEngineError


def add_parsers(sub: Any) -> None:
    p = sub.add_parser(
        "serve",
        help="run the service: REST API, engine, simulator and ACD, with an embedded database",
        description="Settings come from flags, FLOWENGINE_* environment variables and a settings "
        "file (--config), in that order of strength.",
    )
    p.add_argument("--data-dir", type=Path, default=None, help="data directory (default ./flowengine-data)")
    p.add_argument("--host", default=None, help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=None, help="TCP port (default 8000)")
    p.add_argument("--config", type=Path, default=None, help="settings file (YAML or JSON)")
    p.add_argument("--examples-dir", type=Path, default=None, help="what to import into an empty database")
    p.add_argument("--no-examples", action="store_true", help="start with an empty database")
    p.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])
    p.set_defaults(handler=cmd_serve)


def settings_from(args: argparse.Namespace) -> Any:
    from pydantic import ValidationError

    from flowengine.api.settings import ServeSettings, SettingsFileError

    given: dict[str, Any] = {
        "data_dir": args.data_dir,
        "host": args.host,
        "port": args.port,
        "config": args.config,
        "examples_dir": args.examples_dir,
    }
    if args.no_examples:
        given["import_examples"] = False
    try:
        return ServeSettings(**{k: v for k, v in given.items() if v is not None})
    except ValidationError as exc:
        lines = [f"  {'.'.join(map(str, e['loc'])) or 'settings'}: {e['msg']}" for e in exc.errors()]
        raise FlowEngineError("invalid settings:\n" + "\n".join(lines)) from None
    except SettingsFileError as exc:
        raise FlowEngineError(str(exc)) from None


def cmd_serve(args: argparse.Namespace) -> int:
    try:
        import uvicorn

        from flowengine.api import create_app
    except ImportError as exc:  # the API's dependencies are an extra
        raise FlowEngineError(f"flowengine serve: a dependency is missing, reinstall flowengine ({exc})") from None
    settings = settings_from(args)
    app = create_app(settings)
    print(f"flowengine: serving on http://{settings.host}:{settings.port} (data in {settings.data_dir})", file=sys.stderr, flush=True)
    config = uvicorn.Config(app, host=settings.host, port=settings.port, log_level=args.log_level, lifespan="on")
    server = uvicorn.Server(config)
    # uvicorn handles SIGINT/SIGTERM: stop accepting, let the lifespan's
    # shutdown end the calls and flush the event writer, then return
    server.run()
    return 0 if server.started else 1
