"""The proper names a Chinese text gives, keyed as an English text gives them.

A Chinese report and an English one of one event share hardly a word, but they name one
company, mine or agency: 赣锋锂业 and "Ganfeng Lithium", 嘉能可 and "Glencore", 商务部 and
"MOFCOM". `chinese_names_of` reads such names from simplified text (`normal_text`) and
gives each the key `watcher.domain.story_names.names_of` gives the English name, so the
two scripts' names compare as one set:

- names of the curated table (`watcher.domain.name_table`: sound-alikes and translations
  that no rule reads, 嘉能可 → "glencore", 北方稀土 → "northern rare earth");
- a company's own two characters before a company word (锂业, 矿业, 钴业, 集团, 股份 …:
  `COMPANY_WORDS`), read in pinyin: 赣锋锂业 → "ganfeng", 紫金矿业 → "zijin", as
  English writes Chinese companies; two characters that are a common word
  (自然资源, 该集团, 矿业集团: `_COMMON`) are no name;
- the provinces and mining cities of `PLACES` in pinyin (江西 → "jiangxi", 赣州 →
  "ganzhou"), which English texts write as names.

Pinyin is `pypinyin`'s reading without tones, syllables run together. Pure functions.
"""

from __future__ import annotations

import re
from functools import cache

import ahocorasick

from watcher.domain.name_table import NAMES
from watcher.domain.vocabulary import CASED_COUNTRIES, COUNTRIES

# words that end a Chinese company's name (`_COMPANY`): its own name is the two
# characters before one ("天齐锂业", "雅化集团"); 稀土 and 有色 are left out, since "中重稀土"
# and "我国有色" are common words (the companies named so are in the table)
COMPANY_WORDS = (
    "锂业",
    "锂能",
    "矿业",
    "钴业",
    "钼业",
    "钨业",
    "镍业",
    "铜业",
    "铝业",
    "锡业",
    "锗业",
    "资源",
    "集团",
    "控股",
    "股份",
    "磁材",
    "磁业",
    "新材",
)
_HAN = "\u4e00-\u9fff"
_COMPANY = re.compile(f"([{_HAN}]{{2}})(?={'|'.join(COMPANY_WORDS)})")
# characters of function words, numbers and generic nouns: two characters opening with
# one are not a company's own name ("的锂", "该国", "两大"), nor two ending with one of
# `_FUNCTION_END` ("锂的"); 和 ends names ("盛和资源")
_FUNCTION = frozenset(
    "的了和与及或对在从向把被由为是将其该等各本这那此所以并已也都还又就年月日号元吨个一二三四五六七八九十百千万亿两多大小新全国省市县区"
)
_FUNCTION_END = frozenset("的了与及或对在从向把被由为是将其该等各这那此年月日号元吨个万亿大采永")
# materials and ores: two characters ending with one are a material's word before the
# company word ("锂资源", "镍矿业"), not a name (金 and 银 end names: 紫金, 金川 is a place)
_MATERIAL_END = frozenset("锂镍钴铜钨锡铝锌铅钼锑镓锗钒钛铁铂锰铬铀土矿煤油气磁")
# two characters that are a common word before a company word, not a name
_COMMON = frozenset(
    (
        *COMPANY_WORDS,
        *"""自然 矿产 稀土 战略 关键 海外 境外 境内 外国 中国 相关 有关 其他 重要 主要 大型 国有
        民营 上游 下游 企业 公司 行业 产业 当地 地方 进口 出口 开采 冶炼 分离 生产 原料 金属 矿山
        矿物 能源 土地 水源 矿石 旗下 上市 跨国 能源 科技 技术 投资 贸易 有色 化工 材料 电池 实业
        发展 建设 工业 国际 全球 世界 美国 欧洲 日本 印度 澳洲 澳大 非洲 亚洲 拉美 南美 北美 央企
        持有 拥有 控制 收购 合资 子公 母公 所属 部分 重点 优质 丰富 储量 利用 保护 开发 勘探 整合
        钴矿 锂矿 铜矿 镍矿 钨矿 锡矿 稀有 精矿 金融 媒体 消息 报道 表示 宣布 公告 该国 各国 其它
        推动 代表 地下 西部 东部 南部 北部 占据 最大 协会 分会 商会 业务 巨头 地区 本国 我国
        """.split(),  # noqa: SIM905 (a word list reads better as text)
    )
)
# provinces and mining cities English reports name ("Jiangxi province", "in Ganzhou")
PLACES = (
    "江西",
    "湖南",
    "湖北",
    "广东",
    "广西",
    "福建",
    "云南",
    "四川",
    "贵州",
    "青海",
    "新疆",
    "甘肃",
    "山东",
    "江苏",
    "浙江",
    "河南",
    "河北",
    "安徽",
    "辽宁",
    "吉林",
    "黑龙江",
    "赣州",
    "宜春",
    "包头",
    "龙岩",
    "凉山",
    "个旧",
    "金川",
    "株洲",
    "郴州",
    "梅州",
    "白云鄂博",
)


@cache
def _automaton() -> ahocorasick.Automaton:
    """The table's Chinese forms and `PLACES`, each with (its length, its key)."""
    automaton = ahocorasick.Automaton()
    for name in NAMES:
        for written in name.chinese:
            automaton.add_word(written, (len(written), name.key))
    for place in PLACES:
        automaton.add_word(place, (len(place), pinyin_key(place)))
    automaton.make_automaton()
    return automaton


def _common(own: str) -> bool:
    """True when the two characters `own` before a company word are no company's own
    name: a common word (`_COMMON`), a function word's character, a material's word, or
    part of a country's name (刚果, 津巴布韦 → "布韦")."""
    return (
        own in _COMMON
        or own[0] in _FUNCTION
        or own[1] in _FUNCTION_END
        or own[1] in _MATERIAL_END
        or any(own in country for country in _chinese_countries())
    )


# countries of mining news the vocabulary may not write in Chinese
_COUNTRIES = """
津巴布韦 刚果 智利 秘鲁 瑞士 俄罗斯 阿根廷 玻利维亚 印度尼西亚 缅甸 越南 老挝
马来西亚 菲律宾 哈萨克斯坦 纳米比亚 马里 加蓬 尼日尔 赞比亚 南非 巴西 墨西哥
塞尔维亚 格陵兰 蒙古 西澳大利亚 加拿大 澳大利亚 新喀里多尼亚
""".split()  # noqa: SIM905 (a word list reads better as text)


@cache
def _chinese_countries() -> tuple[str, ...]:
    """Chinese names of countries: the vocabulary's (`watcher.domain.vocabulary`) and
    `_COUNTRIES`."""
    return (
        *_COUNTRIES,
        *(
            term
            for table in (COUNTRIES, CASED_COUNTRIES)
            for terms in table.values()
            for term in terms
            if not term.isascii()
        ),
    )


@cache
def pinyin_key(han: str) -> str:
    """`han` in pinyin without tones, its syllables run together: 赣锋 → "ganfeng"."""
    from pypinyin import Style, lazy_pinyin  # loads its tables: only when a name is read

    return "".join(lazy_pinyin(han, style=Style.NORMAL))


def chinese_names_of(text: str) -> set[str]:
    """The names the simplified Chinese in `text` gives (keys: see the module docstring);
    empty for a text with no Han character."""
    if text.isascii():
        return set()
    out: set[str] = set()
    found = sorted(
        (end - length + 1, -length, key) for end, (length, key) in _automaton().iter(text)
    )
    taken: list[tuple[int, int]] = []  # the table's names, leftmost longest first
    for start, length, key in found:
        if taken and start < taken[-1][1]:  # inside a longer one ("美国商务部", "商务部")
            continue
        out.add(key)
        taken.append((start, start - length))
    for match in _COMPANY.finditer(text):
        own = match.group(1)
        if _common(own):
            continue
        if any(start < match.end() + 2 and match.start() < end for start, end in taken):
            continue
        out.add(pinyin_key(own))
    return out
