"""Cron expressions of the campaign file (``schedule.digest_cron``)."""

from croniter import croniter


def validate_cron(expr: str) -> str:
    """Accept a standard 5-field cron expression; raise ValueError in plain words."""
    fields = expr.split()
    if len(fields) != 5:
        raise ValueError(
            f"'{expr}' is not a cron expression: it needs 5 fields "
            "(minute hour day-of-month month day-of-week), e.g. \"0 18 * * *\""
        )
    if not croniter.is_valid(expr):
        raise ValueError(f"'{expr}' is not a valid cron expression, e.g. \"0 18 * * *\" is 18:00 daily")
    return expr
