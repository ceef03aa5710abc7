#!/usr/bin/env python3
"""tests/peers/semdedup_peer.py - the outside reference for
tests/cli/t5320-dedup-semantic.sh: SemDeDup as the official code computes it
(facebookresearch/SemDeDup: sort_clusters.py orders each cluster's members
by cosine distance to the centroid with Python's stable sorted(),
reverse=True (keep_hard); semdedup.py reverses that list for "easy" and takes S = X X^T, zeroes the diagonal,
keeps the upper triangle (torch.triu(S, diagonal=1)), M = column max, and
removes j when M[j] > 1 - eps), in float64 with the standard library only
(numpy is not installed here).

Centroids: the normalised mean of the normalised members of each cluster
(spherical k-means' centroid), or the rows of a float32 .npy.

Usage: semdedup_peer.py FILE hard|easy EPS[,EPS..] [CENTROIDS.npy]
Prints one JSON line per record: the list of keep flags, one per eps.
Exits 3 when some pair lies within 1e-6 of a threshold (float32 rounding
could then decide it either way: the case is not a fair test).
"""
import ast
import base64
import json
import math
import struct
import sys


def vector(e):
    if isinstance(e, list):
        return [float(x) for x in e]
    raw = base64.b64decode(e["b64"])
    return list(struct.unpack("<%df" % (len(raw) // 4), raw))


def unit(v):
    n = math.sqrt(sum(x * x for x in v))
    return [x / n for x in v] if n > 0 else [0.0] * len(v)


def npy(path):
    data = open(path, "rb").read()
    hlen = struct.unpack("<H", data[8:10])[0]
    head = ast.literal_eval(data[10:10 + hlen].decode())
    rows, cols = head["shape"]
    vals = struct.unpack("<%df" % (rows * cols), data[10 + hlen:10 + hlen + 4 * rows * cols])
    return [list(vals[r * cols:(r + 1) * cols]) for r in range(rows)]


def main():
    path, mode, eps = sys.argv[1], sys.argv[2], [float(x) for x in sys.argv[3].split(",")]
    cents = npy(sys.argv[4]) if len(sys.argv) > 4 else None
    recs = [json.loads(l)["winnow"] for l in open(path, encoding="utf-8") if l.strip()]
    X = [unit(vector(w["emb"])) for w in recs]
    members = {}
    for i, w in enumerate(recs):
        members.setdefault(w["cluster"], []).append(i)
    keep = [[True] * len(eps) for _ in recs]
    ambiguous = 0
    for cl, idx in members.items():
        d = len(X[0])
        if cents is None:
            c = [sum(X[i][t] for i in idx) for t in range(d)]
        else:
            c = cents[cl]
        c = unit(c)
        dist = {i: 1 - sum(a * b for a, b in zip(X[i], c)) for i in idx}
        order = sorted(idx, key=lambda i: dist[i], reverse=True)  # sort_clusters.py, keep_hard
        if mode == "easy":
            order = order[::-1]  # semdedup.py: which_to_keep == "easy"
        for j in range(len(order)):
            m = 0.0  # the zero-filled lower triangle and diagonal
            for i in range(j):
                s = sum(a * b for a, b in zip(X[order[i]], X[order[j]]))
                for e in eps:
                    ambiguous += abs(s - (1 - e)) < 1e-6
                m = max(m, s)
            for k, e in enumerate(eps):
                keep[order[j]][k] = not (m > 1 - e)
    for k in keep:
        print(json.dumps(k))
    if ambiguous:
        sys.stderr.write("semdedup_peer: %d pairs within 1e-6 of a threshold\n" % ambiguous)
        sys.exit(3)


main()
