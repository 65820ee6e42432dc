"""Classification: rules × item → signals, each explained by its evidence.

`text` splits sentences, `matcher` finds every term in one pass, `lexicon` names the
entities, `engine` applies the rules.
"""
