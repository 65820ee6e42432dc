"""Names of critical-minerals companies, mines and agencies in both scripts.

Chinese writes a foreign company by a sound-alike or a translation (Glencore: 嘉能可,
Lynas: 莱纳斯, Vale: 淡水河谷) and an agency by its own short form (MOFCOM: 商务部), and
English writes some Chinese companies by a translation, not by their pinyin (CMOC:
洛阳钼业, China Northern Rare Earth: 北方稀土). Neither is read by rule
(`watcher.domain.chinese_names` reads pinyin), so each such name is listed here with the
key an English text gives it (`watcher.domain.story_names`: the name's lower-cased
distinctive word, "glencore"), the English phrases that name it where that word alone
is not read (a long form, "Ministry of Commerce"; a word of more than five capitals,
"MOFCOM"), and its Chinese forms in simplified characters.

Written from general knowledge of the industry (companies, miners, agencies that rare
earth and critical-minerals reporting names), not from any labelled item.
"""

from __future__ import annotations

from typing import NamedTuple


class Name(NamedTuple):
    """One entry: `key` as `story_names.names_of` gives it, the English `phrases` (case
    as written) that name it beyond that key, the `chinese` forms (simplified), and
    whether it is an `agency` (a government body, named in every report of its many
    announcements: `AGENCIES`)."""

    key: str
    phrases: tuple[str, ...]
    chinese: tuple[str, ...]
    agency: bool = False


def _agency(key: str, phrases: tuple[str, ...], chinese: tuple[str, ...]) -> Name:
    """A government body's entry (`Name.agency`)."""
    return Name(key, phrases, chinese, agency=True)


NAMES: tuple[Name, ...] = (
    # Chinese agencies (the short forms Chinese reports use, and the English long forms)
    _agency(
        "mofcom",
        ("MOFCOM", "Ministry of Commerce", "Commerce Ministry", "commerce ministry"),
        ("商务部", "中国商务部"),
    ),
    _agency(
        "miit",
        ("Ministry of Industry and Information Technology",),
        ("工信部", "工业和信息化部", "工业与信息化部"),
    ),
    _agency(
        "gacc",
        ("General Administration of Customs", "customs administration"),
        ("海关总署",),
    ),
    _agency("mnr", ("Ministry of Natural Resources",), ("自然资源部", "国土资源部")),
    _agency(
        "ndrc",
        ("National Development and Reform Commission",),
        ("国家发改委", "国家发展改革委", "国家发展和改革委员会", "发改委"),
    ),
    _agency("state council", ("State Council",), ("国务院",)),
    # foreign agencies that Chinese reports name
    _agency(
        "us commerce department",
        ("Commerce Department", "Department of Commerce"),
        ("美国商务部",),
    ),
    _agency("bis", ("Bureau of Industry and Security",), ("工业与安全局", "工业和安全局")),
    _agency("jogmec", ("JOGMEC",), ("日本能源金属矿产资源机构", "日本石油天然气金属矿产资源机构")),
    # Chinese companies named by translation or by an older spelling in English
    Name(
        "cmoc",
        ("China Molybdenum", "Luoyang Molybdenum"),
        ("洛阳钼业", "洛钼集团", "洛阳栾川钼业"),
    ),
    Name("minmetals", ("Minmetals",), ("中国五矿", "五矿集团", "五矿资源")),
    Name("catl", ("Contemporary Amperex",), ("宁德时代",)),
    Name("byd", (), ("比亚迪",)),
    Name(
        "chinalco",
        ("Aluminum Corporation of China", "Aluminum Corp of China"),
        ("中铝", "中国铝业"),
    ),
    Name(
        "northern rare earth",
        ("Northern Rare Earth",),
        ("北方稀土", "中国北方稀土", "北方稀土集团"),
    ),
    Name(
        "china rare earth group",
        ("China Rare Earth Group",),
        ("中国稀土集团", "中稀集团"),
    ),
    Name("baogang", ("Baotou Steel", "Baogang"), ("包钢", "包头钢铁")),
    Name("xiamen tungsten", ("Xiamen Tungsten",), ("厦门钨业", "厦钨")),
    Name("sinomine", ("Sinomine",), ("中矿资源",)),
    Name("tsingshan", ("Tsingshan",), ("青山控股", "青山集团")),
    Name("smm", ("Shanghai Metals Market",), ("上海有色网",)),
    # foreign miners, producers and traders
    Name("glencore", (), ("嘉能可",)),
    Name("lynas", (), ("莱纳斯",)),
    Name("iluka", (), ("伊卢卡", "艾绿卡")),
    Name("albemarle", (), ("雅宝", "美国雅宝")),
    Name("mountain pass", ("Mountain Pass",), ("芒廷帕斯", "芒特帕斯")),
    Name("pilbara", (), ("皮尔巴拉",)),
    Name("freeport", ("Freeport-McMoRan", "Freeport McMoRan"), ("自由港", "自由港麦克莫兰")),
    Name("grasberg", (), ("格拉斯伯格",)),
    Name("vale", (), ("淡水河谷",)),
    Name("bhp", (), ("必和必拓",)),
    Name("tinto", ("Rio Tinto",), ("力拓",)),
    Name("anglo", ("Anglo American",), ("英美资源",)),
    Name("codelco", (), ("智利国家铜业", "智利国家铜矿")),
    Name("sqm", (), ("智利化工矿业",)),
    Name("kazatomprom", (), ("哈原工", "哈萨克斯坦国家原子能")),
    Name("cameco", (), ("卡梅科",)),
    Name("orano", (), ("欧安诺",)),
    Name("eramet", (), ("埃赫曼", "埃赫曼集团")),
    Name("umicore", (), ("优美科",)),
    Name("trafigura", (), ("托克",)),
    Name("ivanhoe", (), ("艾芬豪",)),
    Name("arafura", (), ("阿拉弗拉",)),
    Name("solvay", (), ("索尔维",)),
    Name("syrah", (), ("赛拉资源",)),
    Name("kamoa", (), ("卡莫阿",)),
    Name("kakula", (), ("卡库拉",)),
    Name("irel", ("Indian Rare Earths",), ("印度稀土公司",)),
    Name("nornickel", ("Norilsk Nickel", "Nornickel"), ("诺里尔斯克镍业", "诺镍")),
    Name("energy fuels", ("Energy Fuels",), ("能源燃料公司",)),
    Name("usa rare earth", ("USA Rare Earth",), ("美国稀土公司",)),
)

# The keys of agencies: every announcement, press conference and licence of a ministry
# names it, so two reports sharing one are not thereby reports of one event
AGENCIES = frozenset(name.key for name in NAMES if name.agency)
