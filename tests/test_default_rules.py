"""The default rules on trade-press wording and on the seed reports."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
import yaml

from tests.conftest import DATA, ROOT, SHARED
from watcher.classify.engine import Classifier
from watcher.classify.matcher import count_cjk
from watcher.config.load import load_config
from watcher.config.schema import Concept, concept_terms
from watcher.domain.items import Direction, Severity, Signal
from watcher.sources.files import split_title

CASES: list[dict[str, Any]] = yaml.safe_load(
    (DATA / "classify" / "default_rules.yaml").read_text(encoding="utf-8")
)
PHRASINGS: list[dict[str, Any]] = yaml.safe_load(
    (DATA / "classify" / "phrasings.yaml").read_text(encoding="utf-8")
)
# kinds of export-control and ore-disruption wording, one general mechanism each
SUPPLY_KINDS: list[dict[str, Any]] = yaml.safe_load(
    (DATA / "classify" / "supply_kinds.yaml").read_text(encoding="utf-8")
)
SEED_000 = SHARED / "seeds" / "000_2402a3fff184db4e.txt"
SEED_01 = ROOT / "seeds" / "01-medium-heavy-oxide-output-may-2025.md"
PUBLISHED = date(2025, 6, 2)  # "In 2010 …" is history to an item of this date
FOUR_TYPES = ["export_control", "quota_delay", "scrap_shortage", "ore_supply_disruption"]


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    """The classifier of config/watcher.yaml (default rules included)."""
    return Classifier.from_config(load_config(ROOT / "config" / "watcher.yaml", environ={}))


def _summary(signals: list[Signal]) -> list[str]:
    return [
        f"{s.type}/{s.direction.value}{'/speculative' if s.speculative else ''}" for s in signals
    ]


@pytest.mark.parametrize("case", CASES, ids=[c["text"][:60] for c in CASES])
def test_default_vocabulary(classifier: Classifier, case: dict[str, Any]) -> None:
    """The sentence, as an item published in mid-2025, gives exactly the listed signals."""
    signals = classifier.classify("", case["text"], published=PUBLISHED)
    assert _summary(signals) == case["signals"]


@pytest.mark.parametrize("case", PHRASINGS, ids=[c["kind"][:70] for c in PHRASINGS])
def test_phrasings_of_real_pages(classifier: Classifier, case: dict[str, Any]) -> None:
    """Each kind of phrasing seen in real reporting (an invented item written on it) gives
    exactly the listed signals, read as of the item's date (default 2025-12-01)."""
    published = case.get("published", date(2025, 12, 1))
    signals = classifier.classify(case.get("title", ""), case["body"], published=published)
    assert _summary(signals) == case["signals"]


@pytest.mark.parametrize("case", SUPPLY_KINDS, ids=[c["kind"] for c in SUPPLY_KINDS])
def test_kind_of_wording_gives_its_signals(classifier: Classifier, case: dict[str, Any]) -> None:
    """The sentence, as an item published on 2025-12-01, gives exactly the listed signals."""
    signals = classifier.classify("", case["text"], published=date(2025, 12, 1))
    assert _summary(signals) == case["signals"]


def test_phrasings_cite_no_page_of_the_labelled_corpus() -> None:
    """The phrasing survey stays off the labelled real-text corpus: no case cites one of
    its pages (compared as sets of addresses; nothing of the corpus is read otherwise)."""

    def address(url: str) -> str:
        return url.strip().rstrip("/").replace("http://", "https://").replace("://www.", "://")

    corpus = DATA / "realtext" / "corpus.jsonl"
    cited = {address(case["seen"]) for case in PHRASINGS}
    with corpus.open(encoding="utf-8") as lines:
        pages = {address(json.loads(line).get("url") or "") for line in lines if line.strip()}
    assert cited.isdisjoint(pages)


def _classify_file(classifier: Classifier, path: Any) -> dict[str, Signal]:
    title, body = split_title(path.read_text(encoding="utf-8"))
    return {s.type: s for s in classifier.classify(title, body)}


def _evidence(signal: Signal) -> str:
    return "\n".join(e.sentence for e in signal.evidence)


@pytest.mark.skipif(not SEED_000.exists(), reason=f"shared seed report not found at {SEED_000}")
def test_shared_seed_report_carries_four_tightening_signals(classifier: Classifier) -> None:
    """The SMM note names all four signals, each tightening, with the sentences that say so."""
    signals = _classify_file(classifier, SEED_000)
    assert sorted(signals) == sorted(FOUR_TYPES)
    assert all(s.direction is Direction.TIGHTENING and not s.speculative for s in signals.values())
    assert "implementation of export control policies" in _evidence(signals["export_control"])
    assert "delay in issuing mining quotas" in _evidence(signals["quota_delay"])
    assert "shortage of NdFeB scrap" in _evidence(signals["scrap_shortage"])
    ore = _evidence(signals["ore_supply_disruption"])
    assert "unwilling to sell their ion-adsorption ore" in ore


def test_seed_01_carries_four_tightening_signals(classifier: Classifier) -> None:
    """The project's restatement of that note gives the same four signals and evidence."""
    signals = _classify_file(classifier, SEED_01)
    assert sorted(signals) == sorted(FOUR_TYPES)
    assert all(s.direction is Direction.TIGHTENING and not s.speculative for s in signals.values())
    assert "export controls led magnet makers to cut production" in _evidence(
        signals["export_control"]
    )
    assert "delayed issuance of mining quotas" in _evidence(signals["quota_delay"])
    assert "Recyclers were short of NdFeB scrap in May." in _evidence(signals["scrap_shortage"])
    assert "held back their ion-adsorption ore" in _evidence(signals["ore_supply_disruption"])


def test_every_chinese_term_that_can_be_evidence_has_a_gloss() -> None:
    """A Chinese term of a concept that can mark evidence (a match or direction concept)
    carries an English gloss, so an alert on a Chinese item says why it fired."""
    config = load_config(ROOT / "config" / "watcher.yaml", environ={})
    shown = {
        name
        for rule in config.signals.values()
        for field, names in rule.concepts().items()
        if field in ("match", "anywhere", "tightening", "easing", "easing_events")
        for name in names
    }
    unglossed = [
        name
        for name in sorted(shown)
        if any(count_cjk(term) for term in concept_terms(config.concepts[name]))
        and not (isinstance(config.concepts[name], Concept) and config.concepts[name].gloss)
    ]
    assert unglossed == []


def test_published_date_makes_an_old_month_background(classifier: Classifier) -> None:
    """With the item's date, a sentence dated three or more months before it recounts an
    earlier event; a recent month, a running state or a plan does not."""
    old = "On February 3, Beijing imposed export controls on tungsten."
    assert classifier.classify("", old, published=date(2025, 3, 20)) != []
    assert classifier.classify("", old, published=date(2025, 6, 20)) == []
    assert classifier.classify("", old) != []  # undated: the month says nothing
    # a month after the item's without a year: last year's or one to come, unknown
    assert classifier.classify("", old, published=date(2025, 1, 20)) != []
    written = "In February 2024, Beijing imposed export controls on tungsten."
    assert classifier.classify("", written, published=date(2025, 1, 20)) == []
    chinese = "2月3日,商务部对钨实施出口管制。"
    assert classifier.classify("", chinese, published=date(2025, 3, 20)) != []
    assert classifier.classify("", chinese, published=date(2025, 7, 20)) == []
    running = "Since February, tungsten exports have needed a licence from the commerce ministry."
    assert classifier.classify("", running, published=date(2025, 9, 20)) != []
    running_zh = "自2月起,钨出口须申请出口许可,出口管制持续收紧。"
    assert classifier.classify("", running_zh, published=date(2025, 9, 20)) != []
    figures = "Tungsten exports fell 40% in January-May after the export controls."
    assert classifier.classify("", figures, published=date(2025, 9, 20)) != []


DOUBTS: list[dict[str, Any]] = yaml.safe_load(
    (DATA / "classify" / "direction_doubt.yaml").read_text(encoding="utf-8")
)


@pytest.mark.parametrize("case", DOUBTS, ids=[c["name"] for c in DOUBTS])
def test_conflicting_direction_evidence_is_uncertain_and_says_why(
    classifier: Classifier, case: dict[str, Any]
) -> None:
    """Conflicting cues make the direction uncertain, quoted in the doubt; settled ones do not."""
    [signal] = classifier.classify(case.get("title", ""), case["body"], published=PUBLISHED)
    assert _summary([signal]) == [case["signal"]]
    assert signal.direction_uncertain is case["uncertain"]
    if case["uncertain"]:
        for words in case["doubt"]:
            assert words in signal.direction_doubt
    else:
        assert signal.direction_doubt == ""
    if "severity" in case:
        assert signal.severity.value == case["severity"]


def test_a_default_tightening_beside_a_lead_easing_says_it_is_a_guess(
    classifier: Classifier,
) -> None:
    """An export-control hit with no direction word takes the rule's default
    (tightening); when the lead reports an easing event of another type (mines
    restarting), that default is a guess: the signal says so, quotes the easing, and is
    held at medium. Without the easing in the lead, a hit announcing the controls is a firm
    tightening (a new measure, see `undirected`)."""
    body = "Miners in Kachin state restarted output on Monday."
    by_type = {
        s.type: s
        for s in classifier.classify(
            "Kachin rare earth mines restart, export controls on rare earth oxide in focus",
            body,
            published=PUBLISHED,
        )
    }
    assert by_type["ore_supply_disruption"].direction is Direction.EASING
    guess = by_type["export_control"]
    assert guess.direction is Direction.TIGHTENING
    assert guess.direction_uncertain
    assert "default" in guess.direction_doubt
    assert "'restart'" in guess.direction_doubt
    assert guess.severity is Severity.MEDIUM
    [firm] = classifier.classify(
        "China announces export controls on rare earth oxide in Kachin",
        "Miners in Kachin state said so on Monday.",
        published=PUBLISHED,
    )
    assert (firm.type, firm.direction, firm.direction_uncertain) == (
        "export_control",
        Direction.TIGHTENING,
        False,
    )


def test_an_old_month_in_the_headline_is_the_items_news_in_the_body_background(
    classifier: Classifier,
) -> None:
    """A headline names the item's news, whatever month it names; the same words as a
    body sentence of an item published four months later recount an earlier event."""
    words = "On August 15, Beijing tightened export rules on NdFeB magnets"
    published = date(2026, 12, 6)
    in_title = classifier.classify(words, "Magnet makers in Ningbo said so.", published)
    assert _summary(in_title) == ["export_control/tightening"]
    assert in_title[0].evidence[0].in_title
    in_body = classifier.classify("", f"{words}. Magnet makers in Ningbo said so.", published)
    assert in_body == []


UNDIRECTED_HEADLINE = "Court rules on Indonesia's nickel ore export quota"


@pytest.mark.parametrize(
    ("body", "direction"),
    [
        (
            "The court handed down its ruling on Monday. The judges ordered the trade"
            " ministry to repeal the restrictions within 90 days.",
            Direction.EASING,
        ),
        (
            "The court handed down its ruling on Monday. The judges said the trade"
            " ministry could repeal the restrictions.",
            Direction.TIGHTENING,
        ),
        (
            "The court handed down its ruling on Monday. The ministry has not lifted the"
            " restrictions.",
            Direction.TIGHTENING,
        ),
    ],
)
def test_a_headline_naming_no_direction_takes_the_bodys_eased_measure(
    classifier: Classifier, body: str, direction: Direction
) -> None:
    """A measure the headline only names takes its direction from a body sentence that
    reports it eased as news; a hedged or negated easing there leaves the default."""
    signals = {s.type: s for s in classifier.classify(UNDIRECTED_HEADLINE, body)}
    assert list(signals) == ["export_control"]
    assert signals["export_control"].direction is direction


def test_exports_resuming_under_export_quotas_are_no_ore_news(classifier: Classifier) -> None:
    """Shipments resuming under an export regime are export news, not an ore restart
    (SIGNALS.md: one event is one type)."""
    signals = classifier.classify(
        "", "Jakarta set new export quotas for nickel ore, and shipments will resume next month."
    )
    assert "ore_supply_disruption" not in {s.type for s in signals}
    assert "export_control" in {s.type for s in signals}


# (title, body, the one signal expected): an easing headline over a body that names the
# tightening it undoes (and an easing refused in the headline, which stays tightening)
LEAD_EASING = [
    (
        "Magnet shipments to Europe pick up as licences come through",
        "Beijing's April export controls had stalled rare earth magnet shipments for two months.",
        "export_control/easing",
    ),
    (
        "稀土磁铁出口6月大幅回升",
        "受4月出口管制影响，5月稀土磁铁出口量骤减74%。",
        "export_control/easing",
    ),
    (
        "稀土磁鐵出口6月大幅反彈",
        "受4月出口管制影響，5月稀土磁鐵出口量驟減74%。",
        "export_control/easing",
    ),
    (
        "Myanmar rare earth ore trucks roll into China again",
        "The border crossings were closed for two months after fighting, halting ore shipments.",
        "ore_supply_disruption/easing",
    ),
    (
        "緬甸稀土礦進口3月回升",
        "1月因口岸關閉，自緬甸進口的稀土礦大幅下降。",
        "ore_supply_disruption/easing",
    ),
    (
        "Cobalt mine back to full output after floods",
        "Floods in January forced the mine to suspend operations for six weeks.",
        "ore_supply_disruption/easing",
    ),
    (
        "NdFeB scrap supply improves as holders sell",
        "Recyclers had been short of scrap for months as holders refused to sell.",
        "scrap_shortage/easing",
    ),
    ("钕铁硼废料供应好转", "此前数月废料商惜售，回收企业原料短缺。", "scrap_shortage/easing"),
    (
        "歐洲車企陸續拿到稀土磁鐵出口許可",
        "中國4月起對7種中重稀土實施出口管制，導致歐洲多家車廠停產。",
        "export_control/easing",
    ),
    (
        "Beijing waves through gallium shipments to European buyers",
        "China restricted gallium exports last year.",
        "export_control/easing",
    ),
    (
        "China's rare earth exports to US thaw",
        "China restricted exports of rare earths in April and October.",
        "export_control/easing",
    ),
    (
        "中欧同意建立稀土出口许可绿色通道",
        "4月以来，欧洲企业因出口管制面临许可审批延误。",
        "export_control/easing",
    ),
    (
        "Beijing extends rare earth export exemption for US chipmakers",
        "China restricted exports of gallium and germanium to the US last year.",
        "export_control/easing",
    ),
    (
        "Beijing refuses to extend rare earth export exemption for US chipmakers",
        "China restricted exports of gallium and germanium to the US last year.",
        "export_control/tightening",
    ),
    (
        "稀土出口管制措施暂停一年",
        "10月9日，商务部发布公告，对稀土相关技术实施出口管制。",
        "export_control/easing",
    ),
    # a headline naming no mine or ore (the ore rule fires only on the body's halt):
    # work restarting is the news; a resumption set before a new halt ("after"), hedged
    # or negated stays tightening
    (
        "Codelco resumes operations at El Teniente",
        "Operations at the El Teniente copper mine were suspended after a rockfall on July 31.",
        "ore_supply_disruption/easing",
    ),
    (
        "宜春锂云母企业陆续复产",
        "此前，宜春多家锂矿因环保督察停产整改。",
        "ore_supply_disruption/easing",
    ),
    (
        "Codelco halts El Teniente again days after it resumed operations",
        "Operations at the El Teniente copper mine were suspended again after a second rockfall.",
        "ore_supply_disruption/tightening",
    ),
    (
        "Codelco could resume operations at El Teniente next week",
        "Operations at the El Teniente copper mine were suspended after a rockfall on July 31.",
        "ore_supply_disruption/tightening",
    ),
    (
        "Codelco has not resumed operations at El Teniente",
        "Operations at the El Teniente copper mine were suspended after a rockfall on July 31.",
        "ore_supply_disruption/tightening",
    ),
]


# (title, body): a headline denying an easing over a lead sentence that names the easing
# it ends or an earlier one: export_control tightening, at a tightening severity
REFUTED_EASING = [
    ("商务部：不再批准稀土出口许可", "商务部表示，此前已批准的部分稀土出口许可申请继续有效。"),
    ("商務部不再批准鎵出口許可", "商務部表示，已批准部分企業的鎵出口申請。"),
    (
        "China stops approving gallium export licences",
        "The commerce ministry approved some gallium export licences in August.",
    ),
]


@pytest.mark.parametrize(("title", "body"), REFUTED_EASING, ids=[c[0] for c in REFUTED_EASING])
def test_a_headline_denying_an_easing_outranks_an_easing_in_the_lead(
    classifier: Classifier, title: str, body: str
) -> None:
    """A lead hit whose tightening is a negated easing ("no longer approves") states the
    news; approvals the next sentence names are what it ends, not an easing event
    (SIGNALS.md: licences refused are tightening, a negated easing is tightening)."""
    [signal] = classifier.classify(title, body, published=PUBLISHED)
    assert (signal.type, signal.direction) == ("export_control", Direction.TIGHTENING)
    assert not signal.direction_uncertain
    assert signal.severity is Severity.CRITICAL


@pytest.mark.parametrize(
    ("title", "body", "expected"), LEAD_EASING, ids=[c[0] for c in LEAD_EASING]
)
def test_an_easing_headline_makes_the_item_easing(
    classifier: Classifier, title: str, body: str, expected: str
) -> None:
    """A headline reporting an easing event (exports picking up, licences coming
    through, ore moving again, a mine back to full output, scrap supply improving) is the
    item's news, so the tightening the body names is read as what it undoes: an easing
    item is never sent as tightening (SIGNALS.md, direction of the item's news)."""
    signals = classifier.classify(title, body, published=PUBLISHED)
    assert _summary(signals) == [expected]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "European companies are still waiting for rare earth export licences weeks after"
            " Beijing promised to speed up approvals.",
            "export_control/tightening",
        ),
        ("欧洲企业仍在等待稀土出口许可，此前商务部承诺加快审批。", "export_control/tightening"),
        (
            "Rare earth mines in Myanmar remain closed despite an order to reopen them.",
            "ore_supply_disruption/tightening",
        ),
        # no supply held up: the easing stands
        (
            "Rare earth mines in Myanmar reopened on Monday after an order to reopen them.",
            "ore_supply_disruption/easing",
        ),
    ],
)
def test_an_easing_set_aside_by_a_supply_still_held_up(
    classifier: Classifier, text: str, expected: str
) -> None:
    """A promise or order to ease, named after a supply still held up ("still waiting …
    weeks after Beijing promised to speed up approvals"), is no easing: the news is the
    supply still held up."""
    assert _summary(classifier.classify("", text, published=PUBLISHED)) == [expected]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Indonesia's energy ministry has approved 2026 RKAB work plans for 120 nickel"
            " miners, clearing a backlog that had left smelters short of ore.",
            ["quota_delay/easing"],
        ),
        (
            "Heavy rains have left Indonesian smelters short of nickel ore this month.",
            ["ore_supply_disruption/tightening"],
        ),
    ],
)
def test_a_past_perfect_relative_clause_recounts_the_earlier_state(
    classifier: Classifier, text: str, expected: list[str]
) -> None:
    """A match inside "that had …" / "which had …" recounts the state the news undoes
    (background), while the same words as the sentence's own news are a signal."""
    assert _summary(classifier.classify("", text, published=PUBLISHED)) == expected


@pytest.mark.parametrize(
    ("text", "speculative"),
    [
        # the cue that gives the event is a possibility: so is the event
        ("Beijing's export controls on gallium have the potential to cut shipments by half.", True),
        # a hedge after the trigger, past the verb's auxiliaries
        ("The Philippine nickel ore export ban is likely to be lifted next year.", True),
        # the same measures as facts
        ("Beijing's export controls on gallium cut shipments to Europe by half in May.", False),
        ("Rare earth mining in Kachin halted as Beijing weighs tighter checks.", False),
    ],
)
def test_a_hedged_event_cue_or_predicate_makes_the_signal_speculative(
    classifier: Classifier, text: str, speculative: bool
) -> None:
    """A hedge on every direction cue ("have the potential to cut") or on the predicate of
    the trigger ("the ban is likely to be lifted") makes the event a possibility; a hedge
    that governs another subject ("as Beijing weighs") does not."""
    [signal] = classifier.classify("", text, published=PUBLISHED)
    assert signal.speculative is speculative


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Road blockades by residents are preventing the company from resuming operations"
            " at the copper mine, it said.",
            "ore_supply_disruption/tightening",
        ),
        (
            "The blockade has kept the two nickel mines from reopening since March.",
            "ore_supply_disruption/tightening",
        ),
        (
            "The two nickel mines reopened in March after the blockade was cleared.",
            "ore_supply_disruption/easing",
        ),
    ],
)
def test_an_easing_barred_by_prevent_from_is_tightening(
    classifier: Classifier, text: str, expected: str
) -> None:
    """An easing that a verb bars ("preventing the company from resuming", "kept the
    mines from reopening") is held up: tightening; the easing reported as done stays."""
    assert _summary(classifier.classify("", text, published=PUBLISHED)) == [expected]


@pytest.mark.parametrize(
    ("text", "expected", "uncertain"),
    [
        ("该镍矿复产时间尚不确定。", "ore_supply_disruption/tightening", False),
        (
            "The copper mine's restart date is still uncertain, the company said.",
            "ore_supply_disruption/tightening",
            False,
        ),
        # a conceded easing: no easing news, and nothing else gives a direction
        (
            "尽管口岸已重新开放，但缅甸稀土原料进口量仍然低迷。",
            "ore_supply_disruption/tightening",
            True,
        ),
        (
            "Although the Kambaiti border has reopened, rare earth ore imports from Myanmar"
            " remain low.",
            "ore_supply_disruption/tightening",
            True,
        ),
    ],
)
def test_an_undated_or_conceded_easing_is_no_easing(
    classifier: Classifier, text: str, expected: str, uncertain: bool
) -> None:
    """An easing whose date is unknown (复产时间尚不确定) is held up, and one conceded
    before a supply still held up ("although the border has reopened, imports remain
    low") is not the news: neither reads easing."""
    [signal] = classifier.classify("", text, published=PUBLISHED)
    assert _summary([signal]) == [expected]
    assert signal.direction_uncertain is uncertain
