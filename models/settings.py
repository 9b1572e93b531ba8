"""The one settings class of the engine, read from the environment (prefix CAMPAIGN_)."""

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, PositiveInt
from pydantic_settings import BaseSettings, SettingsConfigDict

EventsPer = Literal["auto", "notice", "step", "partition"]


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
        default="auto",
        description="The Prefect events a run announces its notices by: one per notice (the "
        "unit and level as the event's resource labels), or one per ladder step and level "
        "naming up to ~90 late units as related resources (a province's run issues thousands "
        "of notices, each event costing Prefect's server milliseconds), or one per partition, "
        "ladder step and level listing its late units in its payload (a bounded number); "
        "`auto`: per notice when a run announces few notices, per partition otherwise.",
    )
    partition_runs: Literal["auto", "in-process", "deployment"] = Field(
        default="auto",
        description="How a run reconciles its partitions: as flow runs of the "
        "`campaign-partition/partition` deployment that the workers of the `campaign` pool "
        "take, in the run's own process one after another, or `auto`: the deployment when a "
        "Prefect server is configured (PREFECT_API_URL) and the deployment exists there.",
    )
    partition_groups: Literal["auto"] | PositiveInt = Field(
        default="auto",
        description="Into how many child flow runs a run through the deployment groups its "
        "partitions (each a process a worker starts, seconds of imports): `auto` is one per "
        "live worker of the `campaign` pool besides the one running the run (at least 1); "
        "never more than the partitions. Each group is balanced by the members it holds.",
    )
    run_lock_wait_seconds: float = Field(
        default=60.0,
        ge=0,
        description="How long a run of a campaign waits for another run of the same campaign "
        "to end before it is refused.",
    )
    database_secret_block: str = Field(
        default="campaign-database-url",
        description="The Prefect Secret block holding the database URL with its password, "
        "read by a flow run whose parameter names the database without it (optional).",
    )

    # Input limits (a refused file names the limit). A party's whole roster, 5.6 million
    # members at ~70 bytes a row, fits a CSV; an XLSX holds at most Excel's 1,048,576 rows.
    max_file_bytes: int = Field(
        default=1 << 30, description="Largest CSV or XLSX file an import reads, in bytes."
    )
    max_rows: int = Field(default=6_000_000, description="Most rows an input file may hold.")
    max_cell_chars: int = Field(
        default=1_000, description="Longest cell of an input file, in characters."
    )
    max_xlsx_unzipped_bytes: int = Field(
        default=3 << 30, description="Largest an XLSX's parts may be together once unzipped."
    )
    max_xlsx_strings_bytes: int = Field(
        default=512 << 20,
        description="Largest an XLSX's shared strings may be once unzipped (read whole into "
        "memory; a million-member roster's are about 80 MiB).",
    )
    max_xlsx_ratio: int = Field(
        default=100,
        description="Highest compression ratio of an XLSX part over 1 MiB (a spreadsheet's "
        "sheets compress about 12 times; a zip bomb thousands of times).",
    )
    max_plan_bytes: int = Field(
        default=1 << 20, description="Largest plan or calendar (YAML) file."
    )
    console_runs: Literal["auto", "in-process", "deployment"] = Field(
        default="auto",
        description="How the console starts a run: through the `on-demand` Prefect deployment "
        "(a worker runs it), in the console's own process (a background thread), or `auto`: "
        "the deployment when a Prefect server is configured (PREFECT_API_URL), else in-process.",
    )
    console_https: bool = Field(
        default=False,
        description="Whether the console is reached over HTTPS (behind a proxy that terminates "
        "it): its session cookie is then sent over HTTPS only.",
    )


@lru_cache
def get_settings() -> Settings:
    """The process's settings, read once."""
    return Settings()
