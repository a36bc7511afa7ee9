"""Which prepared rows train and which validate (pure NumPy).

Kept hand-written rather than scikit-learn's ``train_test_split(stratify=...)``: that one
refuses a class with a single training row ("The least populated class in y has only 1
member"), where mmcli keeps such a row for training and validates on the others.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from mmcli.data.dataset import Dataset

if TYPE_CHECKING:
    from mmcli.tasks.base import Targets


@dataclass(frozen=True)
class Split:
    """The rows a run trains and validates on, and every example's targets."""

    train: np.ndarray
    val: np.ndarray
    targets: Targets  # from the task (mmcli.tasks), for every example

    @property
    def scored(self) -> np.ndarray:
        """The rows the validation report scores: validation, else training rows."""
        return self.val if len(self.val) else self.train


def split_indices(data: Dataset, val_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Training and validation positions ``(train, val)``, sorted. Test rows are never returned.

    Validation is the table's ``val`` rows when it has any, else a stratified
    ``val_fraction`` of the training rows (seeded): per label, round(count * fraction) rows,
    leaving at least one row of each label for training.
    """
    frame = data.examples
    labelled = frame["label"].notna().to_numpy()
    train = np.flatnonzero((frame["split"] == "train").to_numpy() & labelled)
    val = np.flatnonzero((frame["split"] == "val").to_numpy() & labelled)
    if len(val) or val_fraction == 0:
        return train, val
    rng = np.random.default_rng(seed)
    labels = frame["label"].to_numpy()[train]
    chosen = []
    for label in sorted(set(labels)):
        members = train[labels == label]
        members = members[rng.permutation(len(members))]
        take = int(round(len(members) * val_fraction))
        if len(members) - take >= 1:
            chosen.extend(members[:take])
    val = np.sort(np.array(chosen, dtype=np.int64))
    return np.setdiff1d(train, val), val
