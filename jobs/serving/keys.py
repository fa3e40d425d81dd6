"""API keys of the ingestion API and the portal: random, shown once, stored only as hashes in a SQLite file.

A key is `mik_<id>_<secret>`: the id (public, what `list` and `revoke` name) finds the row, and the SHA-256 of the
whole key is compared in constant time with the stored one. A fast hash is enough because the secret is 256 random
bits, not a password: no dictionary to try, and a slow hash would cost every request. Each key belongs to one merchant
and has one scope: `ingest` (POST /v1/events) or `read` (the portal).

    lakehouse keys create --merchant m-00042 --scope ingest
    lakehouse keys list
    lakehouse keys revoke 3f2a9c01d4e5
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import sqlite3
import sys
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from jobs.runtime.arguments import JobArgumentParser
from jobs.runtime.settings import UsageError, serving_settings_from

SCOPES = ("ingest", "read")
KEY_PATTERN = re.compile(r"mik_([0-9a-f]{12})_[A-Za-z0-9_-]{43}")
# The event contract's merchant_id (schemas/events/v1.json): 1-64 characters, no control character, no backslash.
MERCHANT_PATTERN = re.compile(r"[^\x00-\x1f\x7f\\]{1,64}")

SCHEMA = """
CREATE TABLE IF NOT EXISTS api_keys (
    key_id      TEXT PRIMARY KEY,
    key_hash    BLOB NOT NULL,
    merchant_id TEXT NOT NULL,
    scope       TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    revoked_at  TEXT
)
"""


@dataclass(frozen=True)
class KeyInfo:
    key_id: str
    merchant_id: str
    scope: str
    created_at: str
    revoked_at: str | None


def _hash(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()


class KeyStore:
    """The keys in one SQLite file. Each call opens its own connection, so a key revoked by `lakehouse keys revoke`
    is refused by a running server from its next request on."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connection() as connection:
            connection.execute(SCHEMA)

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        with closing(sqlite3.connect(self.path, timeout=5)) as connection, connection:
            yield connection

    def create(self, merchant_id: str, scope: str) -> tuple[str, str]:
        """A new key for the merchant: (its id, the key). The key itself is not kept."""
        if scope not in SCOPES:
            raise UsageError(f"scope must be one of {', '.join(SCOPES)}, got {scope!r}")
        if not MERCHANT_PATTERN.fullmatch(merchant_id):
            raise UsageError("merchant id must be 1-64 characters without control characters or backslashes")
        key_id = secrets.token_hex(6)
        key = f"mik_{key_id}_{secrets.token_urlsafe(32)}"
        with self._connection() as connection:
            connection.execute(
                "INSERT INTO api_keys (key_id, key_hash, merchant_id, scope, created_at) VALUES (?, ?, ?, ?, ?)",
                (key_id, _hash(key), merchant_id, scope, datetime.now(UTC).isoformat(timespec="seconds")),
            )
        return key_id, key

    def revoke(self, key_id: str) -> bool:
        """Revoke the key; False if there is no such key or it was revoked already."""
        with self._connection() as connection:
            changed = connection.execute(
                "UPDATE api_keys SET revoked_at = ? WHERE key_id = ? AND revoked_at IS NULL",
                (datetime.now(UTC).isoformat(timespec="seconds"), key_id),
            ).rowcount
        return changed == 1

    def all_keys(self) -> list[KeyInfo]:
        with self._connection() as connection:
            rows = connection.execute(
                "SELECT key_id, merchant_id, scope, created_at, revoked_at FROM api_keys ORDER BY created_at, key_id"
            ).fetchall()
        return [KeyInfo(*row) for row in rows]

    def merchant_of(self, key: str, scope: str) -> str | None:
        """The merchant whose live key of this scope `key` is, else None (unknown, malformed, revoked or of the
        other scope: the caller cannot tell which)."""
        found = KEY_PATTERN.fullmatch(key)
        if not found:
            return None
        with self._connection() as connection:
            row = connection.execute(
                "SELECT key_hash, merchant_id, scope, revoked_at FROM api_keys WHERE key_id = ?", (found.group(1),)
            ).fetchone()
        if row is None:
            return None
        stored_hash, merchant_id, key_scope, revoked_at = row
        if not hmac.compare_digest(stored_hash, _hash(key)) or key_scope != scope or revoked_at is not None:
            return None
        return merchant_id


def main(argv: list[str] | None = None) -> int:
    parser = JobArgumentParser(prog="lakehouse keys", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--keys", help="the key store, a SQLite file (default LAKEHOUSE_KEYS, else ./keys.sqlite)")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=JobArgumentParser)
    create = commands.add_parser("create", help="create a key and print it once")
    create.add_argument("--merchant", required=True, help="the merchant the key belongs to")
    create.add_argument("--scope", required=True, choices=SCOPES)
    commands.add_parser("list", help="ids, merchants, scopes and dates of every key (never the keys)")
    revoke = commands.add_parser("revoke", help="revoke a key by its id")
    revoke.add_argument("key_id")
    args = parser.parse_args(argv)
    try:
        store = KeyStore(serving_settings_from(args).keys)
        if args.command == "create":
            key_id, key = store.create(args.merchant, args.scope)
            print(f"key id {key_id} for merchant {args.merchant!r}, scope {args.scope}; the key (shown only now):")
            print(key)
        elif args.command == "list":
            print(f"{'id':<14}{'scope':<8}{'created':<27}{'revoked':<27}merchant")
            for info in store.all_keys():
                print(
                    f"{info.key_id:<14}{info.scope:<8}{info.created_at:<27}{info.revoked_at or '-':<27}"
                    f"{info.merchant_id}"
                )
        elif not store.revoke(args.key_id):
            raise UsageError(f"no live key with id {args.key_id!r}")
        else:
            print(f"revoked {args.key_id}")
    except UsageError as error:
        print(f"lakehouse keys: error: {error}", file=sys.stderr)
        return 2
    except (OSError, sqlite3.Error) as error:
        print(f"lakehouse keys: failed: {error}", file=sys.stderr)
        return 1
    return 0
