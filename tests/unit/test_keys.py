"""API keys: shown once, stored only as hashes, one merchant and one scope each, revocable."""

from __future__ import annotations

import sqlite3

import pytest

from jobs.runtime.settings import UsageError
from jobs.serving import keys as keys_command
from jobs.serving.keys import KeyStore


def test_a_key_names_its_merchant_for_its_scope_only_and_is_stored_only_as_a_hash(tmp_path):
    store = KeyStore(tmp_path / "keys.sqlite")
    key_id, key = store.create("m-1", "ingest")
    assert store.merchant_of(key, "ingest") == "m-1"
    assert store.merchant_of(key, "read") is None
    assert key not in (tmp_path / "keys.sqlite").read_bytes().decode("latin-1")
    stored = sqlite3.connect(tmp_path / "keys.sqlite").execute("SELECT key_hash FROM api_keys").fetchall()
    assert len(stored) == 1 and len(stored[0][0]) == 32
    assert [(info.key_id, info.merchant_id, info.scope) for info in store.all_keys()] == [(key_id, "m-1", "ingest")]


def test_unknown_altered_and_malformed_keys_name_no_merchant(tmp_path):
    store = KeyStore(tmp_path / "keys.sqlite")
    _, key = store.create("m-1", "ingest")
    altered = key[:-1] + ("A" if key[-1] != "A" else "B")
    for presented in [altered, "", "mik_", key + "x", key.upper(), "' OR 1=1 --", "x" * 10_000]:
        assert store.merchant_of(presented, "ingest") is None


def test_a_revoked_key_is_refused_from_then_on_by_every_reader_of_the_store(tmp_path):
    store = KeyStore(tmp_path / "keys.sqlite")
    key_id, key = store.create("m-1", "read")
    assert store.revoke(key_id)
    assert KeyStore(tmp_path / "keys.sqlite").merchant_of(key, "read") is None
    assert not store.revoke(key_id)


@pytest.mark.parametrize(("merchant", "scope"), [("m-1", "admin"), ("", "read"), ("a\\b", "read"), ("x" * 65, "read")])
def test_keys_are_made_only_for_a_known_scope_and_a_merchant_id_the_contract_allows(tmp_path, merchant, scope):
    with pytest.raises(UsageError):
        KeyStore(tmp_path / "keys.sqlite").create(merchant, scope)


def test_the_command_prints_a_key_once_lists_without_keys_and_exits_2_on_a_bad_revoke(tmp_path, capsys):
    store = ["--keys", str(tmp_path / "keys.sqlite")]
    assert keys_command.main([*store, "create", "--merchant", "m-7", "--scope", "ingest"]) == 0
    key = capsys.readouterr().out.splitlines()[-1]
    assert KeyStore(tmp_path / "keys.sqlite").merchant_of(key, "ingest") == "m-7"
    assert keys_command.main([*store, "list"]) == 0
    listed = capsys.readouterr().out
    assert "m-7" in listed and key not in listed and key.split("_")[1] in listed
    assert keys_command.main([*store, "revoke", "000000000000"]) == 2
    assert "no live key" in capsys.readouterr().err
