#!/usr/bin/env python3
"""bench/sensitivity_peer.py - the numpy peers of bench/sensitivity_bench.sh
(issue 19), timed in the same run as winnow on the same float32 .npy:

  leverage-qr VECS OUT       squared row norms of Q from numpy.linalg.qr (thin), float64
  leverage-chol VECS OUT     Cholesky of A^T A, then row norms of A L^-T (the two GEMM passes)
  lewis VECS P OUT [TOL [MAX_ITER]]
                             l_p Lewis weights, Cohen-Peng w <- tau(W^(1-2/p))^(p/2) from w = 1
                             until the largest relative change is <= TOL (default 1e-12), at
                             most MAX_ITER iterations (default 1000; "converged" says which
                             stopped it; p < 4). Winnow's rule for a zero row (an all-zero
                             hash embedding): tau = 0, so w = 0, its factor w^(1-2/p) is 0
                             (not inf), and its relative change is not counted
  fl VECS M K OUT [IDS]      facility location by apricot's rule: cosine kNN graph (K
                             neighbours, brute force in blocks, sim = max(0, cos), self 1),
                             lazy greedy with a priority queue of stale gains (ties to the
                             smaller index); IDS: winnow's selection (0-based rows, one per
                             line) whose objective is then computed on the same graph
Each prints one JSON line (seconds of the computation itself, not the load)
and writes the scores (one per row, repr) or the rows chosen, in order, to OUT.
"""
import heapq
import json
import sys
import time

import numpy as np


def load(path):
    return np.load(path).astype(np.float64)


def leverage_qr(A):
    Q, _ = np.linalg.qr(A, mode="reduced")
    return np.einsum("ij,ij->i", Q, Q)


def leverage_chol(A, f=None):
    B = A if f is None else A * np.sqrt(f)[:, None]
    L = np.linalg.cholesky(B.T @ B)
    Y = np.linalg.solve(L, A.T).T  # A L^-T
    return np.einsum("ij,ij->i", Y, Y)


def lewis(A, p, tol=1e-12, max_iter=1000):
    """(w, iterations, converged, last change); zero rows as selectors/sensitivity.c."""
    w = np.ones(A.shape[0])
    change = np.inf
    for it in range(1, max_iter + 1):
        pos = w > 0
        f = np.zeros_like(w)
        f[pos] = w[pos] ** (1 - 2 / p)
        tau = leverage_chol(A, f)
        nw = np.maximum(tau, 0) ** (p / 2)
        change = float(np.max(np.abs(nw[pos] - w[pos]) / w[pos])) if pos.any() else 0.0
        w = nw
        if change <= tol:
            return w, it, True, change
    return w, max_iter, False, change


def knn_graph(A, k, block=1024):  # 1024 x n float32 similarities at a time
    X = A / np.maximum(np.linalg.norm(A, axis=1, keepdims=True), 1e-300)
    X = X.astype(np.float32)
    n = X.shape[0]
    kk = min(k + 1, n)
    nbr = np.empty((n, kk), dtype=np.int64)
    sim = np.empty((n, kk), dtype=np.float32)
    for s in range(0, n, block):
        S = X[s:s + block] @ X.T
        kth = np.partition(S, n - kk, axis=1)[:, n - kk]  # the kk-th largest of each row
        for r in range(S.shape[0]):  # best first, ties to the smaller index (as winnow)
            cand = np.nonzero(S[r] >= kth[r])[0]
            order = np.lexsort((cand, -S[r, cand]))[:kk]
            nbr[s + r] = cand[order]
            sim[s + r] = S[r, cand[order]]
    # by candidate j: (i, sim(i, j)) for j in N(i), plus (j, j, 1)
    rows = np.repeat(np.arange(n), kk)
    cols = nbr.ravel()
    vals = sim.ravel().astype(np.float64)
    keep = (cols != rows) & (vals > 0)
    rows, cols, vals = rows[keep], cols[keep], vals[keep]
    rows = np.concatenate([rows, np.arange(n)])
    cols = np.concatenate([cols, np.arange(n)])
    vals = np.concatenate([vals, np.ones(n)])
    order = np.lexsort((rows, cols))
    rows, cols, vals = rows[order], cols[order], vals[order]
    start = np.searchsorted(cols, np.arange(n + 1))
    return start, rows, vals


def fl_lazy(graph, n, m):
    start, who, sim = graph
    cur = np.zeros(n)

    def gain(j):
        a, b = start[j], start[j + 1]
        return float(np.maximum(sim[a:b] - cur[who[a:b]], 0).sum())

    heap = [(-gain(j), j) for j in range(n)]
    evals = n
    heapq.heapify(heap)
    chosen, objective, obj = [], [], 0.0
    while heap and len(chosen) < m:
        negg, j = heapq.heappop(heap)
        g = gain(j)
        evals += 1
        if not heap or (-g, j) <= heap[0]:
            a, b = start[j], start[j + 1]
            cur[who[a:b]] = np.maximum(cur[who[a:b]], sim[a:b])
            obj += g
            chosen.append(j)
            objective.append(obj)
        else:
            heapq.heappush(heap, (-g, j))
    return chosen, objective, evals


def value(graph, n, S):
    start, who, sim = graph
    cur = np.zeros(n)
    for j in S:
        a, b = start[j], start[j + 1]
        cur[who[a:b]] = np.maximum(cur[who[a:b]], sim[a:b])
    return float(cur.sum())


def save(path, v, as_int=False):
    with open(path, "w") as f:
        for x in v:
            f.write((str(int(x)) if as_int else repr(float(x))) + "\n")


def main():
    what, vecs = sys.argv[1], sys.argv[2]
    A = load(vecs)
    t0 = time.perf_counter()
    out = {"peer": what, "n": A.shape[0], "dim": A.shape[1]}
    if what == "leverage-qr":
        v = leverage_qr(A)
    elif what == "leverage-chol":
        v = leverage_chol(A)
    elif what == "lewis":
        tol = float(sys.argv[5]) if len(sys.argv) > 5 else 1e-12
        cap = int(sys.argv[6]) if len(sys.argv) > 6 else 1000
        v, out["iterations"], out["converged"], out["change"] = lewis(A, float(sys.argv[3]), tol, cap)
        out["zero_rows"] = int(np.count_nonzero(~A.any(axis=1)))
        out["sum"] = float(v.sum())
    elif what == "fl":
        m, k = int(sys.argv[3]), int(sys.argv[4])
        g = knn_graph(A, k)
        t1 = time.perf_counter()
        chosen, objective, out["evaluations"] = fl_lazy(g, A.shape[0], m)
        out["graph_seconds"] = t1 - t0
        out["greedy_seconds"] = time.perf_counter() - t1
        out["objective"] = objective[-1] if objective else 0.0
        if len(sys.argv) > 6:
            S = [int(x) for x in open(sys.argv[6])]
            out["winnow_objective_on_peer_graph"] = value(g, A.shape[0], S)
            out["same_set"] = sorted(S) == sorted(chosen)
        v = chosen
    else:
        raise SystemExit("unknown peer " + what)
    out["seconds"] = time.perf_counter() - t0
    save(sys.argv[5] if what == "fl" else sys.argv[4] if what == "lewis" else sys.argv[3], v,
         what == "fl")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
