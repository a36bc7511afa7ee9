"""Text: a score per token by leave-one-token-out occlusion.

The text is split on whitespace (the vectorizers' own split), each of the first
``max_tokens`` tokens is left out in turn, and its score is the target probability with the
whole text minus the probability without that token: positive when the token supports the
target. Works with every text encoder (bag of words, embeddings, convolutions, attention),
since only the model's string input changes (a KerasHub encoder's features are computed
again for the variants). A frozen image backbone's features are reused
(:class:`~mmcli.model.explain.forward.Forward`), so each variant costs one head pass.
"""

from __future__ import annotations

import numpy as np

from mmcli import modalities
from mmcli.model.explain.base import Context, Inside, take


def occlusions(text: str, limit: int) -> tuple[list[str], list[str]]:
    """The tokens of ``text`` (whitespace split) and, for each of the first ``limit``, the
    text without it."""
    tokens = str(text).split()
    return tokens, [" ".join(tokens[:i] + tokens[i + 1:]) for i in range(min(limit,
                                                                                len(tokens)))]


class TextExplainer:
    """The text kind's explainer: leave-one-token-out occlusion."""

    method = "token_occlusion"

    def __call__(self, context: Context, name: str, inputs: dict,
                 target: np.ndarray) -> list[Inside]:
        forward = context.forward
        prepared = forward.prepare(inputs)
        full = forward.proba(prepared)[np.arange(len(target)), target]
        owner, variants, per_row = [], [], []
        for r, text in enumerate(inputs[name]):
            tokens, texts = occlusions(text, context.settings.max_tokens)
            per_row.append(tokens)
            owner += [r] * len(texts)
            variants += texts
        scores = np.zeros(0)
        if variants:
            index = np.array(owner)
            batch = take(prepared, index)
            variants = np.array(variants, dtype=object)
            if name in forward.extractors:  # a KerasHub encoder: the variants' features
                batch[modalities.features_key(name)] = forward.features(name, variants)
            else:
                batch[name] = variants
            scores = full[index] - forward.proba(batch)[np.arange(len(index)), target[index]]
        out, at = [], 0
        for tokens in per_row:
            scored = min(len(tokens), context.settings.max_tokens)
            pairs = tuple((tok, round(float(s), 6))
                          for tok, s in zip(tokens[:scored], scores[at:at + scored], strict=True))
            at += scored
            out.append(Inside(tokens=pairs, notes={
                "method": self.method, "tokens_scored": scored, "tokens": len(tokens)}))
        return out
