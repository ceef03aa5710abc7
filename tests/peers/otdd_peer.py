#!/usr/bin/env python3
"""tests/peers/otdd_peer.py — an independent pure-Python (no numpy here)
transcription of the label-aware OT dataset distance that `winnow sources
ot` computes, for tests/cli/t9000-sources.sh.

It follows otdd's distance.py as projektor calls it, written from the
formulas (not from winnow's C): ground cost |x-x'|^2/2 + W(y,y')/2, W the
non-debiased entropic OT between label clouds with cost |x-x'|^2 and
eps = inner_blur^2, W(y,y) = 0 within one file; the outer value is the
debiased Sinkhorn divergence with eps = blur^2, each OT read off the dual
<a,f> + <b,g> at convergence (the fixed point does not depend on the
schedule, so this peer anneals differently: eps from 1 down by x0.8).
The mixture gradient: dOT/dp_i = sum_{j in i} F_j/n_i - sum_{j not in i}
a_j F_j/(1-p_i), F = f_ab - f_aa.

Usage: otdd_peer.py BLUR INNER_BLUR LABEL|- TARGET SOURCE... ; prints JSON
{"sources": [...], "uniform": d, "gradient": [...]}.
"""
import base64
import json
import math
import struct
import sys


def load(path, label):
    X, Y = [], []
    for line in open(path):
        if not line.strip():
            continue
        r = json.loads(line)
        e = r["winnow"]["emb"]
        X.append(list(struct.unpack("<%df" % e["dim"], base64.b64decode(e["b64"]))))
        Y.append(r[label] if label else 0)
    return X, Y


def sq(x, y):
    return sum((a - b) * (a - b) for a, b in zip(x, y))


def softmin(C, lw, h, eps):
    out = []
    for row in C:
        v = [l + (hh - c) / eps for l, hh, c in zip(lw, h, row)]
        m = max(v)
        out.append(-eps * (m + math.log(sum(math.exp(t - m) for t in v))))
    return out


def transpose(C):
    return [list(col) for col in zip(*C)]


def schedule(eps):
    e, out = 1.0, []
    while e > eps:
        out.append(e)
        e *= 0.8
    return out


def sinkhorn(C, a, b, eps):
    la, lb = [math.log(t) for t in a], [math.log(t) for t in b]
    CT = transpose(C)
    g = [0.0] * len(b)
    for e in schedule(eps):
        f = softmin(C, lb, g, e)
        g = softmin(CT, la, f, e)
    f = softmin(C, lb, g, eps)
    for _ in range(100000):
        g = softmin(CT, la, f, eps)
        f2 = softmin(C, lb, g, eps)
        done = max(abs(x - y) for x, y in zip(f, f2)) < 1e-13
        f = f2
        if done:
            break
    f = softmin(C, lb, g, eps)
    return f, g, sum(x * y for x, y in zip(a, f)) + sum(x * y for x, y in zip(b, g))


def sinkhorn_sym(C, a, eps):
    """OT(a, a): the averaged update f <- (f + T(f)) / 2 (alternating
    updates on a symmetric problem crawl along the f - g direction)."""
    la = [math.log(t) for t in a]
    f = [0.0] * len(a)
    for e in schedule(eps) + [eps] * 100000:
        t = softmin(C, la, f, e)
        f2 = [(x + y) / 2 for x, y in zip(f, t)]
        done = e == eps and max(abs(x - y) for x, y in zip(f, f2)) < 1e-13
        f = f2
        if done:
            break
    return f, 2 * sum(x * y for x, y in zip(a, f))


def divergence(Cxy, Cxx, Cyy, a, b, eps):
    f, g, ab = sinkhorn(Cxy, a, b, eps)
    faa, aa = sinkhorn_sym(Cxx, a, eps)
    gbb, bb = sinkhorn_sym(Cyy, b, eps)
    return ab - aa / 2 - bb / 2, [x - y for x, y in zip(f, faa)]


def main():
    blur, iblur, label, target = float(sys.argv[1]), float(sys.argv[2]), sys.argv[3], sys.argv[4]
    label = None if label == "-" else label
    sets = [load(p, label) for p in sys.argv[5:]] + [load(target, label)]
    # classes: (set, label)
    cls = {}
    for s, (X, Y) in enumerate(sets):
        for x, y in zip(X, Y):
            cls.setdefault((s, y), []).append(x)
    W = {}
    if label:
        keys = list(cls)
        for i, u in enumerate(keys):
            for v in keys[i:]:
                if u == v:
                    W[u, v] = 0.0
                    continue
                A, B = cls[u], cls[v]
                C = [[sq(x, y) for y in B] for x in A]
                _, _, w = sinkhorn(C, [1 / len(A)] * len(A), [1 / len(B)] * len(B), iblur ** 2)
                W[u, v] = W[v, u] = w

    def cost(P, Q):
        return [[sq(x, y) / 2 + (W[(ps, py), (qs, qy)] / 2 if label else 0) for (qs, qy, y) in Q]
                for (ps, py, x) in P]

    pts = [[(s, y, x) for x, y in zip(X, Y)] for s, (X, Y) in enumerate(sets)]
    T = pts[-1]
    K = len(sets) - 1
    eps = blur ** 2
    Cyy = cost(T, T)
    M = len(T)
    dists = []
    for k in range(K):
        P = pts[k]
        n = len(P)
        d, _ = divergence(cost(P, T), cost(P, P), Cyy, [1 / n] * n, [1 / M] * M, eps)
        dists.append(d)
    pool = [p for k in range(K) for p in pts[k]]
    src = [k for k in range(K) for _ in pts[k]]
    cnt = [len(pts[k]) for k in range(K)]
    p = [1 / K] * K
    a = [p[s] / cnt[s] for s in src]
    d, F = divergence(cost(pool, T), cost(pool, pool), Cyy, a, [1 / M] * M, eps)
    grad = []
    for i in range(K):
        inn = sum(F[j] for j in range(len(pool)) if src[j] == i) / cnt[i]
        out = sum(a[j] * F[j] for j in range(len(pool)) if src[j] != i) / (1 - p[i])
        grad.append(inn - out)
    print(json.dumps({"sources": dists, "uniform": d, "gradient": grad}))


main()
