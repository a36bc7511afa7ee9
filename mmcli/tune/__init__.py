"""``mmcli tune``'s parts (the api layer: its objective runs :func:`mmcli.api.train.train`):
the search space, one trial, the study's storage, and the files written. Optuna is imported
only inside functions, so ``mmcli --help`` never loads it."""
