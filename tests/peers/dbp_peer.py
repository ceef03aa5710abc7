#!/usr/bin/env python3
"""tests/peers/dbp_peer.py — Density-Based Pruning's quotas and the SSL
prototypes' distances recomputed in plain Python (no numpy) from clustered
records, as an outside reference for `winnow select dbp` / `select
prototypes` (tests/cli/t5120). Formulas as amro-kamal/effective_pruning's
prune.py and compute_centroid_distances.py, with the exact projection found
by bisection on the water level (instead of OSQP) and Python's round()
(half to even, as np.rint), then moved by one toward M as winnow documents.

usage: dbp_peer.py FILE KEEP_FRAC [TEMPERATURE NEIGHBOURS BALANCE]
prints JSON: {"M":..,"clusters":[{"cluster","size","d_intra","d_inter","quota"}],
              "dist": [per record 1 - cos to its own spherical centroid]}
"""
import base64, json, math, struct, sys

def vec(w):
    e = w["emb"]
    if isinstance(e, list):
        return [float(x) for x in e]
    raw = base64.b64decode(e["b64"])
    return list(struct.unpack("<%df" % e["dim"], raw))

def unit(v):
    n = math.sqrt(sum(x * x for x in v))
    return [x / n for x in v] if n > 0 else v

path, frac = sys.argv[1], float(sys.argv[2])
tau, nn, bal = (float(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])) if len(sys.argv) > 5 else (0.5, 20, 0.5)
recs = [json.loads(l)["winnow"] for l in open(path)]
X = [unit(vec(w)) for w in recs]
cl = [w["cluster"] for w in recs]
ids = sorted(set(cl))
d = len(X[0])
C = {}
for j in ids:
    s = [0.0] * d
    for x, c in zip(X, cl):
        if c == j:
            s = [a + b for a, b in zip(s, x)]
    C[j] = unit(s)
dist = [1 - sum(a * b for a, b in zip(x, C[c])) for x, c in zip(X, cl)]
size = {j: cl.count(j) for j in ids}
intra = {j: sum(dd for dd, c in zip(dist, cl) if c == j) / size[j] for j in ids}
inter = {}
for j in ids:
    sims = sorted(((-sum(a * b for a, b in zip(C[j], C[l])), l) for l in ids if l != j))
    near = sims[:nn]
    inter[j] = sum(1 + s for s, _ in near) / len(near) if near else float("nan")
comp = {j: inter[j] * intra[j] for j in ids}
fin = [v for v in comp.values() if math.isfinite(v)]
comp = {j: v if math.isfinite(v) else (sum(fin) / len(fin) if fin else 0) for j, v in comp.items()}
mx = max(comp.values())
ex = {j: math.exp((comp[j] - mx) / tau) for j in ids}
Z = sum(ex.values())
n = len(X)
M = int(math.floor(frac * n + 1e-9))
k = len(ids)
ms = int(M / k * bal) if bal > 0 else 1
lb = {j: min(ms, size[j] - 1) for j in ids}
want = {j: M * ex[j] / Z for j in ids}
f = lambda L: sum(min(max(want[j] - L, lb[j]), size[j]) for j in ids)
lo, hi = min(want[j] - size[j] for j in ids) - 1, max(want[j] - lb[j] for j in ids) + 1
for _ in range(200):
    mid = (lo + hi) / 2
    if f(mid) > M:
        lo = mid
    else:
        hi = mid
x = {j: min(max(want[j] - hi, lb[j]), size[j]) for j in ids}
q = {j: min(max(round(x[j]), lb[j]), size[j]) for j in ids}
while sum(q.values()) != M:
    up = sum(q.values()) < M
    cand = [j for j in ids if (q[j] < size[j] if up else q[j] > lb[j])]
    key = (lambda j: (-(x[j] - q[j]), j)) if up else (lambda j: (x[j] - q[j], j))
    j = min(cand, key=key)
    q[j] += 1 if up else -1
print(json.dumps({"M": M, "clusters": [{"cluster": j, "size": size[j], "d_intra": intra[j],
                  "d_inter": inter[j], "quota": q[j]} for j in ids], "dist": dist}))
