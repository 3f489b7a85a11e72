"""Configuration from the environment; template.yaml sets every name read here."""

from __future__ import annotations

import os
from typing import NamedTuple

ENV_TABLE = "PROGRESS_TABLE"
ENV_SKILL_ID = "SKILL_ID"
ENV_STALE_DAYS = "STALE_AFTER_DAYS"
ENV_AUDIO_BASE_URL = "AUDIO_BASE_URL"  # where the rendered files are served (CloudFront)


class Settings(NamedTuple):
    """The function's configuration, from the environment that template.yaml sets."""

    table_name: str
    skill_id: str | None = None  # None: the SDK accepts any application id
    stale_after_days: int = 14  # older progress is offered as "carry on or start again?"
    ttl_days: int = 365
    audio_base_url: str | None = None  # None: no routine plays as audio

    @classmethod
    def from_env(cls) -> Settings:
        table = os.environ.get(ENV_TABLE)
        if not table:
            raise RuntimeError(f"{ENV_TABLE} is not set: template.yaml passes the table name")
        return cls(
            table_name=table,
            skill_id=os.environ.get(ENV_SKILL_ID) or None,
            stale_after_days=int(os.environ.get(ENV_STALE_DAYS, "14")),
            audio_base_url=os.environ.get(ENV_AUDIO_BASE_URL) or None,
        )
