"""Channel endpoints (webhook and Apprise URLs): secrets from the environment, masked in text.

An endpoint in the config may name environment variables, `${NAME}`, for the secret
parts of a URL (`tgram://${TELEGRAM_TOKEN}/12345`); they are expanded only when a
message is sent, so the config, the outbox row's key and every log line hold the
name, never the secret. Whatever secret is written in the URL itself (a password, a
query value, a long token in the path) is masked by `mask` wherever an endpoint is shown.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from urllib.parse import parse_qsl, urlsplit

from watcher.config import WatcherConfig

_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_TOKENISH = re.compile(r"[A-Za-z0-9_\-]{16,}")  # a path segment long enough to be a key
_HOSTNAME = re.compile(r"(localhost|[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+|\[[0-9a-fA-F:]+\])(:\d+)?")
MASK = "***"


class MissingVariable(LookupError):
    """An endpoint names an environment variable that is not set."""


def variables(endpoint: str) -> list[str]:
    """The environment variables `endpoint` names."""
    return _VARIABLE.findall(endpoint)


def expand(endpoint: str, environ: Mapping[str, str] | None = None) -> str:
    """`endpoint` with each `${NAME}` replaced by its value; `MissingVariable` if unset."""
    env = os.environ if environ is None else environ

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in env:
            raise MissingVariable(f"the environment variable {name} is not set")
        return env[name]

    return _VARIABLE.sub(value, endpoint)


def mask(endpoint: str, *, host_may_be_secret: bool = False) -> str:
    """`endpoint` safe to print: password, query values and key-like path parts hidden.

    With `host_may_be_secret` (Apprise URLs, whose "host" is often a token:
    `tgram://<bot token>/<chat>`), a host that is no domain name or address is hidden too.
    `${NAME}` references are kept (they are names, not secrets).
    """
    try:
        parts = urlsplit(endpoint)
    except ValueError:
        return MASK
    netloc = parts.netloc
    userinfo, at, host = netloc.rpartition("@")
    if host_may_be_secret and not _VARIABLE.fullmatch(host) and not _HOSTNAME.fullmatch(host):
        host = MASK
    if at:
        user = userinfo.split(":", 1)[0]
        netloc = f"{_mask_piece(user)}:{MASK}@{host}" if ":" in userinfo else f"{MASK}@{host}"
    else:
        netloc = host
    path = "/".join(_mask_piece(segment) for segment in parts.path.split("/"))
    query = "&".join(
        f"{name}={_keep_variables(value)}"
        for name, value in parse_qsl(parts.query, keep_blank_values=True)
    )
    shown = f"{parts.scheme}://{netloc}{path}" if parts.scheme else f"{netloc}{path}"
    return f"{shown}?{query}" if query else shown


def scrub(text: str, secrets: list[str]) -> str:
    """`text` (an error message) with every non-trivial piece of `secrets` masked."""
    for secret in sorted(set(secrets), key=len, reverse=True):
        if len(secret) >= 4:
            text = text.replace(secret, MASK)
    return text


def secret_parts(url: str) -> list[str]:
    """The pieces of an expanded URL that may be secret (for `scrub`): itself and its parts."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return [url]
    userinfo, _, host = parts.netloc.rpartition("@")
    pieces = [url, userinfo, *userinfo.split(":")]
    if not _HOSTNAME.fullmatch(host):
        pieces.append(host)  # a token in the host's place (Apprise)
    pieces += [v for _, v in parse_qsl(parts.query)]
    pieces += [s for s in parts.path.split("/") if _TOKENISH.fullmatch(s)]
    return [p for p in pieces if p]


def check_endpoints(
    config: WatcherConfig,
    channel: str,
    check_one: Callable[[str], str | None],
    shown: Callable[[str], str] = mask,
) -> list[str]:
    """Problems with every subscriber's `channel` endpoints, each named by key path (masked).

    `check_one(url)` gets the expanded URL and returns a problem or None; it must not send.
    """
    problems = []
    for index, subscriber in enumerate(config.subscribers):
        for position, url in enumerate(subscriber.channels.get(channel, [])):
            where = f"subscribers.{index}.channels.{channel}.{position} ({shown(url)})"
            missing = [name for name in variables(url) if name not in os.environ]
            if missing:
                problems.append(f"{where}: environment variable {', '.join(missing)} is not set")
                continue
            problem = check_one(expand(url))
            if problem:
                problems.append(f"{where}: {scrub(problem, secret_parts(expand(url)))}")
    return problems


def _mask_piece(segment: str) -> str:
    if _VARIABLE.fullmatch(segment):
        return segment
    return MASK if _TOKENISH.search(segment) else segment


def _keep_variables(value: str) -> str:
    return value if _VARIABLE.fullmatch(value) else MASK
