#!/usr/bin/python3
"""PyTorch side of the embedding benchmark: the same model folder, the same
batch shape, the same thread count as bench_embed. The forward pass is
tests/fixtures/make_tiny_bert.py's, which follows transformers' BertModel.

    /usr/bin/python3 bench/torch_bert.py MODEL_DIR SEQ BATCH THREADS [SECONDS]
"""
import json
import os
import struct
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures"))
from make_tiny_bert import bert_forward  # noqa: E402

DTYPES = {"F32": np.float32, "F16": np.float16}


def load_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    base = 8 + n
    out = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        a, b = t["data_offsets"]
        arr = np.frombuffer(data, dtype=DTYPES[t["dtype"]], count=(b - a) // np.dtype(DTYPES[t["dtype"]]).itemsize,
                            offset=base + a).reshape(t["shape"])
        out[name.removeprefix("bert.")] = torch.from_numpy(arr.astype(np.float32))
    return out


def main():
    model, L, B, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    seconds = float(sys.argv[5]) if len(sys.argv) > 5 else 10
    torch.set_num_threads(threads)
    cfg = json.load(open(os.path.join(model, "config.json")))
    w = load_safetensors(os.path.join(model, "model.safetensors"))
    gen = torch.Generator().manual_seed(12345)
    ids = torch.randint(5, cfg["vocab_size"], (B, L), generator=gen)
    ids[:, 0] = 2
    mask = torch.ones(B, L, dtype=torch.long)
    with torch.inference_mode():
        bert_forward(w, cfg, ids, mask, "cls")
        batches, t0, c0 = 0, time.perf_counter(), time.process_time()
        while True:
            bert_forward(w, cfg, ids, mask, "cls")
            batches += 1
            t = time.perf_counter() - t0
            if t >= seconds:
                break
    per, cpu = t / batches, time.process_time() - c0
    print("torch seq %3d batch %d threads %d: %7.1f chunks/s (%.1f ms per batch, %d batches; cpu/wall %.2f; torch %s)"
          % (L, B, threads, B / per, per * 1e3, batches, cpu / t, torch.__version__))


if __name__ == "__main__":
    main()
