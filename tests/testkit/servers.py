"""Settings that log in to the session's servers as one of their users."""

from __future__ import annotations

from dataclasses import replace

from jobs.runtime.settings import Settings
from jobs.services.trino import ANALYST, TrinoService


def trino_settings(settings: Settings, trino: TrinoService, user: str = ANALYST) -> Settings:
    """`settings` pointed at `trino`, its certificate trusted, logged in as `user`."""
    return replace(
        settings, trino_url=trino.client_url, trino_ca_file=str(trino.ca_file), trino_login=trino.login(user)
    )
