#!/usr/bin/env python3
"""tests/peers/mig_peer.py — MIG (Chen et al. 2025) in plain Python, as the
issue states it, for tests/cli/t5410-select-mig.sh.

usage: mig_peer.py POOL.jsonl LABELVECS.jsonl BUDGET LABELS_FIELD QUALITY_PATH
                   [--norm] [--phi pow|exp] [--prop-weight W] [--threshold T]

LABELVECS.jsonl holds one record per label, {"text": label, "winnow":
{"emb": base64 float32}} (from `winnow embed`). Prints one line per pick:
"<record index> <gain>", in pick order.
"""
import base64
import json
import math
import struct
import sys


def get(d, path):
    for k in path.split("."):
        d = d[k]
    return d


def main():
    a = sys.argv[1:]
    pool, vecs, budget, lab_path, q_path = a[:5]
    budget = int(budget)
    opts = {"--norm": False, "--phi": "pow", "--prop-weight": 1.0, "--threshold": 0.9}
    i = 5
    while i < len(a):
        if a[i] == "--norm":
            opts["--norm"] = True
            i += 1
        else:
            opts[a[i]] = a[i + 1] if a[i] == "--phi" else float(a[i + 1])
            i += 2
    recs = [json.loads(l) for l in open(pool)]
    labs = []
    for r in recs:
        v = get(r, lab_path)
        labs.append(sorted(set([v] if isinstance(v, str) else v)))
    vocab = sorted({l for ls in labs for l in ls}, key=lambda s: s.encode())
    idx = {l: j for j, l in enumerate(vocab)}
    E = {}
    for line in open(vecs):
        r = json.loads(line)
        raw = base64.b64decode(r["winnow"]["emb"]["b64"])
        v = struct.unpack("<%df" % (len(raw) // 4), raw)
        n = math.sqrt(sum(x * x for x in v))
        E[r["text"]] = [x / n for x in v] if n > 0 else [0.0] * len(v)
    L = len(vocab)
    W = [[0.0] * L for _ in range(L)]
    for p in range(L):
        for q in range(L):
            w = 1.0 if p == q else sum(x * y for x, y in zip(E[vocab[p]], E[vocab[q]]))
            W[p][q] = w if (p == q or w >= opts["--threshold"]) else 0.0
    cs = [sum(W[p][q] for p in range(L)) for q in range(L)]
    P = [[W[p][q] / cs[q] * (1 if p == q else opts["--prop-weight"]) for q in range(L)]
         for p in range(L)]
    U = []
    for r, ls in zip(recs, labs):
        s = float(get(r, q_path))
        v = s / len(ls) if opts["--norm"] and ls else s
        U.append([sum(v * P[idx[l]][q] for l in ls) for q in range(L)])
    if opts["--phi"] == "exp":
        dphi = lambda x: math.exp(-x)
    else:
        dphi = lambda x: 0.8 * (x + 1e-6) ** -0.2
    x = [0.0] * L
    used = set()
    for _ in range(min(budget, len(recs))):
        d = [dphi(t) for t in x]
        best, bg = -1, -1.0
        for j, u in enumerate(U):
            if j in used:
                continue
            g = sum(a * b for a, b in zip(u, d) if a)
            if g > bg:
                best, bg = j, g
        used.add(best)
        x = [p + q for p, q in zip(x, U[best])]
        print(best, repr(bg))


main()
