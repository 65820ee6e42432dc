"""Classification: rules × item → signals, each explained by its evidence.

`text` splits sentences and folds text, `matcher` finds every term in one pass,
`watcher.domain.vocabulary` names the entities (the config's filters share it),
`rules` decides per sentence whether a rule fires, `engine` folds that into signals,
`severity` grades them, `report` explains them, `lint` warns of rules that cannot work,
and `evaluate` measures the rules on a labelled set.
"""
