#!/usr/bin/env python3
"""bench/select_cluster_peer.py — the reference formulas of SSL prototypes
and DBP (amro-kamal/effective_pruning: d_intra, d_inter over the 20 nearest
centroids, softmax, QP quotas) in numpy on the vectors and cluster ids that
bench/select_cluster_bench.sh gives winnow, timed in the same run. The QP
is solved exactly by bisection on the water level (what OSQP approximates),
then np.rint as the reference.

usage: select_cluster_peer.py VECS.npy IDS.txt KEEP_FRAC  -> one JSON line
"""
import json, sys, time
import numpy as np

X = np.load(sys.argv[1]).astype(np.float64)
cl = np.loadtxt(sys.argv[2], dtype=np.int64)
frac = float(sys.argv[3])
t0 = time.perf_counter()
nrm = np.linalg.norm(X, axis=1)
X, cl = X[nrm > 0], cl[nrm > 0]  # a zero vector has no direction: winnow rejects it (--on-error skip)
X /= nrm[nrm > 0][:, None]
k = int(cl.max()) + 1
S = np.zeros((k, X.shape[1])); np.add.at(S, cl, X)
size = np.bincount(cl, minlength=k)
C = S / np.maximum(np.linalg.norm(S, axis=1, keepdims=True), 1e-300)
dist = 1 - np.einsum("ij,ij->i", X, C[cl])
t_proto0 = time.perf_counter()
M = int(frac * len(X))
hard = np.argsort(-dist, kind="stable")[:M]
t_proto = time.perf_counter() - t_proto0
present = np.flatnonzero(size > 0)
Cp = C[present]
G = Cp @ Cp.T
np.fill_diagonal(G, -np.inf)
nn = min(20, len(present) - 1)
top = -np.sort(-G, axis=1)[:, :nn]
d_inter = (1 - top).mean(axis=1)
d_intra = np.bincount(cl, weights=dist, minlength=k)[present] / size[present]
c = d_inter * d_intra
c[~np.isfinite(c)] = np.nanmean(c)
p = np.exp((c - c.max()) / 0.5); p /= p.sum()
lb = np.minimum(int(M / len(present) * 0.5), size[present] - 1).astype(float)
ub = size[present].astype(float)
want = M * p
lo, hi = (want - ub).min() - 1, (want - lb).max() + 1
for _ in range(200):
    mid = (lo + hi) / 2
    if np.clip(want - mid, lb, ub).sum() > M: lo = mid
    else: hi = mid
q = np.rint(np.clip(want - hi, lb, ub)).astype(int)
t = time.perf_counter() - t0
print(json.dumps({"seconds": t, "prototypes_seconds": t_proto, "M": M, "quota_sum": int(q.sum()),
                  "quotas": q.tolist()}))
