"""Signed links: who a link is for and what it may do, tamper-evident and time-limited.

A token carries an address and a purpose (`unsubscribe:alerts`, `feed`), signed by
itsdangerous with the current key and a timestamp. It is accepted while younger than
`public.token_max_age`, signed by the current key, or by the previous key until
`public.previous_valid_until` (the grace period after a rotation). Anything else is a
`TokenError` that says why.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import SecretStr

from watcher.config import PublicConfig
from watcher.domain.errors import ConfigError, TokenError

if TYPE_CHECKING:
    from itsdangerous import URLSafeTimedSerializer

SKEW = timedelta(minutes=5)  # clock difference tolerated between signer and checker
UNSUBSCRIBE = "unsubscribe"
FEED = "feed"


@dataclass(frozen=True, slots=True)
class Claim:
    """What a valid token says: whose it is and what for (`list` for unsubscribe links)."""

    address: str
    purpose: str
    list: str
    signed_at: datetime


@dataclass(frozen=True, slots=True)
class Tokens:
    """Signs and checks tokens with the configured keys (picklable: sent to workers)."""

    key: str
    previous: str | None
    previous_until: datetime | None
    max_age: timedelta

    @classmethod
    def of(cls, config: PublicConfig) -> Tokens | None:
        """The signer for `config`, or None when no key is set (no signed links then)."""
        return _tokens(
            config.secret,
            config.secret_file,
            config.previous_secret,
            config.previous_secret_file,
            config.previous_valid_until,
            config.token_max_age,
            (_changed(config.secret_file), _changed(config.previous_secret_file)),
        )

    def sign(self, address: str, purpose: str, now: datetime, list_name: str = "") -> str:
        """A URL-safe token for `address` and `purpose`, stamped `now`."""
        return _serializer([self.key], purpose, now).dumps([address.lower(), list_name])

    def check(self, token: str, purpose: str, now: datetime) -> Claim:
        """The claim of a valid `token` for `purpose`; `TokenError` saying why it is not."""
        from itsdangerous import BadSignature, BadTimeSignature, SignatureExpired

        keys = [self.key]
        if self.previous and self.previous_until and now < self.previous_until:
            keys.insert(0, self.previous)  # itsdangerous signs with the last, accepts any
        # checked SKEW ahead with SKEW more age allowed: the same expiry, but a link signed
        # by a replica whose clock runs a little ahead is not "from the future"
        serializer = _serializer(keys, purpose, now + SKEW)
        try:
            payload, signed = serializer.loads(
                token, max_age=int((self.max_age + SKEW).total_seconds()), return_timestamp=True
            )
        except SignatureExpired:
            raise TokenError(
                f"this link has expired (links are valid for {self.max_age.days} days)"
            ) from None
        except (BadTimeSignature, BadSignature):
            raise TokenError("this link is not valid: its signature does not match") from None
        if (
            not isinstance(payload, list)
            or len(payload) != 2
            or not all(isinstance(p, str) for p in payload)
        ):
            raise TokenError("this link is not valid: its content is malformed")
        return Claim(payload[0], purpose, payload[1], signed)


@functools.lru_cache(maxsize=8)
def _tokens(
    secret: SecretStr | None,
    secret_file: Path | None,
    previous: SecretStr | None,
    previous_file: Path | None,
    until: datetime | None,
    max_age: timedelta,
    versions: tuple[int | None, int | None],
) -> Tokens | None:
    """The keys read once per distinct setting and key file version (`versions`)."""
    config = PublicConfig(
        secret=secret,
        secret_file=secret_file,
        previous_secret=previous,
        previous_secret_file=previous_file,
        previous_valid_until=until,
    )
    try:
        key, old = config.secrets()
    except OSError as exc:
        raise ConfigError([f"public: cannot read a signing key file: {exc}"]) from None
    if not key:
        return None
    return Tokens(key, old or None, until, max_age)


def _changed(path: Path | None) -> int | None:
    """A key file's modification time: a new key in the file is read at the next link."""
    try:
        return None if path is None else path.stat().st_mtime_ns
    except OSError:
        return None


def _serializer(keys: list[str], purpose: str, now: datetime) -> URLSafeTimedSerializer:
    """A timed serializer whose clock is `now` (so tests and replays sign deterministically)."""
    from itsdangerous import TimestampSigner, URLSafeTimedSerializer

    stamp = int(now.astimezone(UTC).timestamp())

    class _At(TimestampSigner):
        def get_timestamp(self) -> int:
            return stamp

    return URLSafeTimedSerializer(keys, salt=f"supply-watcher:{purpose}", signer=_At)
