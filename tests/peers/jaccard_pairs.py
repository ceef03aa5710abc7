"""tests/peers/jaccard_pairs.py - the exact baseline for MinHash dedup: every
pair of records whose 5-word-shingle sets (text-dedup's definition, as
`winnow dedup minhash` documents it: re.split(r"\\W+", text.lower()) word
n-grams joined by one space, a text of fewer than n words one shingle) have
Jaccard >= thr, found by prefix filtering (a pair at or above thr shares a
shingle among the first len - ceil(thr * len) + 1 of each set in a global
order by document frequency, so no pair is missed). Python stdlib only.

Used by tests/cli/t5310-dedup-minhash.sh and bench/dedup_bench.sh.
"""
import json
import math
import re


def shingles(text, n=5):
    w = [x for x in re.split(r"\W+", text.lower()) if x]
    if not w:
        return set()
    if len(w) < n:
        return {" ".join(w)}
    return {" ".join(w[i:i + n]) for i in range(len(w) - n + 1)}


def load(path, strict=True):
    """The shingle set of each non-blank line's "text"; with strict False a
    record without a string text gets the empty set."""
    out = []
    for line in open(path, encoding="utf-8"):
        if not line.strip():
            continue
        t = json.loads(line)["text"] if strict else json.loads(line).get("text")
        out.append(shingles(t) if isinstance(t, str) else set())
    return out


def jaccard(S, a, b):
    return len(S[a] & S[b]) / len(S[a] | S[b])


def true_pairs(S, thr):
    """Every (i, j), i < j, with Jaccard >= thr."""
    df = {}
    for s in S:
        for x in s:
            df[x] = df.get(x, 0) + 1
    idx, cand = {}, set()
    for i, s in enumerate(S):
        o = sorted(s, key=lambda x: (df[x], x))
        for x in o[:len(o) - math.ceil(thr * len(o)) + 1]:
            cand.update((j, i) for j in idx.get(x, ()))
            idx.setdefault(x, []).append(i)
    return {p for p in cand if jaccard(S, *p) >= thr}
