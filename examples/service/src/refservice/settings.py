"""Settings from the environment, read once per app."""

import os
from dataclasses import dataclass
from typing import Mapping, Optional


@dataclass(frozen=True)
class Settings:
    """What the service reads from its environment."""

    database_url: str = "sqlite:///./refservice.sqlite3"
    api_key: Optional[str] = None
    disable_auth: bool = False
    env: str = "dev"

    @classmethod
    def from_env(cls, environ: Optional[Mapping[str, str]] = None) -> "Settings":
        environ = os.environ if environ is None else environ
        return cls(
            database_url=environ.get("DATABASE_URL", cls.database_url),
            api_key=environ.get("API_KEY") or None,
            disable_auth=environ.get("DISABLE_AUTH", "") in ("1", "true", "yes"),
            env=environ.get("ENV", cls.env),
        )
