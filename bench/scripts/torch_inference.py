#!/usr/bin/python3
"""PyTorch inference of the network ScoringBench exported (OUT/network.bin): the same dense ReLU
stack, the same parameters (DL4J layout: per layer an nIn x nOut column-major weight matrix, which
is PyTorch's (out, in) row-major, then the biases) and the same 1,024 encoded rows. Checks that
PyTorch's logits match the Java scorer's, then prints one JSON line of rows per second (medians), one
row at a time and a batch of 1,024, on one thread, under torch.inference_mode.
Usage: torch_inference.py OUT_DIR [samples]"""
import json
import struct
import sys
import time

import numpy as np
import torch

SAMPLE_SECONDS = 0.7


def load(path):
    data = open(path, "rb").read()
    at = 0

    def ints(n):
        nonlocal at
        v = struct.unpack_from("<%di" % n, data, at)
        at += 4 * n
        return v

    def floats(n):
        nonlocal at
        v = np.frombuffer(data, dtype="<f4", count=n, offset=at)
        at += 4 * n
        return v

    (count,) = ints(1)
    sizes = ints(count)
    (n_params,) = ints(1)
    params = floats(n_params)
    (rows,) = ints(1)
    x = floats(rows * sizes[0]).reshape(rows, sizes[0])
    logits = floats(rows)
    return sizes, params, x, logits


def network(sizes, params):
    layers, offset = [], 0
    for l in range(1, len(sizes)):
        n_in, n_out = sizes[l - 1], sizes[l]
        linear = torch.nn.Linear(n_in, n_out)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(params[offset:offset + n_in * n_out].reshape(n_out, n_in).copy()))
            offset += n_in * n_out
            linear.bias.copy_(torch.from_numpy(params[offset:offset + n_out].copy()))
            offset += n_out
        layers.append(linear)
        if l < len(sizes) - 1:
            layers.append(torch.nn.ReLU())
    assert offset == len(params), (offset, len(params))
    return torch.nn.Sequential(*layers).eval()


def rows_per_second(call, rows):
    start = time.perf_counter()
    calls = 0
    while True:
        for _ in range(16):
            call(calls)
            calls += 1
        now = time.perf_counter()
        if now - start >= SAMPLE_SECONDS:
            return calls * rows / (now - start)


def main():
    out = sys.argv[1]
    samples = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    torch.set_num_threads(1)
    sizes, params, x, java_logits = load(out + "/network.bin")
    model = network(sizes, params)
    batch = torch.from_numpy(x.copy())
    singles = [batch[i:i + 1].clone() for i in range(batch.shape[0])]
    with torch.inference_mode():
        logits = model(batch).squeeze(1).numpy()
        gap = float(np.max(np.abs(logits - java_logits)))
        if gap > 1e-4 * max(1.0, float(np.max(np.abs(java_logits)))):
            sys.exit("PyTorch's logits differ from the Java scorer's by %g: not the same network" % gap)

        def one(i):
            torch.sigmoid(model(singles[i % len(singles)]))

        def many(i):
            torch.sigmoid(model(batch))

        measures = [("network_row", one, 1), ("network_batch", many, batch.shape[0])]
        for _, call, rows in measures:
            rows_per_second(call, rows)  # warm-up
        rates = {name: [] for name, _, _ in measures}
        for _ in range(samples):
            for name, call, rows in measures:
                rates[name].append(rows_per_second(call, rows))
    result = {"engine": "pytorch " + torch.__version__, "samples": samples, "max_logit_gap": gap}
    result.update({name: float(np.median(v)) for name, v in rates.items()})
    print(json.dumps(result))


if __name__ == "__main__":
    main()
