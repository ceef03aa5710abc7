#!/usr/bin/env python3
"""tests/peers/rings.py — the long-tailed toy mixture of the Vo et al. 2024
reference's README (facebookresearch/ssl-data-curation): five 2-D rings
(radius uniform in [0.7, 1.0]) of 20000, 200, 1000, 500 and 8000 points at
(-2.2, 1), (0, 1), (2.2, 1), (-1.2, 0.2), (1.2, 0.2), scaled by SCALE.
Writes OUT.npy (float32, n x 2) and OUT.jsonl ({"id": i, "ring": r} per
row). Plain Python (random.seed(SEED): Mersenne Twister, stable across
versions), no numpy.

usage: rings.py OUT SCALE [SEED]
"""
import json, math, random, struct, sys

out, scale = sys.argv[1], float(sys.argv[2])
random.seed(int(sys.argv[3]) if len(sys.argv) > 3 else 1)
spec = [(20000, -2.2, 1.0), (200, 0.0, 1.0), (1000, 2.2, 1.0), (500, -1.2, 0.2), (8000, 1.2, 0.2)]
pts = []
for ring, (n, cx, cy) in enumerate(spec):
    for _ in range(max(1, round(n * scale))):
        r = random.random() * 0.3 + 0.7
        a = random.random() * 2 * math.pi
        pts.append((ring, r * math.cos(a) + cx, r * math.sin(a) + cy))
hdr = "{'descr': '<f4', 'fortran_order': False, 'shape': (%d, 2), }" % len(pts)
hdr += " " * (127 - 10 - len(hdr)) + "\n"
with open(out + ".npy", "wb") as f:
    f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(hdr)) + hdr.encode())
    for _, x, y in pts:
        f.write(struct.pack("<ff", x, y))
with open(out + ".jsonl", "w") as f:
    for i, (ring, _, _) in enumerate(pts):
        f.write(json.dumps({"id": i, "ring": ring}) + "\n")
