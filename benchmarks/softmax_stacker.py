"""The stacker of ``benchmarks/acc_candidates.py``: a multinomial logistic regression in numpy
(scikit-learn is not a dependency)."""

from __future__ import annotations

import numpy as np


class Softmax:
    """Multinomial logistic regression (L2 ``l2``), full-batch Adam: the stacker."""

    def __init__(self, x, y, classes, l2=1e-3, steps=1500, rate=0.05):
        self.mean, self.scale = x.mean(0), x.std(0) + 1e-6
        x = (x - self.mean) / self.scale
        self.w, self.b = np.zeros((x.shape[1], classes)), np.zeros(classes)
        onehot = np.eye(classes)[y]
        m = [np.zeros_like(self.w), np.zeros_like(self.b)]
        v = [np.zeros_like(self.w), np.zeros_like(self.b)]
        for t in range(1, steps + 1):
            p = self._p(x)
            grads = [x.T @ (p - onehot) / len(x) + l2 * self.w, (p - onehot).mean(0)]
            for i, (param, g) in enumerate(zip((self.w, self.b), grads, strict=True)):
                m[i] = 0.9 * m[i] + 0.1 * g
                v[i] = 0.999 * v[i] + 0.001 * g * g
                param -= rate * (m[i] / (1 - 0.9**t)) / (np.sqrt(v[i] / (1 - 0.999**t)) + 1e-8)

    def _p(self, x):
        z = x @ self.w + self.b
        z = np.exp(z - z.max(1, keepdims=True))
        return z / z.sum(1, keepdims=True)

    def __call__(self, x):
        return self._p((x - self.mean) / self.scale)
