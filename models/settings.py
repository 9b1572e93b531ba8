"""The one settings class of the engine, read from the environment (prefix CAMPAIGN_)."""

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

EventsPer = Literal["notice", "step"]


class Settings(BaseSettings):
    """Settings read from `CAMPAIGN_*` environment variables or a `.env` file."""

    model_config = SettingsConfigDict(env_prefix="CAMPAIGN_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default_factory=lambda: f"sqlite:///{Path.cwd() / 'campaign.db'}",
        description="SQLAlchemy URL of the campaign database; a SQLite file in the working "
        "directory unless set.",
    )
    timezone: str = Field(
        default="Asia/Ho_Chi_Minh", description="Timezone in which 'today' is judged."
    )
    events_per: EventsPer = Field(
        default="notice",
        description="The Prefect events a run announces its notices by: one per notice (the "
        "unit and level as the event's resource labels), or one per ladder step and level "
        "naming up to ~90 late units as related resources (a province's run issues thousands "
        "of notices, each event costing Prefect's server milliseconds).",
    )


@lru_cache
def get_settings() -> Settings:
    """The process's settings, read once."""
    return Settings()
