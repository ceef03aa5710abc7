#!/usr/bin/env python3
"""bench/sources_peer.py — the numpy peer of bench/sources_bench.sh: the
debiased entropic Sinkhorn divergence (feature OT, cost |x-y|^2/2, eps =
blur^2) of each source and of the uniform mixture to the target, in
float64 numpy, with the same schedule as winnow (eps from the cost's
2 x max down by scaling^2 = 0.25 per step, then alternating updates at the
final eps until the potentials move less than 1e-9, at most 2000 times;
the self terms by the averaged symmetric update). Written from the
formulas, not from winnow's C.

Usage: sources_peer.py BLUR TARGET.jsonl SOURCE.jsonl... (records with
winnow.emb); prints one line per source and one for the uniform mixture.
"""
import base64
import json
import sys

import numpy as np


def load(path):
    rows = []
    for line in open(path):
        if line.strip():
            e = json.loads(line)["winnow"]["emb"]
            rows.append(np.frombuffer(base64.b64decode(e["b64"]), dtype="<f4"))
    return np.array(rows, dtype=np.float64)


def cost(X, Y):
    C = 0.5 * ((X * X).sum(1)[:, None] + (Y * Y).sum(1)[None, :] - 2 * X @ Y.T)
    return np.maximum(C, 0)


def softmin(C, lw, h, eps):  # -eps log sum_j exp(lw_j + (h_j - C_ij)/eps), per row
    V = lw[None, :] + (h[None, :] - C) / eps
    m = V.max(1)
    return -eps * (m + np.log(np.exp(V - m[:, None]).sum(1)))


def eps_schedule(cmax, blur):  # the annealed eps from 2 x the cost's max down to blur^2
    d2, b2, eps, out = 2 * cmax, blur * blur, None, []
    k = 0
    while True:
        eps = max(d2 * 0.25 ** k, b2)
        if eps <= b2:
            return out
        out.append(eps)
        k += 1


def schedule(C, blur):
    return eps_schedule(C.max(), blur)


def ot(C, a, b, blur, tol=1e-9, iters=2000):
    la, lb, g = np.log(a), np.log(b), np.zeros(len(b))
    for e in schedule(C, blur):
        f = softmin(C, lb, g, e)
        g = softmin(C.T, la, f, e)
    for _ in range(iters):
        f = softmin(C, lb, g, blur * blur)
        g2 = softmin(C.T, la, f, blur * blur)
        done = np.abs(g2 - g).max() <= tol
        g = g2
        if done:
            break
    f = softmin(C, lb, g, blur * blur)
    return a @ f + b @ g


def ot_sym(C, a, blur, tol=1e-9, iters=2000):
    la, f = np.log(a), np.zeros(len(a))
    for e in schedule(C, blur):
        f = 0.5 * (f + softmin(C, la, f, e))
    for _ in range(iters):
        f2 = 0.5 * (f + softmin(C, la, f, blur * blur))
        done = np.abs(f2 - f).max() <= tol
        f = f2
        if done:
            break
    return 2 * a @ f


def divergence(X, a, Y, b, blur):
    return ot(cost(X, Y), a, b, blur) - 0.5 * ot_sym(cost(X, X), a, blur) - 0.5 * ot_sym(cost(Y, Y), b, blur)


def main():
    blur, T = float(sys.argv[1]), load(sys.argv[2])
    S = [load(p) for p in sys.argv[3:]]
    b = np.full(len(T), 1 / len(T))
    for p, X in zip(sys.argv[3:], S):
        print("%-40s distance %.6f" % (p.rsplit("/", 1)[-1], divergence(X, np.full(len(X), 1 / len(X)), T, b, blur)))
    X = np.vstack(S)
    a = np.concatenate([np.full(len(x), 1 / (len(S) * len(x))) for x in S])
    print("uniform mixture distance %.6f" % divergence(X, a, T, b, blur))


if __name__ == "__main__":
    main()
