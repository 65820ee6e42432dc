"""The configuration schema: pydantic models of `config/watcher.yaml`.

Every model forbids unknown keys, so a typo is an error that names the key, never a
silently ignored setting. Reading files, includes and environment overrides live in
`watcher.config.load`; this module only says what a valid configuration is.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from datetime import datetime, timedelta
from email.utils import parseaddr
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cronsim import CronSim, CronSimError
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from watcher.config.references import reference_problems
from watcher.domain.cron import check_timezone, parse_schedule
from watcher.domain.durations import parse_duration
from watcher.domain.entity_names import canonical_country, canonical_element
from watcher.domain.items import Direction, Severity

# Validation context key: the caller has run `reference_problems` on the data already.
REFERENCES_CHECKED = "references_checked"
Duration = Annotated[timedelta, BeforeValidator(parse_duration)]
NAME_PATTERN = r"^[a-z0-9][a-z0-9_.-]*$"
SourceName = Annotated[str, Field(pattern=NAME_PATTERN, max_length=64)]
SignalType = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]
ChannelName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=32)]
# A filter value read with the classifier's vocabulary: `neodymium`, `nd` and `钕` are `Nd`.
ElementName = Annotated[str, AfterValidator(canonical_element)]
CountryName = Annotated[str, AfterValidator(canonical_country)]


def _check_schedule(value: str) -> str:
    parse_schedule(value)
    return value


def _check_address(value: str) -> str:
    _, address = parseaddr(value)
    local, _, domain = address.rpartition("@")
    if not local or "." not in domain or any(c.isspace() for c in address):
        raise ValueError(f"{value!r} is not an email address")
    return value


EmailAddress = Annotated[str, AfterValidator(_check_address)]


def _network(text: str) -> bool:
    """Whether `text` is an IP address or network."""
    try:
        ipaddress.ip_network(text, strict=False)
    except ValueError:
        return False
    return True


def _no_items() -> list[Any]:
    """An empty list: the default of a list field.

    Not `list` itself: building a model's validator reads each default factory's
    signature, and a builtin's is parsed from its text signature (about 0.1 ms each,
    for the 37 list and dict fields here).
    """
    return []


def _no_entries() -> dict[Any, Any]:
    """An empty dict: the default of a mapping field (not `dict`, as `_no_items`)."""
    return {}


class Model(BaseModel):
    """Base of every config model: unknown keys are errors, values are immutable.

    Validators are built when a model first validates, not when the class is made
    (`defer_build`): `WatcherConfig`'s one validator covers every section, so a process
    that reads its config builds no validator for a section on its own, and importing
    this module builds none (about a fifth of a `run --once` process's start-up in
    pydantic before).
    """

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


# --- sources -------------------------------------------------------------------------


class SourceBase(Model):
    """Settings every source has: when it is polled and how its items are treated."""

    name: SourceName
    every: Duration = Field(default=timedelta(minutes=15), description="poll interval")
    cron: str | None = Field(
        default=None, description='cron schedule instead of `every`, e.g. "0 8 * * 1-5"'
    )
    timezone: str = Field(
        default="UTC",
        description="the zone `cron` is read in, and dates the source states without one"
        " (IANA name)",
    )
    jitter: Duration = Field(
        default=timedelta(seconds=30), description="random delay added to each poll"
    )
    enabled: bool = True
    timeout: Duration = Field(
        default=timedelta(minutes=2), description="a poll taking longer is cancelled"
    )
    backfill: Duration = Field(
        default=timedelta(hours=48),
        description="on a source's first poll, only items published this recently alert",
    )
    expect_new_within: Duration | None = Field(
        default=None, description="one admin notice when no new item arrives for this long"
    )
    identity: Literal["auto", "guid", "link", "hash"] = Field(
        default="auto", description="what makes two entries the same item"
    )

    @field_validator("every")
    @classmethod
    def _every_is_sane(cls, value: timedelta) -> timedelta:
        if value < timedelta(seconds=10):
            raise ValueError("must be at least 10s (be polite to the sites you poll)")
        return value

    @field_validator("timezone")
    @classmethod
    def _zone_exists(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}; use an IANA name") from None
        return value

    @field_validator("cron")
    @classmethod
    def _cron_parses(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                CronSim(value, datetime(2000, 1, 1))
            except CronSimError as exc:
                raise ValueError(f"{value!r} is not a cron expression: {exc}") from None
        return value

    @model_validator(mode="after")
    def _one_schedule(self) -> SourceBase:
        if self.cron is not None and "every" in self.model_fields_set:
            raise ValueError("give either `every` or `cron`, not both")
        return self


class HttpSourceBase(SourceBase):
    """A source fetched over HTTP(S)."""

    url: Annotated[str, Field(pattern=r"^https?://\S+$")]
    full_text: bool = Field(
        default=False, description="fetch each new item's link and extract the article text"
    )


class FeedSource(HttpSourceBase):
    """An RSS 0.9x/1.0/2.0, Atom or JSON Feed over HTTP(S)."""

    kind: Literal["feed"]


class PageSelectors(Model):
    """CSS selectors for an HTML listing page; all but `item` are relative to an item."""

    item: str = Field(min_length=1, description="one match per listed item")
    title: str = Field(default="a", description="the element whose text is the title")
    link: str | None = Field(
        default=None, description="the element whose href is the link (default: `title`)"
    )
    date: str | None = Field(default=None, description="text or datetime attribute")
    summary: str | None = None
    date_format: str | None = Field(
        default=None, description="strptime format when the date is in an unusual form"
    )


class PageSource(HttpSourceBase):
    """An HTML listing page without a feed, read with CSS selectors."""

    kind: Literal["page"]
    select: PageSelectors


class FilesSource(SourceBase):
    """A local folder: each new or changed document is an item; feed files give one per entry."""

    kind: Literal["files"]
    path: Path
    patterns: list[str] = Field(
        default_factory=lambda: ["*.txt", "*.md", "*.xml", "*.rss", "*.atom"],
        min_length=1,
    )


Source = Annotated[FeedSource | PageSource | FilesSource, Field(discriminator="kind")]


# --- rules ---------------------------------------------------------------------------


class Concept(Model):
    """A concept written as a mapping: its terms, and the English gloss alerts show
    beside a matched term in another script ("暫停實施 (suspend)")."""

    terms: list[str] = Field(min_length=1, description="the concept's terms (term syntax)")
    gloss: str | None = Field(
        default=None, description="English gloss of the concept, shown beside Chinese terms"
    )
    glosses: dict[str, str] = Field(
        default_factory=_no_entries,
        description="a gloss for one term (written as in `terms`) instead of the concept's",
    )

    @model_validator(mode="after")
    def _glossed_terms_exist(self) -> Concept:
        for term in self.glosses:
            if term not in self.terms:
                raise ValueError(f"glosses: {term!r} is not one of the concept's terms")
        return self


ConceptSpec = list[str] | Concept
"""A concept: a plain list of terms, or a `Concept` mapping with glosses."""


def concept_terms(spec: ConceptSpec) -> list[str]:
    """The terms of a concept, however it is written."""
    return spec.terms if isinstance(spec, Concept) else spec


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
    scope: Literal["sentence", "clause"] = Field(
        default="sentence",
        description="clause: the matched terms must also lie in one clause (commas,"
        " semicolons, dashes, brackets and 'but'/'while' end a clause)",
    )
    anywhere: list[str] = Field(
        default_factory=_no_items,
        description="match concepts that may stand anywhere in the sentence (the authority"
        " that said it), outside `within` and `scope`",
    )
    context: list[str] = Field(
        default_factory=_no_items,
        description="at least one of these concepts must occur somewhere in the item",
    )
    context_mask: list[str] = Field(
        default_factory=_no_items,
        description="phrases inside which a `context` term does not count: a place or firm"
        " named after a mineral ('无锡' is Wuxi, no tin)",
    )
    exclude: list[str] = Field(
        default_factory=_no_items, description="a sentence with any of these concepts never matches"
    )
    other_goods: list[str] = Field(
        default_factory=_no_items,
        description="goods outside the watch: a sentence naming one and no `context`"
        " concept never matches; beside a watched mineral the measure is on it too ('bans"
        " exports of raw manganese, bauxite and iron ore')",
    )
    background: list[str] = Field(
        default_factory=_no_items,
        description="cues that frame a sentence as background (history, an earlier event):"
        " its match only counts beside a sentence that reports news",
    )
    frame: list[str] = Field(
        default_factory=_no_items,
        description="cues that, up to `frame_window` words before a matched term in its"
        " clause, make the match the setting of other news ('as Beijing tightens its export"
        " controls', 'amid', 'since'): background, like a `background` cue",
    )
    frame_window: int = Field(
        default=4, ge=1, description="how many words a `frame` cue may stand before a term"
    )
    effects: list[str] = Field(
        default_factory=_no_items,
        description="cues that report what a measure does now ('exports fell', 'cargoes"
        " stuck', 'lifted'): one outside a `frame` or `frame_after` phrase makes the framed"
        " match news; empty: every direction cue does",
    )
    frame_after: list[str] = Field(
        default_factory=_no_items,
        description="cues that, up to `frame_after_window` words after a matched term (an"
        " apposition or relative clause: 'the controls, announced in October, have"
        " intensified the scramble'), date the measure to before the item: background,"
        " unless a direction cue after them reports its effect ('… have cut exports')",
    )
    frame_after_window: int = Field(
        default=3, ge=1, description="how many words a `frame_after` cue may stand after a term"
    )
    negation: list[str] = Field(default_factory=_no_items)
    negation_window: int = Field(default=6, ge=1)
    denial: list[str] = Field(
        default_factory=_no_items,
        description="cues that cancel a match standing after them anywhere in their clause"
        " ('denied reports in two papers that the government plans export cuts')",
    )
    negation_exceptions: list[str] = Field(
        default_factory=_no_items,
        description="phrases that contain a negation word but do not negate ('not only')",
    )
    mask: list[str] = Field(
        default_factory=_no_items,
        description="phrases whose words do not count for this rule ('mining quota')",
    )
    hedging: list[str] = Field(
        default_factory=_no_items, description="cues that make a match speculative ('may', 'mulls')"
    )
    doubt: list[str] = Field(
        default_factory=_no_items,
        description="cues anywhere in the sentence that put its report in doubt ('…, but"
        " Beijing has not confirmed it', 'could not be verified'): the match is speculative",
    )
    hedging_window: int = Field(
        default=8, ge=1, description="a hedging cue counts this many words before a matched term"
    )
    hedging_after: int = Field(
        default=0,
        ge=0,
        description="a hedging cue also counts up to this many words after a matched term,"
        " in its clause ('controls could be widened': 1); 0 = never",
    )
    tightening: list[str] = Field(default_factory=_no_items)
    easing: list[str] = Field(default_factory=_no_items)
    easing_events: list[str] = Field(
        default_factory=_no_items,
        description="easing cues that report an event (resumed, lifted, eased): near the"
        " match they outrank any tightening cue; other cues compete by nearness",
    )
    not_easing: list[str] = Field(
        default_factory=_no_items,
        description="cues that, just before an easing cue, make it tightening ('not resumed')",
    )
    lead_easing: list[str] = Field(
        default_factory=_no_items,
        description="cues that, in the headline or lead sentence and not negated there, make"
        " the item's signal easing even where the rule fires only later ('suspends"
        " Article 2 of Announcement No. 46')",
    )
    not_easing_window: int = Field(
        default=3,
        ge=1,
        description="how many words a `not_easing` cue may stand before the easing cue, in"
        " its clause ('no notice on when they can reopen')",
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
            "anywhere": self.anywhere,
            "context": self.context,
            "context_mask": self.context_mask,
            "exclude": self.exclude,
            "other_goods": self.other_goods,
            "background": self.background,
            "frame": self.frame,
            "frame_after": self.frame_after,
            "effects": self.effects,
            "negation": self.negation,
            "denial": self.denial,
            "negation_exceptions": self.negation_exceptions,
            "mask": self.mask,
            "hedging": self.hedging,
            "doubt": self.doubt,
            "tightening": self.tightening,
            "easing": self.easing,
            "easing_events": self.easing_events,
            "not_easing": self.not_easing,
            "lead_easing": self.lead_easing,
        }


# --- delivery ------------------------------------------------------------------------


class SignalFilter(Model):
    """Which signals are wanted: every filter must pass (`watcher.notify.route.wants`)."""

    signals: list[SignalType] | None = Field(
        default=None, description="signal types to receive; all when absent"
    )
    min_severity: Severity = Severity.LOW
    directions: list[Direction] = Field(
        default_factory=lambda: [Direction.TIGHTENING, Direction.EASING], min_length=1
    )
    include_speculative: bool = False
    elements: list[ElementName] = Field(
        default_factory=_no_items,
        description="only signals naming one of these elements: names, symbols or Chinese"
        " names (neodymium = Nd = 钕); read as the classifier's canonical names",
    )
    countries: list[CountryName] = Field(
        default_factory=_no_items,
        description="only signals naming one of these countries: names, adjectives,"
        " abbreviations or Chinese names (China = PRC = 中国)",
    )


class Subscriber(SignalFilter):
    """Somebody who receives alerts, with their own filters, immediately or as a digest."""

    email: EmailAddress
    name: str = ""
    mode: Literal["immediate", "digest"] = Field(
        default="immediate", description="one email per item, or one digest per schedule"
    )
    schedule: Annotated[str, AfterValidator(_check_schedule)] = Field(
        default="daily 08:00",
        description="digest times: 'daily 08:00', 'weekly mon 08:00' or a cron expression",
    )
    timezone: Annotated[str, AfterValidator(check_timezone)] = Field(
        default="UTC", description="IANA zone for the schedule and for times in emails"
    )
    send_empty_digest: bool = Field(
        default=False, description="send a digest saying 'nothing new' rather than none"
    )
    channels: dict[ChannelName, list[Annotated[str, Field(min_length=1)]]] = Field(
        default_factory=_no_entries,
        description="other channels this subscriber is reached on: channel name → endpoints"
        " (email reaches every subscriber at its address)",
    )

    @property
    def address(self) -> str:
        """The bare address (`a@b.c`), the key of this subscriber's outbox rows."""
        return _bare_address(self.email)


@functools.lru_cache(maxsize=4096)
def _bare_address(email: str) -> str:
    """`Name <A@b.c>` → `a@b.c` (asked for by every email and outbox row: parsed once)."""
    return parseaddr(email)[1].lower()


class SmtpConfig(Model):
    """The relay; with no host, emails go to the mail-drop folder instead."""

    host: str | None = None
    port: int = Field(default=587, ge=1, le=65535)
    tls: Literal["starttls", "implicit", "none"] = "starttls"
    username: str | None = None
    password: SecretStr | None = Field(default=None, description="from WATCHER_SMTP__PASSWORD")
    password_file: Path | None = None
    timeout: Duration = timedelta(seconds=30)
    ca_file: Path | None = Field(
        default=None, description="PEM bundle to trust instead of the system's (private relays)"
    )

    @model_validator(mode="after")
    def _login_needs_tls(self) -> SmtpConfig:
        if self.username and self.tls == "none" and self.host not in (None, "127.0.0.1", "::1"):
            raise ValueError(
                "smtp: a username with tls: none would send the password in clear;"
                " use starttls or implicit"
            )
        return self

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
    unsubscribe_mailto: EmailAddress | None = Field(
        default=None, description="List-Unsubscribe mailto: address; default unsubscribe@<domain>"
    )
    unsubscribe_url: Annotated[str, Field(pattern=r"^https://\S+$")] | None = Field(
        default=None,
        description="https base URL for one-click unsubscribe (RFC 8058); ?address=… is added",
    )

    @property
    def unsubscribe_address(self) -> str:
        """Where unsubscribe requests by email go (each address parsed once: every email
        states it)."""
        return _mailbox(self.unsubscribe_mailto or f"unsubscribe@{self.domain}")


@functools.lru_cache(maxsize=64)
def _mailbox(address: str) -> str:
    """`Name <a@b>` → `a@b`, as `email.utils.parseaddr` reads it."""
    return parseaddr(address)[1]


HttpsUrl = Annotated[str, Field(pattern=r"^https?://[^\s/]+\S*$")]


class PublicConfig(Model):
    """The public endpoint: one-click unsubscribe and Atom feeds (off by default).

    Served on its own host and port, never the probes'. Links in emails and feeds are
    `base_url` + path, signed with `secret` (from `WATCHER_PUBLIC__SECRET` or
    `secret_file`); after a rotation, links signed with `previous_secret` stay valid
    until `previous_valid_until`.
    """

    enabled: bool = False
    host: str = Field(default="127.0.0.1", description="0.0.0.0 behind a reverse proxy")
    port: int = Field(default=8081, ge=0, le=65535)
    base_url: HttpsUrl | None = Field(
        default=None, description="how readers reach the endpoint, e.g. https://watch.example"
    )
    secret: SecretStr | None = Field(default=None, description="from WATCHER_PUBLIC__SECRET")
    secret_file: Path | None = None
    previous_secret: SecretStr | None = Field(
        default=None,
        description="the key before the last rotation (WATCHER_PUBLIC__PREVIOUS_SECRET)",
    )
    previous_secret_file: Path | None = None
    previous_valid_until: datetime | None = Field(
        default=None, description="links signed with the previous key work until then"
    )
    token_max_age: Duration = Field(
        default=timedelta(days=365), description="how long a signed link stays valid"
    )
    feeds: dict[ChannelName, SignalFilter] = Field(
        default_factory=_no_entries, description="Atom feeds by filter: /feeds/<name>.atom"
    )
    feed_entries: int = Field(default=50, ge=1, le=500)

    @model_validator(mode="after")
    def _rotation_is_bounded(self) -> PublicConfig:
        has_previous = self.previous_secret is not None or self.previous_secret_file is not None
        if has_previous and self.previous_valid_until is None:
            raise ValueError(
                "public: a previous secret needs previous_valid_until (the end of its grace period)"
            )
        return self

    def secrets(self) -> tuple[str | None, str | None]:
        """The current and the previous signing key (from the environment or their files)."""
        return (
            _secret(self.secret, self.secret_file),
            _secret(self.previous_secret, self.previous_secret_file),
        )


def _secret(value: SecretStr | None, path: Path | None) -> str | None:
    if value is not None:
        return value.get_secret_value()
    if path is not None:
        return path.read_text(encoding="utf-8").strip()
    return None


class WebhookConfig(Model):
    """The signed JSON webhook channel (`channels: {webhook: [URL, ...]}`)."""

    secret: SecretStr | None = Field(default=None, description="from WATCHER_WEBHOOK__SECRET")
    secret_file: Path | None = None
    timeout: Duration = timedelta(seconds=10)
    connections: int = Field(default=4, ge=1, le=64)

    def signing_key(self) -> str | None:
        """The HMAC key (from the environment or `secret_file`)."""
        return _secret(self.secret, self.secret_file)


class AppriseConfig(Model):
    """Chat and push through Apprise URLs (`channels: {apprise: [URL, ...]}`)."""

    timeout: Duration = timedelta(seconds=20)
    connections: int = Field(default=2, ge=1, le=16)


class DispatcherConfig(Model):
    """The outbox dispatcher's schedule and retry policy."""

    every: Duration = timedelta(seconds=30)
    batch: int = Field(default=200, ge=1)
    max_attempts: int = Field(default=10, ge=1)
    backoff: Duration = Field(default=timedelta(minutes=1), description="first retry delay")
    backoff_max: Duration = timedelta(hours=6)
    lease: Duration = Field(
        default=timedelta(minutes=5),
        description="how long a claimed email is reserved for one dispatcher; after a crash"
        " it is due again once this has passed",
    )
    rate_per_minute: int | None = Field(
        default=None, ge=1, description="at most this many emails per minute (relay limits)"
    )
    connections: int = Field(
        default=3,
        ge=1,
        le=20,
        description="SMTP connections a dispatch pass may use at once (emails in flight)",
    )
    unsubscribed_grace: Duration = Field(
        default=timedelta(hours=24),
        description="mail queued for an address that is no longer a subscriber (a config"
        " edit) waits this long for it to come back, then becomes a dead letter",
    )

    @model_validator(mode="after")
    def _lease_is_sane(self) -> DispatcherConfig:
        if self.lease < timedelta(seconds=10):
            raise ValueError("dispatcher.lease: must be at least 10s")
        return self


class HttpConfig(Model):
    """The shared HTTP client: limits that keep the watcher polite and bounded."""

    user_agent: str = "SupplyWatcher/0.1 (+https://github.com/supply-watcher)"
    contact: EmailAddress | None = Field(
        default=None, description="put in the User-Agent; default: the first of `admins`"
    )
    timeout: Duration = Field(
        default=timedelta(seconds=20),
        description="overall deadline of one request: redirects, headers and the whole body",
    )
    connect_timeout: Duration = timedelta(seconds=10)
    read_timeout: Duration = Field(
        default=timedelta(seconds=15), description="longest wait for the next bytes"
    )
    max_bytes: int = Field(default=10_000_000, ge=1024, description="cap on the decoded body")
    max_redirects: int = Field(default=5, ge=0, le=10)
    max_connections: int = Field(default=20, ge=1, description="requests in flight, all hosts")
    per_host: int = Field(default=2, ge=1, description="requests in flight to one host")
    allow_internal: tuple[str, ...] = Field(
        default=(),
        description="internal hosts or networks article links (full_text) may reach, e.g."
        " `intranet.example` or `10.1.2.0/24`; every other loopback, private, link-local,"
        " multicast or metadata address is refused",
    )

    @field_validator("allow_internal")
    @classmethod
    def _check_allow_internal(cls, entries: tuple[str, ...]) -> tuple[str, ...]:
        for entry in entries:
            text = entry.strip()
            odd = any(c.isspace() or c in "/:@" for c in text)
            if not text or (odd and not _network(text)):
                raise ValueError(
                    f"{entry!r} is neither a host name nor an IP address or network (a.b.c.d/n)"
                )
        return entries


class PollingConfig(Model):
    """How polls are scheduled, parsed, backed off and watched over."""

    tick: Duration = Field(
        default=timedelta(seconds=5), description="how often the scheduler looks for due sources"
    )
    lease_margin: Duration = Field(
        default=timedelta(seconds=30),
        description="a claimed source stays reserved for its poll's `timeout` plus this margin"
        " (time to record the poll's outcome); a source whose replica died is polled by"
        " another once it has passed",
    )
    backoff: Duration = Field(default=timedelta(minutes=1), description="delay after a failure")
    backoff_max: Duration = Field(
        default=timedelta(hours=6), description="the doubling delay stops growing here"
    )
    max_hint: Duration = Field(
        default=timedelta(hours=24),
        description="a server's Retry-After, ttl or max-age never delays a poll longer",
    )
    alert_after_failures: int = Field(
        default=5, ge=1, description="consecutive failures before the admins are told"
    )
    parse_timeout: Duration = Field(
        default=timedelta(seconds=20), description="a document that takes longer is abandoned"
    )
    parse_workers: int = Field(
        default=2,
        ge=0,
        le=32,
        description="worker processes for parsing, classifying and rendering, started only when"
        " the service's two parse threads fall behind (see parse_backlog) or a document"
        " overruns parse_timeout on one (it is then parsed again in a worker, killed at the"
        " deadline); 0 never starts them: an overrunning document is abandoned, not killed",
    )
    parse_backlog: Duration = Field(
        default=timedelta(seconds=30),
        description="a document that waited this long for a free parse thread starts the worker"
        " processes; 0s parses everything in worker processes from the first document",
    )
    parse_idle: Duration = Field(
        default=timedelta(minutes=2),
        description="worker processes with nothing to parse this long stop (the next backlog"
        " or overrun starts them again); 0s keeps them until the service stops",
    )
    full_text_items: int = Field(
        default=20, ge=0, description="most article pages fetched per poll for `full_text`"
    )
    story_window: Duration = Field(
        default=timedelta(days=7),
        description="near-duplicates this close in time share a story; 0s turns story"
        " clustering off (every item its own story)",
    )

    @field_validator("lease_margin")
    @classmethod
    def _margin_is_sane(cls, value: timedelta) -> timedelta:
        if value < timedelta(seconds=1):
            raise ValueError("must be at least 1s (a poll's outcome is written after its timeout)")
        return value


class DatabaseConfig(Model):
    """Where state lives; default is an SQLite file under `data_dir`."""

    url: str | None = Field(default=None, description="SQLAlchemy async URL")
    migrate: bool = Field(
        default=True, description="bring the schema to the newest revision at start-up"
    )


class ServiceConfig(Model):
    """The daemon's own behaviour."""

    shutdown_grace: Duration = Field(
        default=timedelta(seconds=20),
        description="on SIGTERM, how long in-flight polls and sends may finish",
    )
    reload_check: Duration = Field(
        default=timedelta(seconds=5),
        description="how often the config file is checked for changes (0s: only on SIGHUP)",
    )


class RetentionConfig(Model):
    """How long rows nobody will read again are kept (signals and stories are kept)."""

    items: Duration = Field(default=timedelta(days=180), description="items that carried no signal")
    deliveries: Duration = Field(default=timedelta(days=90), description="sent deliveries")
    every: Duration = Field(default=timedelta(days=1), description="how often to purge")


class WebConfig(Model):
    """The probe server: /healthz, /readyz, /metrics (never started by `run --once`)."""

    enabled: bool = True
    host: str = Field(default="127.0.0.1", description="0.0.0.0 in a container")
    port: int = Field(default=8080, ge=0, le=65535)


class LogConfig(Model):
    """Log output."""

    level: Literal["debug", "info", "warning", "error"] = "info"
    format: Literal["auto", "json", "console"] = "auto"


# --- the whole file ------------------------------------------------------------------


class WatcherConfig(Model):
    """The whole configuration."""

    include: list[str] = Field(default_factory=_no_items, description="other YAML files merged in")
    data_dir: Path = Path("data")
    database: DatabaseConfig = DatabaseConfig()
    log: LogConfig = LogConfig()
    service: ServiceConfig = ServiceConfig()
    web: WebConfig = WebConfig()
    public: PublicConfig = PublicConfig()
    webhook: WebhookConfig = WebhookConfig()
    apprise: AppriseConfig = AppriseConfig()
    retention: RetentionConfig = RetentionConfig()
    http: HttpConfig = HttpConfig()
    polling: PollingConfig = PollingConfig()
    mail: MailConfig = MailConfig()
    smtp: SmtpConfig = SmtpConfig()
    dispatcher: DispatcherConfig = DispatcherConfig()
    sources: list[Source] = Field(default_factory=_no_items)
    subscribers: list[Subscriber] = Field(default_factory=_no_items)
    admins: list[EmailAddress] = Field(
        default_factory=_no_items,
        description="addresses for operational notices (never market alerts)",
    )
    concepts: dict[str, ConceptSpec] = Field(default_factory=_no_entries)
    signals: dict[SignalType, SignalRule] = Field(default_factory=_no_entries)
    allow_empty: list[Literal["sources", "subscribers", "signals"]] = Field(
        default_factory=_no_items,
        description="sections this file leaves empty on purpose: a hot reload that empties"
        " a section not named here is refused (a half-saved file looks like that)",
    )

    def empty_sections(self) -> list[str]:
        """The sections among sources, subscribers and signals that are empty, unless allowed."""
        found = {
            "sources": self.sources,
            "subscribers": self.subscribers,
            "signals": self.signals,
        }
        return [name for name, value in found.items() if not value and name not in self.allow_empty]

    @model_validator(mode="after")
    def _names_resolve(self, info: ValidationInfo) -> WatcherConfig:
        """Names are unique and resolve (`watcher.config.references`); `load_config` checks
        the raw data itself, so its problems sit beside the schema's, and says so."""
        if (
            self.public.enabled
            and self.web.enabled
            and self.public.port == self.web.port != 0
            and self.public.host == self.web.host
        ):
            raise ValueError(
                f"public.port: {self.public.port} is the probes' port (web.port);"
                " the public endpoint is served separately"
            )
        if info.context and info.context.get(REFERENCES_CHECKED):
            return self
        problems = reference_problems(self.model_dump(by_alias=True))
        if problems:
            raise ValueError(
                "\n".join(f"{'.'.join(map(str, path))}: {message}" for path, message in problems)
            )
        return self

    @property
    def user_agent(self) -> str:
        """The User-Agent header: the configured product string plus a contact address."""
        contact = self.http.contact or (self.admins[0] if self.admins else None)
        if contact is None:
            return self.http.user_agent
        _, address = parseaddr(contact)
        agent = self.http.user_agent.strip()
        if address in agent:
            return agent
        if agent.endswith(")"):
            return f"{agent[:-1]}; mailto:{address})"
        return f"{agent} (mailto:{address})"

    @property
    def database_url(self) -> str:
        """The configured URL, or the SQLite file `<data_dir>/watcher.db`."""
        return self.database.url or f"sqlite+aiosqlite:///{self.data_dir / 'watcher.db'}"

    @property
    def maildrop_dir(self) -> Path:
        """Where emails go when no SMTP host is configured."""
        return self.mail.maildrop or self.data_dir / "maildrop"

    def subscriber(self, address: str) -> Subscriber | None:
        """The subscriber whose bare address is `address` (case-insensitive), if any."""
        wanted = address.lower()
        return next((s for s in self.subscribers if s.address == wanted), None)

    def unsubscribe_link(self, address: str, list_name: str, now: datetime) -> str | None:
        """The signed one-click unsubscribe URL, when the public endpoint has keys and a URL."""
        from watcher.public.links import Links

        links = Links.of(self)
        return None if links is None else links.unsubscribe(address, list_name, now)

    def signal_label(self, signal_type: str) -> str:
        """The human name of a signal type: its rule's label or the type made readable."""
        rule = self.signals.get(signal_type)
        if rule is not None and rule.label:
            return rule.label
        return readable_signal_type(signal_type)


def readable_signal_type(signal_type: str) -> str:
    """`export_control` → `Export control`: the label of a type whose rule has none."""
    return re.sub(r"_+", " ", signal_type).capitalize()
