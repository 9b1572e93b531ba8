"""Days as people write them: 15/03/2023 (as Vietnamese documents do) or 2023-03-15 (ISO).

One parser for every input that names a day: the facts file's date cells and the CLI's
`--as-of`, `--on`, `--since` and `--until`."""

import datetime as dt

DAY_FORMATS = "YYYY-MM-DD or DD/MM/YYYY"


def parse_day(text: str) -> dt.date:
    """The day `text` names, written DD/MM/YYYY or YYYY-MM-DD; ValueError if it names none."""
    try:
        if "/" in text:
            day, month, year = text.split("/")
            return dt.date(int(year), int(month), int(day))
        return dt.date.fromisoformat(text)
    except (ValueError, OverflowError) as exc:  # a year past 9999 may overflow
        raise ValueError(f"'{text}' is not a date ({DAY_FORMATS})") from exc


def optional_day(value: object) -> object:
    """An optional date cell as a pydantic "before" validator reads it: empty text is None, other
    text a day (ValueError naming the formats), anything else left to pydantic."""
    if not isinstance(value, str):
        return value
    if not value.strip():
        return None
    try:
        return parse_day(value.strip())
    except ValueError:
        raise ValueError(f"is not a date ({DAY_FORMATS})") from None
