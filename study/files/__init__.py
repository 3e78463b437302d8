"""A study's files and its tracking store: the config (:mod:`.config`) and the searchable
parameters, one row each (:mod:`.params`); the study directory, its info and its lock
(:mod:`.directory`); MLflow, owned by :mod:`.tracking`, and the names and links of its runs
(:mod:`.links`); the errors a study raises (:mod:`.errors`)."""
