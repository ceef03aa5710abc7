#!/usr/bin/env python3
"""tests/peers/sensitivity_peer.py - the outside reference for
tests/cli/t8000-sensitivity.sh: leverage, ridge leverage, l_p Lewis weights
and the lightweight k-means q of the winnow.emb vectors of a JSONL file, in
float64 with python3's standard library only (numpy is not installed here).

Gauss-Jordan inversion with partial pivoting of the d x d Gram matrix; Lewis
weights by the plain Cohen-Peng iteration w <- tau(w)^(p/2) from w = 1 for
p < 4 (run until the relative change is below 1e-14).

Usage: sensitivity_peer.py leverage|ridge L|lewis P|q|bicriteria C1,C2,.. FILE
Prints one value per record, repr-formatted.
"""
import base64
import json
import struct
import sys


def vectors(path):
    rows = []
    for line in open(path, encoding="utf-8"):
        e = json.loads(line)["winnow"]["emb"]
        raw = base64.b64decode(e["b64"])
        rows.append(list(struct.unpack("<%df" % (len(raw) // 4), raw)))
    return rows


def inverse(m):
    d = len(m)
    a = [row[:] + [1.0 if i == j else 0.0 for j in range(d)] for i, row in enumerate(m)]
    for c in range(d):
        p = max(range(c, d), key=lambda r: abs(a[r][c]))
        a[c], a[p] = a[p], a[c]
        piv = a[c][c]
        a[c] = [x / piv for x in a[c]]
        for r in range(d):
            if r != c and a[r][c] != 0.0:
                f = a[r][c]
                a[r] = [x - f * y for x, y in zip(a[r], a[c])]
    return [row[d:] for row in a]


def taus(A, f=None, ridge=0.0):
    d = len(A[0])
    G = [[0.0] * d for _ in range(d)]
    for i, a in enumerate(A):
        s = 1.0 if f is None else f[i]
        for j in range(d):
            sa = s * a[j]
            row = G[j]
            for k in range(d):
                row[k] += sa * a[k]
    for j in range(d):
        G[j][j] += ridge
    M = inverse(G)
    out = []
    for a in A:
        v = [sum(M[j][k] * a[k] for k in range(d)) for j in range(d)]
        out.append(sum(x * y for x, y in zip(a, v)))
    return out


def lewis(A, p):
    w = [1.0] * len(A)
    for _ in range(500):
        t = taus(A, [x ** (1 - 2 / p) for x in w])
        nw = [x ** (p / 2) for x in t]
        change = max(abs(a - b) / b for a, b in zip(nw, w))
        w = nw
        if change < 1e-14:
            break
    return w


def lightweight(A):
    n, d = len(A), len(A[0])
    mu = [sum(a[j] for a in A) / n for j in range(d)]
    d2 = [sum((a[j] - mu[j]) ** 2 for j in range(d)) for a in A]
    s = sum(d2)
    return [0.5 / n + 0.5 * x / s for x in d2]


def bicriteria(A, centers):
    """Bachem, Lucic, Krause 2017, algorithm 2, from the given centre rows."""
    import math
    n, k = len(A), len(centers)
    C = [A[c] for c in centers]
    dist, assign = [], []
    for a in A:
        ds = [sum((x - y) ** 2 for x, y in zip(a, c)) for c in C]
        j = min(range(k), key=lambda t: (ds[t], t))
        dist.append(ds[j])
        assign.append(j)
    size = [assign.count(j) for j in range(k)]
    csum = [sum(d for d, b in zip(dist, assign) if b == j) for j in range(k)]
    alpha = 16 * (math.log(k) + 2)
    cphi = sum(dist) / n
    s = [alpha * d / cphi + 2 * alpha * csum[b] / (size[b] * cphi) + 4 * n / size[b]
         for d, b in zip(dist, assign)]
    t = sum(s)
    return [x / t for x in s]


def main():
    what, path = sys.argv[1], sys.argv[-1]
    A = vectors(path)
    if what == "leverage":
        v = taus(A)
    elif what == "ridge":
        v = taus(A, ridge=float(sys.argv[2]))
    elif what == "lewis":
        v = lewis(A, float(sys.argv[2]))
    elif what == "bicriteria":
        v = bicriteria(A, [int(c) for c in sys.argv[2].split(",")])
    else:
        v = lightweight(A)
    for x in v:
        print(repr(x))


if __name__ == "__main__":
    main()
