"""Built-in entity vocabulary: rare-earth elements, products, countries (English and Chinese).

One vocabulary for the whole service: the classifier finds these entities in text, and
the config reads subscribers' `elements:` and `countries:` filters with the same names
(`watcher.domain.entity_names`). Each canonical name maps to the terms that mean it.
Terms use the concept syntax of the rules (`*` for inflection); chemical symbols are
matched case-sensitively and separately, since `Dy` or `La` in lower case is ordinary
text.
"""

from __future__ import annotations

ELEMENTS: dict[str, list[str]] = {
    "La": ["lanthanum", "镧"],
    "Ce": ["cerium", "铈"],
    "Pr": ["praseodymium", "镨"],
    "Nd": ["neodymium", "钕"],
    "Pm": ["promethium", "钷"],
    "Sm": ["samarium", "钐"],
    "Eu": ["europium", "铕"],
    "Gd": ["gadolinium", "钆"],
    "Tb": ["terbium", "铽"],
    "Dy": ["dysprosium", "镝"],
    "Ho": ["holmium", "钬"],
    "Er": ["erbium", "铒"],
    "Tm": ["thulium", "铥"],
    "Yb": ["ytterbium", "镱"],
    "Lu": ["lutetium", "镥"],
    "Sc": ["scandium", "钪"],
    "Y": ["yttrium", "钇"],
}

# Symbols and compounds that name elements when written with their exact case.
SYMBOLS: dict[str, list[str]] = {
    **{symbol: [symbol] for symbol in ELEMENTS if len(symbol) == 2},
    "Pr+Nd": ["PrNd", "NdPr", "Pr-Nd", "Nd-Pr"],
    "Y": ["Y2O3"],
    "Dy+Tb": ["DyTb"],
}

# Other critical minerals that share the same supply-shock vocabulary.
MINERALS: dict[str, list[str]] = {
    "Ga": ["gallium", "镓"],
    "Ge": ["germanium", "锗"],
    "Sb": ["antimony", "锑"],
    "W": ["tungsten", "钨"],
    "C (graphite)": ["graphite", "石墨"],
    "Li": ["lithium", "锂"],
    "Co": ["cobalt", "钴"],
    "In": ["indium", "铟"],
    "Bi": ["bismuth", "铋"],
    "Mo": ["molybdenum", "钼"],
}

PRODUCTS: dict[str, list[str]] = {
    "oxide": ["oxide*", "氧化物", "氧化镝", "氧化铽", "氧化镨钕"],
    "metal": ["rare earth metal*", "metal*", "金属"],
    "NdFeB magnet": [
        "ndfeb",
        "neodymium iron boron",
        "neodymium magnet*",
        "permanent magnet*",
        "rare earth magnet*",
        "magnet*",
        "钕铁硼",
        "磁材",
        "永磁",
        "磁体",
    ],
    "concentrate": ["concentrate*", "精矿"],
    "carbonate": ["carbonate*", "碳酸稀土"],
    "ion-adsorption clay": [
        "ion adsorption",
        "ionic clay*",
        "ionic ore*",
        "clay deposit*",
        "离子型",
        "离子吸附",
    ],
    "scrap": ["scrap*", "swarf", "sludge", "废料", "废钕铁硼"],
    "ore": ["ore", "ores", "feedstock*", "原矿", "矿石"],
}

COUNTRIES: dict[str, list[str]] = {
    "China": ["china", "chinese", "beijing", "mofcom", "中国", "商务部", "我国"],
    "Myanmar": ["myanmar", "burma", "burmese", "kachin", "缅甸", "克钦"],
    "Laos": ["laos", "lao", "老挝"],
    "Malaysia": ["malaysia", "malaysian", "马来西亚"],
    "Vietnam": ["vietnam", "vietnamese", "越南"],
    "Thailand": ["thailand", "泰国"],
    "United States": ["united states", "u.s.", "america", "american", "washington", "美国"],
    "Australia": ["australia", "australian", "澳大利亚"],
    "Japan": ["japan", "japanese", "日本"],
    "European Union": ["european union", "europe", "european", "欧盟", "欧洲"],
    "India": ["india", "indian", "印度"],
    "Brazil": ["brazil", "brazilian", "巴西"],
    "Russia": ["russia", "russian", "俄罗斯"],
    "Greenland": ["greenland", "格陵兰"],
    "Canada": ["canada", "canadian", "加拿大"],
    "South Korea": ["south korea", "korean", "韩国"],
    "Democratic Republic of Congo": ["congo", "drc", "刚果"],
    "Indonesia": ["indonesia", "indonesian", "印尼", "印度尼西亚"],
}

# Country abbreviations that are only names in capitals ("US", not "us").
CASED_COUNTRIES: dict[str, list[str]] = {
    "China": ["PRC"],
    "United States": ["US", "USA"],
    "European Union": ["EU"],
    "United Kingdom": ["UK"],
}
