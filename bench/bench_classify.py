"""Classification speed: ~1 KB trade-press items per CPU second on one core, default rules.

Items are built deterministically from a seed by joining sentences in the style of metals
trade press until each body is about 1 KB: 30% drawn from sentences that carry a signal
or a near-miss, the rest market colour naming the same metals, places and firms; one
item in five is in Chinese. That is about the density of terms and signals of the
labelled dev set, the headline figure; two lighter mixes follow (a feed where most
sentences are market colour, and market colour only). The output gives the signals per
item next to each speed.

The figure is the median of several runs over the same items, in items per second of
this process's CPU time (other processes on a shared machine do not count against it).
A reference figure, the time of a plain Python loop, tells how fast the machine is.
The target is at least 5,000 items/s. Run with `make bench` or
`python bench/bench_classify.py [--items N] [--runs N] [--config PATH] [--strict]`.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
import timeit
from pathlib import Path

from watcher.classify.engine import Classifier
from watcher.config.load import load_config

ROOT = Path(__file__).resolve().parent.parent
TARGET_ITEMS_PER_SECOND = 5_000
ITEM_BYTES = 1_000
SIGNAL_SHARE = 0.3  # gives about as many signals per KB as the labelled dev set
# the headline mix, then a feed where most reports carry no signal, then market colour only
MIXES = (("dev-set density", SIGNAL_SHARE), ("feed-like", 0.1), ("no signal sentences", 0.0))
CHINESE_SHARE = 0.2

TITLES = [
    "Dysprosium oxide steady as buyers wait for quota news",
    "China tightens export licensing for medium-heavy rare earths",
    "Recyclers in Ganzhou short of NdFeB swarf",
    "Kachin mining halted after clashes near Pangwa",
    "Border gate at Kanpaiti reopens to ore trucks",
    "PrNd oxide edges lower in thin trade",
    "Gallium exports recover as licences are granted",
]
# Sentences that carry a signal (or a near-miss: denial, history, other metal, think piece).
SIGNAL_SENTENCES = [
    "China's commerce ministry said exporters of terbium and dysprosium now need licences.",
    "Shipments of samarium-cobalt magnets have been held at ports pending review.",
    "The first batch of rare earth mining quotas has not yet been published.",
    "Separators say the allotment is two months late compared with last year.",
    "Recyclers said NdFeB scrap was scarce after magnet plants cut production.",
    "Swarf supply has improved since magnet lines returned to full operation.",
    "Mining around Chipwe remained suspended after heavy rain washed out roads.",
    "Trucks carrying mixed rare earth carbonate were stuck at the border crossing.",
    "The Kanpaiti crossing reopened on Monday after a five-week closure.",
    "Officials denied reports that the quota would be delayed.",
    "Analysts are debating whether Beijing might restrict exports of more metals.",
    "Copper concentrate supply remains tight after the mine closure in Panama.",
    "In 2010, shipments to Japan were held up for several weeks.",
]
# Market colour that names the same metals and places but reports no supply shock.
OTHER_SENTENCES = [
    "Praseodymium-neodymium oxide slipped 0.5% to 412,000 yuan/t in Shanghai on Tuesday.",
    "Magnet makers bought only for immediate needs, traders said.",
    "Demand from wind turbine makers is forecast to grow about 15% this year.",
    "Lynas reported higher NdPr output at Mount Weld in the quarter.",
    "European buyers expect deliveries to normalise next quarter.",
    "Dysprosium oxide held at 1.62 million yuan/t, with export-grade material in line.",
    "Terbium metal was quoted at 8,050 yuan/kg, unchanged on the week.",
    "Buyers in Ningbo restocked ahead of the Golden Week holiday.",
    "Several carmakers are testing motors that use less heavy rare earth.",
    "The company plans to expand sintered magnet capacity to 40,000 tonnes by 2027.",
    "Gallium 99.99% in China edged down on softer demand from wafer makers.",
    "Spot activity was thin, with most participants waiting for monthly contract prices.",
    "A Baotou producer said its new hydrogen-storage alloy line started trial runs.",
    "Traders in Rotterdam reported steady inquiries for yttrium oxide.",
    "Analysts at the consultancy expect a small surplus of light rare earths next year.",
    "The forum in Ganzhou drew more than 300 delegates from across the industry.",
    "Japan's imports of rare earth compounds from China rose in the first half.",
    "Neodymium metal traded in a narrow range as buyers waited on the sidelines.",
    "Antimony ingot prices were little changed, with smelters running at normal rates.",
    "Tungsten APT offers were steady ahead of the long-term contract settlement.",
    "The miner said its feasibility study for the Nolans project remains on track.",
    "Cerium oxide stayed near production cost amid weak polishing-powder demand.",
]
ZH_TITLES = [
    "第二批稀土指标推迟下达",
    "缅甸克钦矿区停产 中重稀土原料偏紧",
    "氧化镨钕价格小幅回落",
    "钕铁硼废料供应紧张",
]
ZH_SIGNAL_SENTENCES = [
    "商务部对七类中重稀土相关物项实施出口管制。",
    "缅甸克钦矿区停产，国内中重稀土原料供应偏紧。",
    "钕铁硼废料货源稀少，回收企业开工不足。",
    "今年第一批稀土开采指标尚未下达，分离企业采购谨慎。",
    "甘拜地口岸恢复通关，缅甸稀土原料陆续入境。",
    "商务部新闻发言人表示，目前没有进一步扩大出口管制范围的计划。",
]
ZH_OTHER_SENTENCES = [
    "氧化镨钕价格本周小幅回落，市场观望情绪较浓。",
    "下游磁材企业按需采购，成交清淡。",
    "氧化镝主流报价维持在162万元/吨，贸易商多持货观望。",
    "上半年国内风电新增装机容量同比明显增长。",
    "北方稀土发布半年度报告，稀土金属销量同比增长。",
    "稀土产业论坛在江西赣州开幕，与会代表围绕行业标准展开交流。",
    "海关数据显示，1-8月我国稀土出口量同比增长约8%。",
    "人形机器人关节电机大量使用高性能钕铁硼磁体。",
]


def build_items(
    count: int, seed: int = 20261126, signal_share: float = SIGNAL_SHARE
) -> list[tuple[str, str]]:
    """`count` (title, body) pairs with bodies of about `ITEM_BYTES` bytes of UTF-8.

    Each item is English or (one in `CHINESE_SHARE`) Chinese, as real reports are; each
    sentence carries a signal or near-miss with probability `signal_share`.
    """
    rng = random.Random(seed)
    english = (TITLES, SIGNAL_SENTENCES, OTHER_SENTENCES, " ")
    chinese = (ZH_TITLES, ZH_SIGNAL_SENTENCES, ZH_OTHER_SENTENCES, "")
    items = []
    for _ in range(count):
        titles, signal, other, joiner = chinese if rng.random() < CHINESE_SHARE else english
        parts: list[str] = []
        while len(joiner.join(parts).encode()) < ITEM_BYTES:
            parts.append(rng.choice(signal if rng.random() < signal_share else other))
        items.append((rng.choice(titles), joiner.join(parts)))
    return items


def measure(classifier: Classifier, items: list[tuple[str, str]]) -> float:
    """Items per CPU second of this process for one pass over `items`.

    CPU time, not wall time: on a shared machine other processes do not count against us.
    """
    start = time.process_time()
    for title, body in items:
        classifier.classify(title, body)
    return len(items) / (time.process_time() - start)


def main(argv: list[str] | None = None) -> int:
    """Print the median items/s per mix (`--strict`: exit 1 when the first is below target)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=4_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--config", type=Path, default=ROOT / "config" / "watcher.yaml")
    parser.add_argument(
        "--strict", action="store_true", help="exit 1 when the median is below the target"
    )
    args = parser.parse_args(argv)
    classifier = Classifier.from_config(load_config(args.config))
    headline = 0.0
    for name, share in MIXES:
        items = build_items(args.items, signal_share=share)
        size = statistics.mean(len(body.encode()) for _, body in items)
        measure(classifier, items[:200])  # warm up: automaton build, caches
        rates = [measure(classifier, items) for _ in range(args.runs)]
        median = statistics.median(rates)
        headline = headline or median
        signals = sum(len(classifier.classify(t, b)) for t, b in items) / len(items)
        print(
            f"classify, {name}: {median:,.0f} items/s (median of {args.runs} runs of"
            f" {len(items)} items of {size:,.0f} bytes, {signals:.1f} signals per item;"
            f" min {min(rates):,.0f}, max {max(rates):,.0f})"
        )
    reference = min(timeit.repeat("sum(range(10**6))", number=1, repeat=5, timer=time.process_time))
    print(
        f"target {TARGET_ITEMS_PER_SECOND:,} items/s at dev-set density;"
        f" {len(classifier.rules)} rules; machine reference: sum(range(10**6)) takes"
        f" {reference * 1000:.1f} ms of CPU"
    )
    return 1 if args.strict and headline < TARGET_ITEMS_PER_SECOND else 0


if __name__ == "__main__":
    sys.exit(main())
