#!/usr/bin/env python3
"""tests/peers/bert_tiny_peer.py — a plain-Python BERT forward pass (no
numpy) for the bert-tiny fixture, to check pooling modes by hand from the
token embeddings, for tests/cli/t5440-embed-weighted-mean.sh.

usage: bert_tiny_peer.py MODEL_DIR EXPECTED.json CASES...

For each case index of EXPECTED.json (whose "ids" are the reference
tokenizer's), runs the encoder on those ids and prints one line per case:
"<max |mean - expected mean|> <64 floats: the weighted mean>", where the
weighted mean is Σ_t (2t/(L(L+1))) h_t over the L real tokens (t = 1..L),
L2-normalised (the model has a Normalize module), and the first number
shows the peer itself reproduces the reference's mean pooling.
"""
import json
import math
import struct
import sys


def load(path):
    f = open(path, "rb")
    n = struct.unpack("<Q", f.read(8))[0]
    head = json.loads(f.read(n))
    base = 8 + n
    data = open(path, "rb").read()
    out = {}
    for k, v in head.items():
        if k == "__metadata__":
            continue
        a, b = v["data_offsets"]
        vals = struct.unpack("<%df" % ((b - a) // 4), data[base + a:base + b])
        shape = v["shape"]
        if len(shape) == 2:
            r, c = shape
            out[k] = [list(vals[i * c:(i + 1) * c]) for i in range(r)]
        else:
            out[k] = list(vals)
    return out


def linear(x, W, b):
    return [sum(wi * xi for wi, xi in zip(row, x)) + bj for row, bj in zip(W, b)]


def layernorm(x, g, b, eps):
    m = sum(x) / len(x)
    v = sum((t - m) ** 2 for t in x) / len(x)
    return [(t - m) / math.sqrt(v + eps) * gi + bi for t, gi, bi in zip(x, g, b)]


def gelu(x):
    return 0.5 * x * (1 + math.erf(x / math.sqrt(2)))


def encode(w, cfg, ids):
    H, nh = cfg["hidden_size"], cfg["num_attention_heads"]
    dh, eps = H // nh, cfg["layer_norm_eps"]
    p = "embeddings."
    X = [layernorm([a + b + c for a, b, c in zip(w[p + "word_embeddings.weight"][t],
                                                  w[p + "position_embeddings.weight"][i],
                                                  w[p + "token_type_embeddings.weight"][0])],
                   w[p + "LayerNorm.weight"], w[p + "LayerNorm.bias"], eps)
         for i, t in enumerate(ids)]
    for l in range(cfg["num_hidden_layers"]):
        p = "encoder.layer.%d." % l
        lin = lambda x, n: linear(x, w[p + n + ".weight"], w[p + n + ".bias"])
        Q = [lin(x, "attention.self.query") for x in X]
        K = [lin(x, "attention.self.key") for x in X]
        V = [lin(x, "attention.self.value") for x in X]
        C = []
        for i in range(len(X)):
            row = []
            for h in range(nh):
                s = slice(h * dh, (h + 1) * dh)
                sc = [sum(a * b for a, b in zip(Q[i][s], K[j][s])) / math.sqrt(dh) for j in range(len(X))]
                mx = max(sc)
                e = [math.exp(v - mx) for v in sc]
                z = sum(e)
                row += [sum(e[j] / z * V[j][s][k] for j in range(len(X))) for k in range(dh)]
            C.append(row)
        X = [layernorm([a + b for a, b in zip(lin(c, "attention.output.dense"), x)],
                       w[p + "attention.output.LayerNorm.weight"], w[p + "attention.output.LayerNorm.bias"], eps)
             for c, x in zip(C, X)]
        X = [layernorm([a + b for a, b in zip(lin([gelu(v) for v in lin(x, "intermediate.dense")], "output.dense"), x)],
                       w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"], eps)
             for x in X]
    return X


def unit(v):
    n = math.sqrt(sum(t * t for t in v))
    return [t / n for t in v]


def main():
    d = sys.argv[1]
    cfg = json.load(open(d + "/config.json"))
    w = load(d + "/model.safetensors")
    cases = json.load(open(sys.argv[2]))["cases"]
    for c in sys.argv[3:]:
        case = cases[int(c)]
        X = encode(w, cfg, case["ids"])
        L = len(X)
        mean = unit([sum(x[k] for x in X) / L for k in range(len(X[0]))])
        err = max(abs(a - b) for a, b in zip(mean, case["mean"]))
        wm = unit([sum(2.0 * (t + 1) / (L * (L + 1)) * X[t][k] for t in range(L)) for k in range(len(X[0]))])
        print(repr(err), " ".join(repr(v) for v in wm))


main()
