"""Settings of `flowengine serve`: one pydantic-settings object.

Sources, strongest first: command-line flags (passed as init arguments),
environment variables ``FLOWENGINE_*`` (e.g. ``FLOWENGINE_PORT=8080``), a
settings file (YAML or JSON, ``--config FILE`` or ``FLOWENGINE_CONFIG``), the
defaults below. Every default keeps a fresh machine working: a data directory
beside the current one, SQLite in it, the simulator, the examples.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from flowengine.documents import DocumentError, load_document


class ServeSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FLOWENGINE_", extra="forbid")

    data_dir: Path = Field(default=Path("flowengine-data"), description="where the database and files live")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default: SQLite file flowengine.db in data_dir"
    )
    host: str = Field(default="127.0.0.1", description="address to listen on")
    port: int = Field(default=8000, ge=0, le=65535, description="TCP port (0: any free port)")
    examples_dir: Path | None = Field(
        default=None, description="scenarios, centre.yaml and routing.yaml imported into an empty database "
        "(default: the examples/ directory beside the package, when present)"
    )
    import_examples: bool = Field(default=True, description="import the examples when the database is empty")
    admin_password: SecretStr | None = Field(
        default=None, description="password of the first admin; without it one is generated and printed once"
    )
    session_ttl: float = Field(default=12 * 3600, gt=0, description="seconds a login session lasts")
    login_attempts: int = Field(default=5, ge=1, description="failed logins allowed per user and address ...")
    login_window: float = Field(default=60.0, gt=0, description="... within this many seconds")
    operator_answer_after: float = Field(default=3.0, ge=0, description="virtual operators answer after S s")
    operator_talk_time: float = Field(default=60.0, ge=0, description="virtual operators talk for S s")
    max_test_calls: int = Field(default=200, ge=1, description="simulated test calls in flight at most")
    event_retention_days: float | None = Field(
        default=None, gt=0, description="delete events and CDRs older than this many days; none: keep them"
    )
    recording_retention_days: float | None = Field(
        default=None, gt=0, description="delete recordings and voicemail older than this many days; "
        "none: as event_retention_days"
    )
    purge_interval: float = Field(default=3600.0, gt=0, description="seconds between retention purges")
    report_interval: float | None = Field(
        default=60.0, gt=0,
        description="seconds between background folds of ended calls into the report tables (none: only when a report is asked for)",
    )
    alert_interval: float = Field(
        default=10.0, gt=0, le=3600, description="seconds between checks of the centre's alerts (line silence, ...)"
    )
    config: Path | None = Field(default=None, description="settings file (YAML or JSON)")
    sip: str | None = Field(
        default=None, description="answer SIP calls on HOST:PORT (UDP) beside the API; none: no SIP"
    )
    sip_settings: dict[str, Any] = Field(
        default_factory=dict, description="the SIP backend's trunks, RTP ports, codecs ... (docs/backends.md)"
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _FileSource(settings_cls, init_settings, env_settings))

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'flowengine.db'}"


class _FileSource(PydanticBaseSettingsSource):
    """The settings file named by `config` (flag or environment)."""

    def __init__(
        self,
        settings_cls: type[BaseSettings],
        init: PydanticBaseSettingsSource,
        env: PydanticBaseSettingsSource,
    ) -> None:
        super().__init__(settings_cls)
        self._init = init
        self._env = env

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        path = self._init().get("config") or self._env().get("config")
        if not path:
            return {}
        try:
            data = load_document(Path(path), yaml_unless_json=True)
        except DocumentError as exc:
            raise SettingsFileError(f"settings file {exc}") from None
        if not isinstance(data, dict):
            raise SettingsFileError(f"settings file {path}: must be a mapping of setting: value")
        return {k.replace("-", "_"): v for k, v in data.items()}


class SettingsFileError(ValueError):
    """The settings file cannot be read."""
