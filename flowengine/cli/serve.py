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
    p.add_argument("--sip", default=None, metavar="HOST:PORT", help="also answer SIP calls there (UDP), e.g. 127.0.0.1:5060")
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
        "sip": getattr(args, "sip", None),
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
    _check_database(settings)
    _check_sip(settings)
    _Server = _server_class()
    app = create_app(settings)
    print(f"flowengine: serving on http://{settings.host}:{settings.port} (data in {settings.data_dir})", file=sys.stderr, flush=True)
    # no per-message deflate on WebSockets: every wallboard delta goes to every
    # viewer, and compressing it once per viewer costs more CPU than the board itself
    config = uvicorn.Config(
        app, host=settings.host, port=settings.port, log_level=args.log_level, lifespan="on", ws_per_message_deflate=False
    )
    server = _Server(config)
    # SIGINT/SIGTERM: uvicorn stops accepting, the lifespan's shutdown ends
    # the calls and lets the event writer store every event; then exit 0
    server.run()
    return 0 if server.started else 1


def _check_database(settings: Any) -> None:
    """Open the database once before serving: an unreachable server or a
    schema newer than this code is a one-line error, not a traceback from
    inside the web server's start-up."""
    from flowengine.storage import open_database

    try:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FlowEngineError(f"data directory {settings.data_dir}: {exc.strerror or exc}") from None
    open_database(settings.db_url).close()


def _check_sip(settings: Any) -> None:
    """The SIP settings are read before serving: a mistake is a one-line error naming it."""
    if not settings.sip:
        return
    from flowengine.errors import UsageError
    from flowengine.telephony.backend import backend_class

    try:
        backend_class("sip").settings_from(settings.sip_settings, listen=settings.sip)  # type: ignore[attr-defined]
    except UsageError as exc:
        raise FlowEngineError(str(exc)) from None
    _check_sip_port(settings.sip)
    print(f"flowengine: answering SIP on udp:{settings.sip}", file=sys.stderr, flush=True)


def _check_sip_port(listen: str) -> None:
    """Bind the SIP address once before serving: a port already taken is a
    one-line error naming `--sip`, not a traceback from the web server's
    start-up (the service binds it again a moment later)."""
    import socket

    host, _, port = listen.rpartition(":")
    family = socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_DGRAM) as probe:
            probe.bind((host.strip("[]"), int(port)))
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise FlowEngineError(f"--sip {listen}: cannot listen there ({reason})") from None


def _server_class() -> Any:
    import uvicorn

    class Server(uvicorn.Server):
        """uvicorn re-raises a caught SIGINT/SIGTERM after its graceful
        shutdown, so the process would die by the signal; a stop asked for
        is a clean exit here (status 0)."""

        def capture_signals(self) -> Any:
            outer = super().capture_signals()

            class _NoReraise:
                def __enter__(inner) -> None:  # noqa: N805
                    outer.__enter__()

                def __exit__(inner, *exc: Any) -> Any:  # noqa: N805
                    self._captured_signals.clear()
                    return outer.__exit__(*exc)

            return _NoReraise()

    return Server
