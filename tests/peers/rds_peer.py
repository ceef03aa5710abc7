#!/usr/bin/env python3
"""tests/peers/rds_peer.py — RDS+'s round-robin (Ivison et al. 2025) in plain
Python, as issue 20 states it, for tests/cli/t5420-select-rds.sh.

usage: rds_peer.py POOL.jsonl TARGET.jsonl BUDGET [TASK_FIELD]

Both files carry winnow.emb (base64 float32). Scores are cosines in double
precision; a task's score is the max over its queries; every task ranks the
pool best first (ties to the lower index); round r offers each task's r-th
item in task order (first appearance), wasting the already selected, and
stops at the budget. Prints "<pool index> <score>" per pick, in pick order.
"""
import base64
import json
import math
import struct
import sys


def vec(r):
    raw = base64.b64decode(r["winnow"]["emb"]["b64"])
    v = struct.unpack("<%df" % (len(raw) // 4), raw)
    n = math.sqrt(sum(x * x for x in v))
    return [x / n for x in v] if n > 0 else [0.0] * len(v)


def main():
    pool = [vec(json.loads(l)) for l in open(sys.argv[1])]
    tgt = [json.loads(l) for l in open(sys.argv[2])]
    budget = int(sys.argv[3])
    field = sys.argv[4] if len(sys.argv) > 4 else None
    tasks, order = {}, []
    for j, r in enumerate(tgt):
        key = r[field] if field else j
        if key not in tasks:
            tasks[key] = []
            order.append(key)
        tasks[key].append(vec(r))
    ranks = []
    for key in order:
        sc = [max(sum(a * b for a, b in zip(q, x)) for q in tasks[key]) for x in pool]
        ranks.append(sorted(((s, i) for i, s in enumerate(sc)), key=lambda e: (-e[0], e[1])))
    sel, picks = set(), []
    for r in range(len(pool)):
        for rk in ranks:
            if len(picks) == budget:
                break
            s, i = rk[r]
            if i not in sel:
                sel.add(i)
                picks.append((i, s))
    for i, s in picks:
        print(i, repr(s))


main()
