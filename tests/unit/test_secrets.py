"""Passwords come from the environment, never show in a repr, and are cut out of every error a command prints."""

from __future__ import annotations

import argparse

import pytest

from jobs.runtime.exits import EXIT_FAILED, EXIT_USAGE, run_entry
from jobs.runtime.settings import Login, Secret, UsageError, settings_from

NO_FLAGS = argparse.Namespace()


def test_a_login_comes_from_the_environment_or_a_password_file(tmp_path):
    password_file = tmp_path / "pipeline.password"
    password_file.write_text("s3cret-from-file\n")
    env = {
        "LAKEHOUSE_INFLUXDB_USER": "pipeline",
        "LAKEHOUSE_INFLUXDB_PASSWORD_FILE": str(password_file),
        "LAKEHOUSE_TRINO_USER": "analyst",
        "LAKEHOUSE_TRINO_PASSWORD": "s3cret-from-env",
    }
    settings = settings_from(NO_FLAGS, env)
    assert settings.influxdb_login == Login("pipeline", Secret("s3cret-from-file"))
    assert settings.trino_login.password.reveal() == "s3cret-from-env"
    assert not settings.opensearch_login
    shown = repr(settings) + str(settings.trino_login.password) + f"{settings.influxdb_login}"
    assert "s3cret" not in shown and "***" in shown


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"LAKEHOUSE_TRINO_PASSWORD": "x"}, "LAKEHOUSE_TRINO_PASSWORD is set but LAKEHOUSE_TRINO_USER is not"),
        (
            {"LAKEHOUSE_TRINO_USER": "a", "LAKEHOUSE_TRINO_PASSWORD": "x", "LAKEHOUSE_TRINO_PASSWORD_FILE": "/f"},
            "set LAKEHOUSE_TRINO_PASSWORD or LAKEHOUSE_TRINO_PASSWORD_FILE, not both",
        ),
        (
            {"LAKEHOUSE_INFLUXDB_USER": "a", "LAKEHOUSE_INFLUXDB_PASSWORD_FILE": "/no/such/file"},
            "LAKEHOUSE_INFLUXDB_PASSWORD_FILE: cannot read /no/such/file: No such file or directory",
        ),
    ],
)
def test_a_bad_login_setting_is_a_usage_error(env, message):
    with pytest.raises(UsageError) as error:
        settings_from(NO_FLAGS, env)
    assert str(error.value) == message


def test_a_failing_command_never_prints_a_password(capsys, monkeypatch):
    settings = settings_from(NO_FLAGS, {"LAKEHOUSE_INFLUXDB_USER": "p", "LAKEHOUSE_INFLUXDB_PASSWORD": "hunter2-pw"})
    password = settings.influxdb_login.password.reveal()

    def fails() -> None:
        raise RuntimeError(f"401 from http://p:{password}@127.0.0.1:18086/write?p={password}")

    def bad_usage() -> None:
        raise UsageError(f"bad password {password!r}")

    monkeypatch.setenv("LAKEHOUSE_DEBUG", "1")  # the traceback too
    assert run_entry("lakehouse publish", fails) == EXIT_FAILED
    assert run_entry("lakehouse publish", bad_usage) == EXIT_USAGE
    printed = capsys.readouterr()
    assert password not in printed.out + printed.err
    assert "http://p:***@127.0.0.1:18086/write?p=***" in printed.err
    assert "Traceback" in printed.err
