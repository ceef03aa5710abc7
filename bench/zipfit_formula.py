#!/usr/bin/env python3
"""bench/zipfit_formula.py — the honest ZIP-FIT baseline: the reference
formula (stair-lab/ZIP-FIT) in ONE plain Python process, at its best:
gzip.compress for every C(.), C(target) computed once per target and C(pool)
once per pool text, so the only per-pair work is C(pool+target) — exactly
what winnow computes per pair.

score(a) = mean over targets t of 1 - (C(a+t) - min(C(a), C(t))) / max(C(a), C(t))

usage: zipfit_formula.py POOL.jsonl TARGETS.jsonl [LEVEL] > scores.txt
Prints one repr score per pool text (the same numbers winnow writes).
"""
import gzip
import json
import sys


def texts(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line)["text"].encode("utf-8") for line in f if line.strip()]


def main():
    pool, targets = texts(sys.argv[1]), texts(sys.argv[2])
    level = int(sys.argv[3]) if len(sys.argv) > 3 else 9
    tsize = [(t, len(gzip.compress(t, compresslevel=level))) for t in targets]
    out = []
    for a in pool:
        ca = len(gzip.compress(a, compresslevel=level))
        s = 0.0
        for t, ct in tsize:
            cab = len(gzip.compress(a + t, compresslevel=level))
            s += 1.0 - (cab - min(ca, ct)) / max(ca, ct)
        out.append(repr(s / len(tsize)))
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
