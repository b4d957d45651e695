"""Podium's settings: ``PODIUM_*`` environment over ``podium.toml`` over defaults.

Settings are read once per command and passed down explicitly; nothing reads the environment
at import time.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from podium.errors import PodiumError


def _default_home() -> Path:
    return Path(os.path.expanduser("~")) / ".podium"


class Settings(BaseSettings):
    """Effective configuration of one Podium process.

    Attributes:
        home: where the store (database, artifacts, cache) lives.
        database_url: SQLAlchemy URL of the journal; default SQLite under ``home``.
        artifact_url: where artifacts are stored (a directory or an fsspec URL).
        catalog_path: extra directories of model cards (``os.pathsep``-separated).
        enable_fake: enable the ``fake`` testing provider.
        disabled: comma-separated models (``local/piper``) or providers (``fal``) an operator has
            taken out of service; the router excludes them as unavailable, saying so.
        max_retry_after_s: cap on a provider's Retry-After.
        budget_daily_usd: global spend limit per day.
        budget_pipeline_daily_usd: spend limit per pipeline per day.
        workers: local engine worker processes.
        profile: output profile of the final cut (``demo`` or ``delivery``).
    """

    model_config = SettingsConfigDict(
        env_prefix="PODIUM_",
        toml_file="podium.toml",
        extra="ignore",
    )

    home: Path = Field(default_factory=_default_home)
    database_url: str | None = None
    artifact_url: str | None = None
    catalog_path: str = ""
    enable_fake: bool = False
    disabled: str = ""
    max_retry_after_s: float = 60.0
    budget_daily_usd: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    budget_pipeline_daily_usd: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    workers: int = Field(default_factory=lambda: max(1, min(4, os.cpu_count() or 1)))
    profile: str = "demo"
    breaker_failures: int = 5
    breaker_error_rate: float = 0.5
    breaker_window: int = 20
    breaker_cooldown_s: float = 30.0
    min_samples: int = 20
    fal_key: SecretStr | None = None
    replicate_api_token: SecretStr | None = None
    openai_api_key: SecretStr | None = None
    elevenlabs_api_key: SecretStr | None = None
    # Base URLs of remote providers; tests point them at the loopback servers.
    fal_url: str = "https://queue.fal.run"
    fal_storage_url: str = "https://rest.alpha.fal.ai"
    replicate_url: str = "https://api.replicate.com"
    openai_url: str = "https://api.openai.com/v1"
    elevenlabs_url: str = "https://api.elevenlabs.io"
    comfyui_url: str = "http://127.0.0.1:8188"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls))

    @property
    def db_url(self) -> str:
        """The journal's SQLAlchemy URL."""
        return self.database_url or f"sqlite:///{self.home / 'podium.db'}"

    @property
    def artifacts_root(self) -> str:
        """Where artifacts live."""
        return self.artifact_url or str(self.home / "artifacts")

    @property
    def disabled_set(self) -> frozenset[str]:
        """Models and providers taken out of service (``PODIUM_DISABLED``)."""
        return frozenset(x.strip() for x in self.disabled.split(",") if x.strip())

    @property
    def catalog_dirs(self) -> list[Path]:
        """User catalog directories, in order."""
        return [Path(p) for p in self.catalog_path.split(os.pathsep) if p]

    def secret(self, env_var: str) -> str | None:
        """The value of a credential named by its env var (settings field or environment)."""
        field = env_var.lower()
        value = getattr(self, field, None) if field in type(self).model_fields else None
        if isinstance(value, SecretStr):
            return value.get_secret_value()
        return os.environ.get(env_var) or None

    def masked(self) -> dict[str, Any]:
        """The effective settings with secrets masked, for ``podium config``."""
        out: dict[str, Any] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, SecretStr):
                out[name] = "****" if value.get_secret_value() else None
            elif isinstance(value, Path):
                out[name] = str(value)
            else:
                out[name] = value
        return out


def load_settings(**overrides: Any) -> Settings:
    """Read the settings afresh (environment, ``podium.toml`` in the working directory).

    Raises:
        PodiumError: a setting's value is wrong (one line naming it, where it is set, and the
            value, unless it is a secret).
    """
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = exc.errors()
        first = problems[0]
        name = ".".join(str(part) for part in first["loc"]) or "?"
        field = Settings.model_fields.get(name)
        secret = field is not None and "SecretStr" in str(field.annotation)
        value = "" if secret else f" = {first.get('input')!r}"
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise PodiumError(
            f"setting {name}{value}: {first['msg']}{more}",
            where=f"PODIUM_{name.upper()} or `{name}` in podium.toml",
            hint="fix the value, or unset it to use the default",
        ) from None
