"""The configuration schema: pydantic models of `config/watcher.yaml`.

Every model forbids unknown keys, so a typo is an error that names the key, never a
silently ignored setting. Reading files, includes and environment overrides live in
`watcher.configfile`; this module only says what a valid configuration is.
"""

from __future__ import annotations

import re
from datetime import timedelta
from email.utils import parseaddr
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    field_validator,
    model_validator,
)

from watcher.classify.terms import TermError, parse_term
from watcher.durations import parse_duration
from watcher.items import Direction, Severity

Duration = Annotated[timedelta, BeforeValidator(parse_duration)]
NAME_PATTERN = r"^[a-z0-9][a-z0-9_.-]*$"
SourceName = Annotated[str, Field(pattern=NAME_PATTERN, max_length=64)]
SignalType = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]


def _check_address(value: str) -> str:
    _, address = parseaddr(value)
    local, _, domain = address.rpartition("@")
    if not local or "." not in domain or any(c.isspace() for c in address):
        raise ValueError(f"{value!r} is not an email address")
    return value


EmailAddress = Annotated[str, AfterValidator(_check_address)]


class Model(BaseModel):
    """Base of every config model: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


# --- sources -------------------------------------------------------------------------


class SourceBase(Model):
    """Settings every source has."""

    name: SourceName
    every: Duration = Field(default=timedelta(minutes=15), description="poll interval")
    jitter: Duration = Field(
        default=timedelta(seconds=30), description="random delay added to each poll"
    )
    enabled: bool = True
    timeout: Duration = Field(
        default=timedelta(minutes=2), description="a poll taking longer is cancelled"
    )

    @field_validator("every")
    @classmethod
    def _every_is_sane(cls, value: timedelta) -> timedelta:
        if value < timedelta(seconds=10):
            raise ValueError("must be at least 10s (be polite to the sites you poll)")
        return value


class FeedSource(SourceBase):
    """An RSS, Atom or JSON feed over HTTP(S)."""

    kind: Literal["feed"]
    url: Annotated[str, Field(pattern=r"^https?://\S+$")]


class FilesSource(SourceBase):
    """A local folder: each new or changed document is an item; feed files give one per entry."""

    kind: Literal["files"]
    path: Path
    patterns: list[str] = Field(
        default_factory=lambda: ["*.txt", "*.md", "*.xml", "*.rss", "*.atom"],
        min_length=1,
    )


Source = Annotated[FeedSource | FilesSource, Field(discriminator="kind")]


# --- rules ---------------------------------------------------------------------------


class SignalRule(Model):
    """How one signal type is recognised; concepts are named term lists from `concepts:`."""

    label: str | None = None
    severity: Severity = Severity.MEDIUM
    match: list[list[str]] = Field(
        min_length=1,
        description="alternatives; each lists concepts that must all occur in one sentence",
    )
    within: int | None = Field(
        default=None, ge=1, description="the matched terms must lie within this many words"
    )
    context: list[str] = Field(
        default_factory=list,
        description="at least one of these concepts must occur somewhere in the item",
    )
    exclude: list[str] = Field(
        default_factory=list, description="a sentence with any of these concepts never matches"
    )
    negation: list[str] = Field(default_factory=list)
    negation_window: int = Field(default=6, ge=1)
    negation_exceptions: list[str] = Field(
        default_factory=list,
        description="phrases that contain a negation word but do not negate ('not only')",
    )
    mask: list[str] = Field(
        default_factory=list,
        description="phrases whose words do not count for this rule ('mining quota')",
    )
    hedging: list[str] = Field(
        default_factory=list, description="cues that make a match speculative ('may', 'mulls')"
    )
    hedging_window: int = Field(
        default=8, ge=1, description="a hedging cue counts this many words before a matched term"
    )
    tightening: list[str] = Field(default_factory=list)
    easing: list[str] = Field(default_factory=list)
    not_easing: list[str] = Field(
        default_factory=list,
        description="cues that, just before an easing cue, make it tightening ('not resumed')",
    )
    direction: Direction = Field(
        default=Direction.TIGHTENING, description="direction when no cue decides"
    )

    @field_validator("match")
    @classmethod
    def _no_empty_group(cls, groups: list[list[str]]) -> list[list[str]]:
        for index, group in enumerate(groups):
            if not group:
                raise ValueError(f"alternative {index} lists no concept")
        return groups

    def concepts(self) -> dict[str, list[str]]:
        """Every concept name this rule refers to, by the field that names it."""
        return {
            "match": [c for group in self.match for c in group],
            "context": self.context,
            "exclude": self.exclude,
            "negation": self.negation,
            "negation_exceptions": self.negation_exceptions,
            "mask": self.mask,
            "hedging": self.hedging,
            "tightening": self.tightening,
            "easing": self.easing,
            "not_easing": self.not_easing,
        }


# --- delivery ------------------------------------------------------------------------


class Subscriber(Model):
    """Somebody who receives alerts, with their own filters."""

    email: EmailAddress
    name: str = ""
    signals: list[SignalType] | None = Field(
        default=None, description="signal types to receive; all when absent"
    )
    min_severity: Severity = Severity.LOW
    directions: list[Direction] = Field(
        default_factory=lambda: [Direction.TIGHTENING, Direction.EASING], min_length=1
    )
    include_speculative: bool = False
    elements: list[str] = Field(
        default_factory=list, description="only signals naming one of these elements"
    )
    countries: list[str] = Field(
        default_factory=list, description="only signals naming one of these countries"
    )


class SmtpConfig(Model):
    """The relay; with no host, emails go to the mail-drop folder instead."""

    host: str | None = None
    port: int = Field(default=587, ge=1, le=65535)
    tls: Literal["starttls", "implicit", "none"] = "starttls"
    username: str | None = None
    password: SecretStr | None = Field(default=None, description="from WATCHER_SMTP__PASSWORD")
    password_file: Path | None = None
    timeout: Duration = timedelta(seconds=30)

    def secret(self) -> str | None:
        """The password, read from the environment value or the `password_file`."""
        if self.password is not None:
            return self.password.get_secret_value()
        if self.password_file is not None:
            return self.password_file.read_text(encoding="utf-8").strip()
        return None


class MailConfig(Model):
    """What every email carries, and where the mail drop is."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    sender: EmailAddress = Field(
        default="Supply Watcher <alerts@supply-watcher.invalid>", alias="from"
    )
    domain: str = Field(default="supply-watcher.invalid", description="right side of Message-IDs")
    maildrop: Path | None = Field(default=None, description="default: <data_dir>/maildrop")


class DispatcherConfig(Model):
    """The outbox dispatcher's schedule and retry policy."""

    every: Duration = timedelta(seconds=30)
    batch: int = Field(default=200, ge=1)
    max_attempts: int = Field(default=10, ge=1)
    backoff: Duration = Field(default=timedelta(minutes=1), description="first retry delay")
    backoff_max: Duration = timedelta(hours=6)


class HttpConfig(Model):
    """The shared HTTP client."""

    user_agent: str = "SupplyWatcher/0.1 (+https://github.com/supply-watcher)"
    timeout: Duration = timedelta(seconds=20)
    max_bytes: int = Field(default=10_000_000, ge=1024)


class DatabaseConfig(Model):
    """Where state lives; default is an SQLite file under `data_dir`."""

    url: str | None = Field(default=None, description="SQLAlchemy async URL")


class ServiceConfig(Model):
    """The daemon's own behaviour."""

    shutdown_grace: Duration = Field(
        default=timedelta(seconds=20),
        description="on SIGTERM, how long in-flight polls and sends may finish",
    )


class LogConfig(Model):
    """Log output."""

    level: Literal["debug", "info", "warning", "error"] = "info"
    format: Literal["auto", "json", "console"] = "auto"


# --- the whole file ------------------------------------------------------------------


class WatcherConfig(Model):
    """The whole configuration."""

    include: list[str] = Field(default_factory=list, description="other YAML files merged in")
    data_dir: Path = Path("data")
    database: DatabaseConfig = DatabaseConfig()
    log: LogConfig = LogConfig()
    service: ServiceConfig = ServiceConfig()
    http: HttpConfig = HttpConfig()
    mail: MailConfig = MailConfig()
    smtp: SmtpConfig = SmtpConfig()
    dispatcher: DispatcherConfig = DispatcherConfig()
    sources: list[Source] = Field(default_factory=list)
    subscribers: list[Subscriber] = Field(default_factory=list)
    concepts: dict[str, list[str]] = Field(default_factory=dict)
    signals: dict[SignalType, SignalRule] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _names_resolve(self) -> WatcherConfig:
        seen: set[str] = set()
        for source in self.sources:
            if source.name in seen:
                raise ValueError(f"sources: the name {source.name!r} is used twice")
            seen.add(source.name)
        for name, terms in self.concepts.items():
            if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
                raise ValueError(f"concepts.{name}: a concept name is lower_snake_case")
            if not terms:
                raise ValueError(f"concepts.{name}: the term list is empty")
            for index, term in enumerate(terms):
                try:
                    parse_term(term)
                except TermError as exc:
                    raise ValueError(f"concepts.{name}.{index}: {exc}") from None
        for signal, rule in self.signals.items():
            for key, names in rule.concepts().items():
                for concept in names:
                    if concept not in self.concepts:
                        raise ValueError(
                            f"signals.{signal}.{key}: unknown concept {concept!r}"
                            f" (define it under concepts:)"
                        )
        for index, sub in enumerate(self.subscribers):
            for signal in sub.signals or []:
                if signal not in self.signals:
                    raise ValueError(
                        f"subscribers.{index}.signals: unknown signal type {signal!r}"
                        f" (known: {', '.join(sorted(self.signals))})"
                    )
        return self

    @property
    def database_url(self) -> str:
        """The configured URL, or the SQLite file `<data_dir>/watcher.db`."""
        return self.database.url or f"sqlite+aiosqlite:///{self.data_dir / 'watcher.db'}"

    @property
    def maildrop_dir(self) -> Path:
        """Where emails go when no SMTP host is configured."""
        return self.mail.maildrop or self.data_dir / "maildrop"

    def signal_label(self, signal_type: str) -> str:
        """The human name of a signal type: its rule's label or the type made readable."""
        rule = self.signals.get(signal_type)
        if rule is not None and rule.label:
            return rule.label
        return re.sub(r"_+", " ", signal_type).capitalize()
