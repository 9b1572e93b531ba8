"""Dates as the campaign sees them: 'today' in the committee's timezone."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

from models.settings import get_settings


def today() -> date:
    """Today's date in the configured timezone (Asia/Ho_Chi_Minh by default)."""
    return datetime.now(ZoneInfo(get_settings().timezone)).date()
