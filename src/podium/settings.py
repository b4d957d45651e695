"""Podium's settings: ``PODIUM_*`` environment over ``podium.toml`` over defaults.

Settings are read once per command and passed down explicitly; nothing reads the environment
at import time.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from podium.errors import PodiumError, not_utf8, validation_message

TOML_FILE = "podium.toml"


def _default_home() -> Path:
    return Path(os.path.expanduser("~")) / ".podium"


class _TomlFile(TomlConfigSettingsSource):
    """``podium.toml``, whose syntax errors are one line naming the file, line and column."""

    def __init__(self, settings_cls: type[BaseSettings]) -> None:
        try:
            super().__init__(settings_cls)
        except tomllib.TOMLDecodeError as exc:
            # tomllib says "Invalid value (at line 1, column 10)"; the place goes to `where`
            found = re.fullmatch(r"(.*) \(at line (\d+), column (\d+)\)", str(exc))
            message, where = str(exc), TOML_FILE
            if found:
                message, where = found[1], f"{TOML_FILE}:{found[2]}:{found[3]}"
            raise PodiumError(
                f"not valid TOML: {message}",
                where=where,
                hint="fix the syntax (a setting is `name = value`, each name once)",
            ) from None
        except UnicodeDecodeError as exc:
            message, line = not_utf8(exc)
            raise PodiumError(
                message,
                where=f"{TOML_FILE}:{line}",
                hint="save the file as UTF-8",
            ) from None
        except OSError as exc:
            raise PodiumError(
                f"cannot read it: {exc.strerror or exc}",
                where=TOML_FILE,
                hint="make it a readable file, or remove it",
            ) from None


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
        toml_file=TOML_FILE,
        # only podium.toml can hold unknown names: the environment source reads the fields'
        # own PODIUM_* variables and leaves any other (PODIUM_DEBUG ...) alone
        extra="forbid",
    )

    home: Path = Field(default_factory=_default_home)
    database_url: str | None = None
    artifact_url: str | None = None
    catalog_path: str = ""
    enable_fake: bool = False
    disabled: str = ""
    max_retry_after_s: float = Field(default=60.0, ge=0, allow_inf_nan=False)
    budget_daily_usd: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    budget_pipeline_daily_usd: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    workers: int = Field(default_factory=lambda: max(1, min(4, os.cpu_count() or 1)), ge=1)
    profile: Literal["demo", "delivery"] = "demo"
    breaker_failures: int = Field(default=5, ge=1)
    breaker_error_rate: float = Field(default=0.5, ge=0, le=1, allow_inf_nan=False)
    breaker_window: int = Field(default=20, ge=1)
    breaker_cooldown_s: float = Field(default=30.0, ge=0, allow_inf_nan=False)
    min_samples: int = Field(default=20, ge=1)
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
        return (init_settings, env_settings, _TomlFile(settings_cls))

    @field_validator("catalog_path")
    @classmethod
    def _catalog_dirs_exist(cls, value: str) -> str:
        for part in value.split(os.pathsep):
            if part and not Path(part).is_dir():
                what = "is not a directory" if Path(part).exists() else "does not exist"
                raise ValueError(
                    f"{part!r} {what}; it names directories of model cards, "
                    f"separated by {os.pathsep!r}"
                )
        return value

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
            value, unless it is a secret), or ``podium.toml`` is not valid UTF-8 TOML or names
            something that is not a setting.
    """
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = exc.errors()
        first = problems[0]
        name = ".".join(str(part) for part in first["loc"]) or "?"
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        if first["type"] == "extra_forbidden":
            # only podium.toml can hold a name that is not a setting (see model_config)
            close = difflib.get_close_matches(name, Settings.model_fields, n=1)
            hint = (
                f"did you mean {close[0]!r}?"
                if close
                else "remove it (`podium config` lists every setting)"
            )
            raise PodiumError(
                f"unknown setting {name!r}{more}", where=TOML_FILE, hint=hint
            ) from None
        field = Settings.model_fields.get(name)
        secret = field is not None and "SecretStr" in str(field.annotation)
        value = "" if secret else f" = {first.get('input')!r}"
        raise PodiumError(
            f"setting {name}{value}: {validation_message(first)}{more}",
            where=f"PODIUM_{name.upper()} or `{name}` in {TOML_FILE}",
            hint="fix the value, or unset it to use the default",
        ) from None
