"""tests/peers/jaccard_allpairs.py - the exact Jaccard baseline at corpus
scale (all 784,692 PyPI records), independent of winnow's code: every pair
of records whose shingle sets (the definition of tests/peers/jaccard_pairs.py:
re.split(r"\\W+", text.lower()) word n-grams joined by one space, a text of
fewer than n words one shingle, compared as strings) have Jaccard >= thr.

Identical sets are first collapsed into classes (a class of m records holds
m(m-1)/2 pairs at J = 1 without enumerating them); the distinct sets are
then joined AllPairs/PPJoin style: sets probed in ascending size, tokens in
ascending document frequency, the length filter |y| >= thr |x|, the probing
prefix |x| - ceil(thr |x|) + 1 against an index of each set's PPJoin
indexing prefix |y| - ceil(2 thr / (1 + thr) |y|) + 1, every candidate
verified exactly (integer comparison den * |x n y| >= num * |x u y|, thr =
num / den). No pair at or above thr is missed (the prefix-filtering lemma).
Python stdlib only.

  python3 jaccard_allpairs.py join INPUT.jsonl OUT_PREFIX [--thr 0.8] [--ngram 5]
      writes OUT_PREFIX.class (one line per record: its class, -1 for an
      empty set) and OUT_PREFIX.pairs ("ca cb inter union" per class pair)
  python3 jaccard_allpairs.py score OUT_PREFIX MARKED.jsonl [PAIRS.tsv]
      MARKED: `winnow dedup minhash --mark-only` output of the same input
      (winnow.dup_group per grouped record); PAIRS: its --pairs file. Prints
      the true pairs, the pair recall (true pairs whose two records winnow
      put in one group), the records an ideal transitive dedup drops vs
      those winnow drops, and the precision of winnow's verified pairs.
"""
import json
import re
import sys
from fractions import Fraction


def shingles(text, n):
    w = [x for x in re.split(r"\W+", text.lower()) if x]
    if not w:
        return ()
    if len(w) < n:
        return (" ".join(w),)
    return tuple(" ".join(w[i:i + n]) for i in range(len(w) - n + 1))


def ceil_frac(num, den):
    return -(-num // den)


def join(inp, out, thr, n):
    tok, classes, cls_of = {}, {}, []
    sets = []
    for line in open(inp, encoding="utf-8"):
        if not line.strip():
            continue
        t = json.loads(line).get("text")
        s = frozenset(tok.setdefault(x, len(tok)) for x in shingles(t, n)) if isinstance(t, str) else frozenset()
        if not s:
            cls_of.append(-1)
            continue
        c = classes.get(s)
        if c is None:
            c = classes[s] = len(sets)
            sets.append(s)
        cls_of.append(c)
    del classes, tok
    df = {}
    for s in sets:
        for x in s:
            df[x] = df.get(x, 0) + 1
    num, den = thr.numerator, thr.denominator
    inum, iden = 2 * num, den + num  # 2t / (1 + t)
    order = sorted(range(len(sets)), key=lambda c: (len(sets[c]), c))
    index, start = {}, {}
    pairs = []
    for c in order:
        s = sets[c]
        L = len(s)
        o = sorted(s, key=lambda x: (df[x], x))
        minlen = ceil_frac(num * L, den)
        seen = set()
        for x in o[:L - minlen + 1]:
            lst = index.get(x)
            if not lst:
                continue
            k = start.get(x, 0)
            while k < len(lst) and len(sets[lst[k]]) < minlen:
                k += 1
            start[x] = k
            seen.update(lst[k:])
        for y in seen:
            inter = len(s & sets[y])
            union = L + len(sets[y]) - inter
            if den * inter >= num * union:
                a, b = (y, c) if y < c else (c, y)
                pairs.append((a, b, inter, union))
        for x in o[:L - ceil_frac(inum * L, iden) + 1]:
            index.setdefault(x, []).append(c)
    with open(out + ".class", "w") as f:
        f.write("".join("%d\n" % c for c in cls_of))
    pairs.sort()
    with open(out + ".pairs", "w") as f:
        f.write("".join("%d %d %d %d\n" % p for p in pairs))
    multi = sum(1 for v in _counts(cls_of).values() if v > 1)
    print("records %d, distinct non-empty sets %d (%d held by 2+ records), class pairs at J >= %s: %d"
          % (len(cls_of), len(sets), multi, thr, len(pairs)))


def _counts(cls_of):
    m = {}
    for c in cls_of:
        if c >= 0:
            m[c] = m.get(c, 0) + 1
    return m


def find(p, x):
    while p[x] != x:
        p[x] = p[p[x]]
        x = p[x]
    return x


def score(out, marked, pairs_tsv=None):
    cls_of = [int(l) for l in open(out + ".class")]
    cp = [tuple(map(int, l.split()[:2])) for l in open(out + ".pairs")]
    grp = []
    for i, line in enumerate(open(marked, encoding="utf-8")):
        if not line.strip():
            continue
        w = json.loads(line).get("winnow") or {}
        grp.append(w.get("dup_group", len(grp)))
    if len(grp) != len(cls_of):
        sys.exit("score: %d marked records, %d in the baseline" % (len(grp), len(cls_of)))
    # per class: its records' winnow groups
    by_cls = {}
    for i, c in enumerate(cls_of):
        if c >= 0:
            by_cls.setdefault(c, {}).setdefault(grp[i], 0)
            by_cls[c][grp[i]] += 1
    true_n = found = 0
    for c, g in by_cls.items():
        m = sum(g.values())
        true_n += m * (m - 1) // 2
        found += sum(v * (v - 1) // 2 for v in g.values())
    for a, b in cp:
        ga, gb = by_cls[a], by_cls[b]
        true_n += sum(ga.values()) * sum(gb.values())
        found += sum(v * gb.get(k, 0) for k, v in ga.items())
    # ideal transitive dedup: components of the true pairs over records
    par = list(range(len(cls_of)))
    first = {}
    for i, c in enumerate(cls_of):
        if c >= 0:
            if c in first:
                par[find(par, i)] = find(par, first[c])
            else:
                first[c] = i
    for a, b in cp:
        ra, rb = find(par, first[a]), find(par, first[b])
        if ra != rb:
            par[max(ra, rb)] = min(ra, rb)
    ideal = sum(1 for i in range(len(cls_of)) if find(par, i) != i)
    dropped = sum(1 for i, g in enumerate(grp) if g != i)
    print("true pairs at J >= thr: %d; in one winnow group: %d: pair recall %.4f"
          % (true_n, found, found / max(1, true_n)))
    print("records an ideal transitive dedup drops: %d; winnow drops: %d" % (ideal, dropped))
    if pairs_tsv:
        cps = set(cp)
        ver = bad = 0
        for l in open(pairs_tsv):
            a, b, j, v = l.split("\t")
            if v.strip() != "1":
                continue
            ver += 1
            ca, cb = cls_of[int(a)], cls_of[int(b)]
            ok = ca >= 0 and (ca == cb or (min(ca, cb), max(ca, cb)) in cps)
            bad += not ok
        print("winnow's verified pairs: %d, of them below thr in the baseline: %d: precision %.6f"
              % (ver, bad, (ver - bad) / max(1, ver)))


def main(argv):
    if len(argv) >= 3 and argv[0] == "join":
        thr, n = Fraction("0.8"), 5
        rest = argv[3:]
        while rest:
            if rest[0] == "--thr":
                thr = Fraction(rest[1])
            elif rest[0] == "--ngram":
                n = int(rest[1])
            else:
                sys.exit("unknown option " + rest[0])
            rest = rest[2:]
        join(argv[1], argv[2], thr, n)
    elif len(argv) in (3, 4) and argv[0] == "score":
        score(*argv[1:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
