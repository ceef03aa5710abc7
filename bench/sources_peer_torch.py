#!/usr/bin/env python3
"""bench/sources_peer_torch.py — the GPU peer of bench/sources_bench.sh: the
same debiased entropic Sinkhorn divergence as bench/sources_peer.py
(feature OT, cost |x-y|^2/2, eps = blur^2, eps from the cost's 2 x max
down by 0.25 per step, then alternating updates at the final eps until the
potentials move less than 1e-9, at most 2000 times; the self terms by the
averaged symmetric update), written in PyTorch the way geomloss's tensorised
backend is: the whole cost matrix on the device, each half step one
logsumexp over it. float64 by default (as winnow and the numpy peer);
--float32 for the fast, less exact variant. Written from the formulas.

Usage: sources_peer_torch.py [--device cuda|cpu] [--float32] BLUR TARGET.jsonl SOURCE.jsonl...
(records with winnow.emb); prints one line per source, one for the uniform
mixture, and the seconds of the computation alone (loading excluded) and
of the whole process so far.
"""
import sys
import time

T0 = time.perf_counter()
import torch  # noqa: E402

from sources_peer import eps_schedule, load  # noqa: E402  (the numpy peer, beside this file)


def cost(X, Y):
    C = 0.5 * ((X * X).sum(1)[:, None] + (Y * Y).sum(1)[None, :] - 2 * X @ Y.T)
    return C.clamp_min(0)


def softmin(C, lw, h, eps):  # -eps log sum_j exp(lw_j + (h_j - C_ij)/eps), per row
    return -eps * torch.logsumexp(lw[None, :] + (h[None, :] - C) / eps, dim=1)


def schedule(C, blur):
    return eps_schedule(float(C.max()), blur)


def ot(C, a, b, blur, tol=1e-9, iters=2000):
    la, lb, g = a.log(), b.log(), torch.zeros_like(b)
    for e in schedule(C, blur):
        f = softmin(C, lb, g, e)
        g = softmin(C.T, la, f, e)
    for _ in range(iters):
        f = softmin(C, lb, g, blur * blur)
        g2 = softmin(C.T, la, f, blur * blur)
        done = float((g2 - g).abs().max()) <= tol
        g = g2
        if done:
            break
    f = softmin(C, lb, g, blur * blur)
    return float(a @ f + b @ g)


def ot_sym(C, a, blur, tol=1e-9, iters=2000):
    la, f = a.log(), torch.zeros_like(a)
    for e in schedule(C, blur):
        f = 0.5 * (f + softmin(C, la, f, e))
    for _ in range(iters):
        f2 = 0.5 * (f + softmin(C, la, f, blur * blur))
        done = float((f2 - f).abs().max()) <= tol
        f = f2
        if done:
            break
    return float(2 * a @ f)


def divergence(X, a, Y, b, blur):
    return ot(cost(X, Y), a, b, blur) - 0.5 * ot_sym(cost(X, X), a, blur) - 0.5 * ot_sym(cost(Y, Y), b, blur)


def main():
    args = sys.argv[1:]
    dev, dt = "cuda", torch.float64
    while args and args[0].startswith("--"):
        if args[0] == "--device":
            dev, args = args[1], args[2:]
        elif args[0] == "--float32":
            dt, args = torch.float32, args[1:]
        else:
            sys.exit("unknown option " + args[0])
    blur = float(args[0])
    as_t = lambda x: torch.tensor(x, dtype=dt, device=dev)  # noqa: E731
    T = as_t(load(args[1]))
    S = [as_t(load(p)) for p in args[2:]]
    if dev == "cuda":
        torch.cuda.synchronize()
    t = time.perf_counter()
    b = torch.full((len(T),), 1 / len(T), dtype=dt, device=dev)
    for p, X in zip(args[2:], S):
        a = torch.full((len(X),), 1 / len(X), dtype=dt, device=dev)
        print("%-40s distance %.6f" % (p.rsplit("/", 1)[-1], divergence(X, a, T, b, blur)))
    X = torch.cat(S)
    a = torch.cat([torch.full((len(x),), 1 / (len(S) * len(x)), dtype=dt, device=dev) for x in S])
    print("uniform mixture distance %.6f" % divergence(X, a, T, b, blur))
    if dev == "cuda":
        torch.cuda.synchronize()
    now = time.perf_counter()
    print("torch %s %s: compute %.3f s, whole process %.3f s" % (dev, str(dt).replace("torch.", ""), now - t, now - T0))


main()
