#!/usr/bin/env python3
"""bench/zipfit_fidelity.py — how well a fast ZIP-FIT mode ranks like the
exact one: Spearman rank correlation of two score columns (one float per
line, same pool order) and the overlap of their top-10% selections (ties
broken by pool order, as `winnow select --top` does).

usage: zipfit_fidelity.py EXACT.txt FAST.txt   (needs numpy and scipy)
Prints "spearman R top10_overlap F".
"""
import sys

import numpy as np
from scipy.stats import spearmanr


def top(v, k):
    return set(np.argsort(-v, kind="stable")[:k])


def main():
    a, b = np.loadtxt(sys.argv[1]), np.loadtxt(sys.argv[2])
    k = max(1, len(a) // 10)
    print("spearman %.4f top10_overlap %.3f" % (spearmanr(a, b).correlation,
                                                 len(top(a, k) & top(b, k)) / k))


if __name__ == "__main__":
    main()
