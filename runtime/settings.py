"""Settings in layers: defaults, then a TOML file, then environment variables, then the command line."""

import tomllib
from pathlib import Path
from typing import Any, Self

from pydantic import ValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    TomlConfigSettingsSource,
)

from .errors import ConfigError


class LayeredSettings(BaseSettings):
    """Base of a daemon's settings; the subclass sets its env_prefix and declares its fields."""

    @classmethod
    def load(cls, config_file: Path | None = None, **overrides: Any) -> Self:
        """Settings from `config_file` (TOML), the environment and `overrides`, in rising priority."""
        if config_file is None:
            return cls(**overrides)
        configured = type(
            f"File{cls.__name__}", (cls,), {"model_config": {**cls.model_config, "toml_file": config_file}}
        )
        try:
            return cls.model_validate(configured(**overrides).model_dump())
        except tomllib.TOMLDecodeError as error:
            raise ConfigError(f"--config {config_file}: not valid TOML ({error}); fix the file") from error
        except OSError as error:
            raise ConfigError(f"--config {config_file}: cannot read it ({error.strerror})") from error

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


def first_problem(error: ValidationError) -> str:
    """The first thing wrong in `error`, as "field: message"."""
    problem = error.errors()[0]
    return f"{'.'.join(str(part) for part in problem['loc'])}: {problem['msg']}"
