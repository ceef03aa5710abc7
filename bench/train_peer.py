#!/usr/bin/python3
"""bench/train_peer.py — the peer `winnow train` is measured against: the
same proxy-training loop in numpy (and, where PyTorch is installed, in
PyTorch, for the GPU machine), with the labels both sides train on.

  train_peer.py labels IN.jsonl FIELD OUT.npy
      The class id of every record's FIELD (classes numbered in byte order of
      the label text, as winnow train numbers them), as int32 OUT.npy.
  train_peer.py monthclass IN.jsonl OUT.jsonl
      The 784k bench's label, made up (PyPI records carry no class): each
      record reduced to {"id", "mclass"} with mclass = (12 year + month - 1)
      mod 40 of its "month" ("YYYY-MM"; a record without one: class 0), a
      40-class label with little signal in the text, there to give the proxy
      the issue's shape (40 classes), not a task worth solving.
  train_peer.py numpy X.npy Y.npy EPOCHS [--hidden H] [--batch B] [--lr LR] [--scores]
  train_peer.py torch X.npy Y.npy EPOCHS [--hidden H] [--batch B] [--lr LR] [--scores] [--device cuda] [--threads T]
      Train the proxy of `winnow train`: one hidden layer (ReLU; weights
      N(0, 2/fan_in), output N(0, 1/fan_in), zero biases), softmax
      cross-entropy, AdamW (lr 1e-3, betas 0.9/0.999, eps 1e-8, decoupled
      weight decay 0.01 on the weight matrices only), shuffled mini-batches
      of B (last short batch kept), float32. With --scores, what winnow
      computes per example besides: an evaluation of the whole set after
      every epoch (correctness and margin: forgetting, AUM), the per-epoch
      losses (S2L) and EL2N. --threads T: torch.set_num_threads(T) (default:
      $OMP_NUM_THREADS, else torch's own choice, which is 1 on some 2-core
      machines). Prints one JSON line: peer, n, dim, hidden, classes,
      epochs, threads, seconds (wall, training loop only), epochs_per_s,
      final_loss, train_accuracy.

Not bit-for-bit with winnow (another random stream); the loop and its
arithmetic are the same, so the times compare. Only Debian packages:
python3-numpy (PyTorch where the lead installs it).
"""
import json
import sys
import time

import numpy as np


def labels(path, field, out):
    vals = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            v = json.loads(line)
            for k in field.split("."):
                v = v[k]
            vals.append(v if isinstance(v, str) else json.dumps(v))
    keys = sorted(set(vals), key=lambda s: s.encode("utf-8"))
    ids = {k: i for i, k in enumerate(keys)}
    np.save(out, np.array([ids[v] for v in vals], dtype=np.int32))


def monthclass(path, out):
    with open(path, encoding="utf-8") as f, open(out, "w", encoding="utf-8") as g:
        for line in f:
            r = json.loads(line)
            m = r.get("month") or ""
            c = (12 * int(m[:4]) + int(m[5:7]) - 1) % 40 if len(m) == 7 else 0
            g.write(json.dumps({"id": r.get("id"), "mclass": c}) + "\n")


def args_of(argv):
    o = {"hidden": 64, "batch": 128, "lr": 1e-3, "scores": False, "device": "cpu", "threads": 0}
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--scores":
            o["scores"] = True
        elif a in ("--hidden", "--batch", "--threads"):
            o[a[2:]] = int(argv[i + 1])
            i += 1
        elif a == "--lr":
            o["lr"] = float(argv[i + 1])
            i += 1
        elif a == "--device":
            o["device"] = argv[i + 1]
            i += 1
        else:
            sys.exit("train_peer.py: unknown option " + a)
        i += 1
    return o


class AdamW:
    def __init__(self, params, decay, lr):
        self.p, self.decay, self.lr, self.t = params, decay, lr, 0
        self.m = [np.zeros_like(p) for p in params]
        self.v = [np.zeros_like(p) for p in params]

    def step(self, grads):
        self.t += 1
        bc1, bc2 = 1 - 0.9 ** self.t, 1 - 0.999 ** self.t
        for p, g, m, v, d in zip(self.p, grads, self.m, self.v, self.decay):
            m *= 0.9
            m += 0.1 * g
            v *= 0.999
            v += 0.001 * g * g
            upd = (m / bc1) / (np.sqrt(v / bc2) + 1e-8)
            if d:
                upd += 0.01 * p
            p -= np.float32(self.lr) * upd.astype(np.float32)


def forward(X, W1, b1, W2, b2):
    pre = X @ W1 + b1
    h = np.maximum(pre, 0)
    z = h @ W2 + b2
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return pre, h, z, e / e.sum(axis=1, keepdims=True)


def run_numpy(X, y, epochs, o):
    n, d = X.shape
    C, H, B = int(y.max()) + 1, o["hidden"], o["batch"]
    rng = np.random.default_rng(0)
    W1 = (rng.standard_normal((d, H)) * np.sqrt(2 / d)).astype(np.float32)
    W2 = (rng.standard_normal((H, C)) * np.sqrt(1 / H)).astype(np.float32)
    b1, b2 = np.zeros(H, np.float32), np.zeros(C, np.float32)
    opt = AdamW([W1, b1, W2, b2], [True, False, True, False], o["lr"])
    onehot = np.eye(C, dtype=np.float32)
    traj = np.zeros((n, epochs), np.float32) if o["scores"] else None
    t0 = time.perf_counter()
    loss = 0.0
    for e in range(epochs):
        perm = rng.permutation(n)
        tot = 0.0
        for s in range(0, n, B):
            idx = perm[s:s + B]
            xb, yb = X[idx], y[idx]
            pre, h, z, p = forward(xb, W1, b1, W2, b2)
            tot += float(-np.log(p[np.arange(len(idx)), yb] + 1e-30).sum())
            dz = (p - onehot[yb]) / len(idx)
            dh = (dz @ W2.T) * (pre > 0)
            opt.step([xb.T @ dh, dh.sum(0), h.T @ dz, dz.sum(0)])
        loss = tot / n
        if o["scores"]:  # the per-epoch evaluation of the whole set
            for s in range(0, n, 4096):
                _, _, z, p = forward(X[s:s + 4096], W1, b1, W2, b2)
                yy = y[s:s + 4096]
                traj[s:s + 4096, e] = -np.log(p[np.arange(len(yy)), yy] + 1e-30)
                np.linalg.norm(p - onehot[yy], axis=1)  # EL2N
                zy = z[np.arange(len(yy)), yy]
                z[np.arange(len(yy)), yy] = -np.inf
                _ = zy - z.max(axis=1)  # margin (AUM)
    secs = time.perf_counter() - t0
    _, _, _, p = forward(X, W1, b1, W2, b2)
    acc = float((p.argmax(1) == y).mean())
    return C, secs, loss, acc


def run_torch(X, y, epochs, o):
    import torch  # only on the machine where the lead installs it

    import os
    threads = o["threads"] or int(os.environ.get("OMP_NUM_THREADS", "0") or 0)
    if threads:
        torch.set_num_threads(threads)
    o["threads"] = torch.get_num_threads()
    dev = torch.device(o["device"])
    Xt, yt = torch.from_numpy(X).to(dev), torch.from_numpy(y.astype(np.int64)).to(dev)
    n, d = X.shape
    C, H, B = int(y.max()) + 1, o["hidden"], o["batch"]
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(d, H), torch.nn.ReLU(), torch.nn.Linear(H, C)).to(dev)
    decay = [p for nme, p in model.named_parameters() if nme.endswith("weight")]
    rest = [p for nme, p in model.named_parameters() if not nme.endswith("weight")]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01},
                             {"params": rest, "weight_decay": 0.0}], lr=o["lr"])
    lossf = torch.nn.CrossEntropyLoss()
    if dev.type == "cuda":
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    loss = 0.0
    for e in range(epochs):
        perm = torch.randperm(n, device=dev)
        tot = 0.0
        for s in range(0, n, B):
            idx = perm[s:s + B]
            out = lossf(model(Xt[idx]), yt[idx])
            opt.zero_grad(set_to_none=True)
            out.backward()
            opt.step()
            tot += float(out.detach()) * len(idx)
        loss = tot / n
        if o["scores"]:
            with torch.no_grad():
                z = model(Xt)
                p = torch.softmax(z, 1)
                _ = torch.nn.functional.cross_entropy(z, yt, reduction="none")
                _ = torch.linalg.norm(p - torch.nn.functional.one_hot(yt, C), dim=1)
    if dev.type == "cuda":
        torch.cuda.synchronize()
    secs = time.perf_counter() - t0
    with torch.no_grad():
        acc = float((model(Xt).argmax(1) == yt).float().mean())
    return C, secs, loss, acc


def main(argv):
    if len(argv) >= 4 and argv[0] == "labels":
        return labels(argv[1], argv[2], argv[3])
    if len(argv) >= 3 and argv[0] == "monthclass":
        return monthclass(argv[1], argv[2])
    if len(argv) < 4 or argv[0] not in ("numpy", "torch"):
        sys.exit(__doc__)
    X = np.load(argv[1]).astype(np.float32)
    y = np.load(argv[2]).astype(np.int64)
    epochs, o = int(argv[3]), args_of(argv[4:])
    run = run_numpy if argv[0] == "numpy" else run_torch
    C, secs, loss, acc = run(X, y, epochs, o)
    print(json.dumps({"peer": argv[0] + ("/" + o["device"] if argv[0] == "torch" else ""),
                      "n": X.shape[0], "dim": X.shape[1], "hidden": o["hidden"], "classes": C,
                      "epochs": epochs, "threads": o["threads"] if argv[0] == "torch" else None,
                      "scores": o["scores"], "seconds": round(secs, 4),
                      "epochs_per_s": round(epochs / secs, 3), "final_loss": round(loss, 6),
                      "train_accuracy": round(acc, 4)}))


if __name__ == "__main__":
    main(sys.argv[1:])
