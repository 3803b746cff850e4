"""Consort's local training against PyTorch, interleaved in one run (driven by bench/train-vs-torch).

The same 23-64-32-1 MLP (ReLU, sigmoid output, binary cross-entropy, Adam 3e-3), the same 30,000
rows and initial parameters (written by Consort's TrainingWorker, the Java side of this bench),
the same batch size, epochs and one thread each. One sample is one training round of EPOCHS epochs
(enough epochs for at least --min-steps steps) in a fresh trainer, timed from the first step to
the last; the figure is milliseconds per step. Each repeat times every (batch, method) once, one
after the other, so load from other processes falls on all methods alike; ratios are taken within
a repeat, and the medians of times and of ratios are reported.

Methods: Consort's native engine plain and DP-SGD, the DL4J engine (plain only: DL4J does not
expose per-example gradients), PyTorch plain (shuffled index_select batches, BCEWithLogits,
torch.optim.Adam) and PyTorch DP-SGD (Poisson sampling with torch.rand, per-example gradients with
functorch.vmap(grad(...)) over torch.nn.utils.stateless.functional_call as in the PyTorch 1.13
per-sample-gradients tutorial, per-example clipping, Gaussian noise from torch.normal, Adam).
DP-SGD uses noise multiplier 1, clip norm 1 and expected batch BATCH on both sides.

Sequence models (--models, default mlp,lstm,cnn1d; simple-rnn and attention on request): the DL4J
engine, and for the models in NATIVE_SEQUENCE_MODELS (all four) also the native engine plain and DP-SGD, against
PyTorch on the same 8,192 rows of 2 channels over a 10-step window (written by the worker,
channel-major per row as DL4J reads them: [channels, window]), each with its own initial
parameters (PyTorch's default initialisation; Consort's is its Xavier), the same architecture as
the market experiment builds: an LSTM of 16 units (last time step; PyTorch's LSTM has a second bias
vector, 64 more parameters), a SimpleRnn of 16 tanh units (DL4J's SimpleRnn against nn.RNN with
nonlinearity tanh, last time step; nn.RNN also has a second bias vector, 16 more parameters) or a
1-D convolution of 16 filters of width 3 (same padding, ReLU, max over time), or self-attention of
16 units in 2 heads of 8 (DL4J's SelfAttentionLayer with input projection: bias-free query, key,
value and output projections, softmax(q k^T / sqrt(8)) over the key steps, written out with
nn.Linear(bias=False) and matmul as PyTorch 1.13 has no fused attention; mean over time), then
Linear 16 + ReLU
and a sigmoid output, binary cross-entropy, Adam 3e-3. Epochs per
sample: enough for at least --sequence-min-steps steps. The native engine's DP-SGD is timed
against PyTorch's DP-SGD above on the same model where functorch computes it (TORCH_DP_SEQUENCE_MODELS,
the CNN and attention:
functorch 1.13's vmap(grad(...)) fails on nn.LSTM and nn.RNN with a shape mismatch, so the LSTM's
and the SimpleRnn's are against PyTorch's plain step). DP-SGD is not timed on the DL4J engine: it clips by microbatches of one (one
pass per example, 17x to 42x its plain step, docs/BENCHMARKS.md), which would take most of the
run's time.

Other heads (--models mlp-tanh,mlp-dropout,lstm-regression,attention-regression, none by default): the MLP with tanh hidden
layers, the MLP with dropout 0.2 on the inputs of its second and output layers (DL4J's dropOut(0.8)
on the layers after a hidden layer; nn.Dropout(0.2) before those Linear layers in PyTorch, inverted
dropout both), and the LSTM or self-attention with an identity output on mean squared error (F.mse_loss); each on the
native engine plain and DP-SGD, the DL4J engine plain and PyTorch plain, and PyTorch DP-SGD for the
MLPs (functorch's vmap with randomness="different": each example its own dropout mask, drawn with
torch.rand_like, as vmap cannot batch nn.Dropout's in-place draw).

Usage: python3 train_vs_torch.py [--json] [--repeats N] [--batches 32,128,512] [--min-steps N]
                                 [--models mlp,lstm,cnn1d,simple-rnn,attention,mlp-tanh,mlp-dropout,lstm-regression,attention-regression]
                                 [--sequence-min-steps N]
                                 -- JAVA COMMAND LINE...
"""

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

LEARNING_RATE = 3e-3
HIDDEN = (64, 32)
NOISE_MULTIPLIER = 1.0
CLIP_NORM = 1.0
# The sequence models Consort's native engine also computes: timed plain and DP-SGD on it too.
SEQUENCE_MODELS = ("lstm", "cnn1d", "simple-rnn", "attention")
NATIVE_SEQUENCE_MODELS = SEQUENCE_MODELS
# Those whose DP-SGD PyTorch computes here (functorch's vmap fails on nn.LSTM and nn.RNN).
TORCH_DP_SEQUENCE_MODELS = ("cnn1d", "attention")
# Heads other than the ReLU classifier: name -> (base model, hidden activation, dropout, objective).
HEAD_VARIANTS = {
    "mlp-tanh": ("mlp", "tanh", 0.0, "binary"),
    "mlp-dropout": ("mlp", "relu", 0.2, "binary"),
    "lstm-regression": ("lstm", "relu", 0.0, "regression"),
    "attention-regression": ("attention", "relu", 0.0, "regression"),
}


def loss_of(objective):
    return F.binary_cross_entropy_with_logits if objective == "binary" else F.mse_loss


class JavaWorker:
    """Consort's TrainingWorker: one request per line, one `ok ...` / `error ...` reply per line."""

    def __init__(self, command, log_path, extra_env=None):
        self.log_path = log_path
        self.log = open(log_path, "w")
        env = dict(os.environ, OMP_NUM_THREADS="1", **(extra_env or {}))
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=self.log, text=True, env=env)

    def ask(self, request):
        self.process.stdin.write(request + "\n")
        self.process.stdin.flush()
        reply = self.process.stdout.readline()
        if not reply.startswith("ok"):
            raise RuntimeError("Java worker: '%s' -> %r (log: %s)"
                               % (request, reply.strip() or "no reply", self.log_path))
        return reply.split()[1:]

    def close(self):
        try:
            self.process.stdin.write("quit\n")
            self.process.stdin.flush()
        except BrokenPipeError:
            pass
        self.process.wait(timeout=60)
        self.log.close()


def train_plain(model, x, y, batch, epochs, loss_fn=F.binary_cross_entropy_with_logits):
    """Plain training: shuffled index_select batches, BCEWithLogits (or loss_fn),
    torch.optim.Adam; returns (ms per step, steps), timed from the first step to the last."""
    optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    rows = x.shape[0]
    steps = 0
    loss_sum = 0.0
    start = time.perf_counter()
    for _ in range(epochs):
        order = torch.randperm(rows)
        for s in range(0, rows, batch):
            index = order[s:s + batch]
            xb = x.index_select(0, index)
            yb = y.index_select(0, index)
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model(xb).squeeze(1), yb)
            loss.backward()
            optimizer.step()
            loss_sum += loss.item()
            steps += 1
    return (time.perf_counter() - start) * 1e3 / steps, steps


def train_dp(model, x, y, batch, epochs, loss_fn=F.binary_cross_entropy_with_logits,
             random=False):
    """DP-SGD (module docstring): Poisson sampling, vmap per-example gradients, clipping, noise,
    Adam; returns (ms per step, steps). random: the model draws (dropout), each example its own."""
    from functorch import grad, vmap
    from torch.nn.utils.stateless import functional_call

    params = dict(model.named_parameters())
    optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    rows = x.shape[0]
    q = min(1.0, batch / rows)
    steps = max(1, round(epochs / q))
    expected = q * rows
    sigma = NOISE_MULTIPLIER * CLIP_NORM

    def example_loss(p, xi, yi):
        out = functional_call(model, p, (xi.unsqueeze(0),))
        return loss_fn(out.reshape(()), yi)

    per_example = vmap(grad(example_loss), in_dims=(None, 0, 0),
                       randomness="different" if random else "error")
    start = time.perf_counter()
    for _ in range(steps):
        index = (torch.rand(rows) < q).nonzero().squeeze(1)
        k = index.numel()
        if k > 0:
            detached = {name: p.detach() for name, p in params.items()}
            grads = per_example(detached, x[index], y[index])
            norms = torch.sqrt(sum(g.reshape(k, -1).pow(2).sum(1) for g in grads.values()))
            scale = (CLIP_NORM / (norms + 1e-6)).clamp(max=1.0)
            for name, p in params.items():
                summed = torch.tensordot(scale, grads[name], dims=1)
                p.grad = (summed + torch.normal(0.0, sigma, p.shape)) / expected
        else:
            for p in params.values():
                p.grad = torch.normal(0.0, sigma, p.shape) / expected
        optimizer.step()
    return (time.perf_counter() - start) * 1e3 / steps, steps


class RandDropout(nn.Module):
    """Inverted dropout from torch.rand_like, for functorch's vmap (which refuses nn.Dropout's
    in-place draw with randomness="different"); the same math as nn.Dropout."""

    def __init__(self, p):
        super().__init__()
        self.p = p

    def forward(self, x):
        if not self.training:
            return x
        return x * (torch.rand_like(x) >= self.p).to(x.dtype) / (1 - self.p)


class TorchTrainer:
    def __init__(self, x, y, flat_params, features):
        self.x = x
        self.y = y
        self.features = features
        self.flat = flat_params

    def model(self, activation="relu", dropout=0.0, dropout_module=nn.Dropout):
        """The MLP with Consort's initial parameters (DL4J's per-layer layout: weight nOut x nIn
        row-major, which is Linear.weight, then the bias); dropout before every Linear but the
        first, as DL4J's on the layers after a hidden layer."""
        sizes = (self.features,) + HIDDEN + (1,)
        layers = []
        offset = 0
        for i in range(len(sizes) - 1):
            if i > 0 and dropout > 0:
                layers.append(dropout_module(dropout))
            linear = nn.Linear(sizes[i], sizes[i + 1])
            n_w = sizes[i] * sizes[i + 1]
            with torch.no_grad():
                linear.weight.copy_(self.flat[offset:offset + n_w].view(sizes[i + 1], sizes[i]))
                offset += n_w
                linear.bias.copy_(self.flat[offset:offset + sizes[i + 1]])
                offset += sizes[i + 1]
            layers.append(linear)
            if i < len(sizes) - 2:
                layers.append(nn.Tanh() if activation == "tanh" else nn.ReLU())
        assert offset == self.flat.numel()
        return nn.Sequential(*layers)

    def plain(self, batch, epochs, activation="relu", dropout=0.0):
        return train_plain(self.model(activation, dropout), self.x, self.y, batch, epochs)

    def dp(self, batch, epochs, activation="relu", dropout=0.0):
        return train_dp(self.model(activation, dropout, RandDropout), self.x, self.y, batch,
                        epochs, random=dropout > 0)


class TorchSequenceTrainer:
    """The sequence models (module docstring) on rows of channels x window values, channel-major."""

    def __init__(self, x, y, channels, window, units, kernel, head, heads):
        self.x = x.view(-1, channels, window)
        self.y = y
        self.channels, self.units, self.kernel, self.head = channels, units, kernel, head
        self.heads = heads

    def model(self, kind):
        if kind == "lstm":
            return LastStepLstm(self.channels, self.units, self.head)
        if kind == "cnn1d":
            return MaxPooledConv(self.channels, self.units, self.kernel, self.head)
        if kind == "simple-rnn":
            return LastStepRnn(self.channels, self.units, self.head)
        if kind == "attention":
            return PooledSelfAttention(self.channels, self.units, self.heads, self.head)
        raise ValueError(kind)

    def plain(self, kind, batch, epochs, objective="binary"):
        return train_plain(self.model(kind), self.x, self.y, batch, epochs, loss_of(objective))

    def dp(self, kind, batch, epochs, objective="binary"):
        return train_dp(self.model(kind), self.x, self.y, batch, epochs, loss_of(objective))


class LastStepLstm(nn.Module):
    def __init__(self, channels, units, head):
        super().__init__()
        self.lstm = nn.LSTM(channels, units, batch_first=True)
        self.head = nn.Sequential(nn.Linear(units, head), nn.ReLU(), nn.Linear(head, 1))

    def forward(self, x):  # x: [batch, channels, window]
        out, _ = self.lstm(x.transpose(1, 2))
        return self.head(out[:, -1])


class LastStepRnn(nn.Module):
    """DL4J's SimpleRnn (tanh inside the recurrence) read at its last step, then the head."""

    def __init__(self, channels, units, head):
        super().__init__()
        self.rnn = nn.RNN(channels, units, nonlinearity="tanh", batch_first=True)
        self.head = nn.Sequential(nn.Linear(units, head), nn.ReLU(), nn.Linear(head, 1))

    def forward(self, x):  # x: [batch, channels, window]
        out, _ = self.rnn(x.transpose(1, 2))
        return self.head(out[:, -1])


class MaxPooledConv(nn.Module):
    def __init__(self, channels, filters, kernel, head):
        super().__init__()
        self.conv = nn.Conv1d(channels, filters, kernel, padding="same")
        self.head = nn.Sequential(nn.Linear(filters, head), nn.ReLU(), nn.Linear(head, 1))

    def forward(self, x):  # x: [batch, channels, window]
        return self.head(torch.relu(self.conv(x)).amax(dim=2))


class PooledSelfAttention(nn.Module):
    """DL4J's SelfAttentionLayer (projectInput, scaled, no biases), mean over time, then the head."""

    def __init__(self, channels, units, heads, head):
        super().__init__()
        self.heads, self.size = heads, units // heads
        self.q = nn.Linear(channels, units, bias=False)
        self.k = nn.Linear(channels, units, bias=False)
        self.v = nn.Linear(channels, units, bias=False)
        self.o = nn.Linear(units, units, bias=False)
        self.head = nn.Sequential(nn.Linear(units, head), nn.ReLU(), nn.Linear(head, 1))

    def forward(self, x):  # x: [batch, channels, window]
        steps = x.transpose(1, 2)  # [batch, window, channels]
        b, t = steps.shape[0], steps.shape[1]

        def split(p):  # [batch, window, units] -> [batch, heads, window, size]
            return p.reshape(b, t, self.heads, self.size).transpose(1, 2)

        q, k, v = split(self.q(steps)), split(self.k(steps)), split(self.v(steps))
        weights = torch.softmax(q @ k.transpose(2, 3) / math.sqrt(self.size), dim=3)
        out = (weights @ v).transpose(1, 2).reshape(b, t, self.heads * self.size)
        return self.head(self.o(out).mean(dim=1))


def blas_in_use():
    """The BLAS library mapped into this process (torch's matmuls go through it)."""
    torch.ones(64, 64) @ torch.ones(64, 64)
    with open("/proc/self/maps") as maps:
        paths = {line.split()[-1] for line in maps if "/" in line and "blas" in line.lower()}
    libraries = sorted(p for p in paths if "lapack" not in p)
    return ", ".join(libraries) or "unknown"


def median(values):
    return statistics.median(values)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true", help="end with one JSON line of results")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--batches", default="32,128,512")
    parser.add_argument("--min-steps", type=int, default=400,
                        help="epochs per sample: enough for at least this many steps")
    parser.add_argument("--models", default="mlp,lstm,cnn1d",
                        help="comma-separated: mlp (all engines), lstm, cnn1d, simple-rnn, attention (DL4J and"
                             " native against PyTorch), mlp-tanh, mlp-dropout, lstm-regression, attention-regression"
                             " (native, DL4J and PyTorch)")
    parser.add_argument("--sequence-min-steps", type=int, default=100,
                        help="epochs per sample of the sequence models: enough for this many steps")
    parser.add_argument("--dl4j-javacpp-default", action="store_true",
                        help="short for --dl4j-compare -Dbench.javacppDefaultLimit=true: JavaCPP's"
                             " default resident-memory polling (maxPhysicalBytes = twice the heap"
                             " limit), i.e. as before the engine switched it off")
    parser.add_argument("--dl4j-compare", metavar="JVM_OPTIONS",
                        help="also time the DL4J engine (every selected model) in a second Java"
                             " worker started with these JVM options added after the first's"
                             " (space-separated; where both set something, these win),"
                             " interleaved with the first; prints the ratio second / first. Give"
                             " it with '=', e.g. --dl4j-compare=-Dbench.nd4jDefaults=true: ND4J's own defaults instead of the"
                             " engine's settings (see TrainingWorker)")
    parser.add_argument("--dl4j-compare-env", metavar="VAR=VALUE", action="append", default=[],
                        help="environment variable for the second worker only (repeatable; alone,"
                             " a second worker with no extra JVM options), e.g."
                             " --dl4j-compare-env=LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2")
    parser.add_argument("java", nargs=argparse.REMAINDER, help="-- then the Java worker command")
    args = parser.parse_args()
    java = args.java[1:] if args.java[:1] == ["--"] else args.java
    if args.dl4j_javacpp_default:
        if args.dl4j_compare:
            parser.error("--dl4j-javacpp-default and --dl4j-compare exclude each other")
        args.dl4j_compare = "-Dbench.javacppDefaultLimit=true"
    if not java:
        parser.error("the Java worker command is missing (after --)")
    compare_env = {}
    for setting in args.dl4j_compare_env:
        name, eq, value = setting.partition("=")
        if not eq or not name:
            parser.error("--dl4j-compare-env: expected VAR=VALUE, got %r" % setting)
        compare_env[name] = value
    if compare_env and args.dl4j_compare is None:
        args.dl4j_compare = ""
    batches = [int(b) for b in args.batches.split(",")]
    models = args.models.split(",")
    unknown = [m for m in models
               if m != "mlp" and m not in SEQUENCE_MODELS and m not in HEAD_VARIANTS]
    if unknown or not models:
        parser.error("--models: expected a comma-separated subset of mlp,%s,%s, got %r"
                     % (",".join(SEQUENCE_MODELS), ",".join(HEAD_VARIANTS), args.models))
    sequence_models = [m for m in models if m in SEQUENCE_MODELS]
    variants = [m for m in models if m in HEAD_VARIANTS]
    sequence_data = sequence_models or any(HEAD_VARIANTS[v][0] != "mlp" for v in variants)

    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)
    torch.manual_seed(1)
    work = tempfile.mkdtemp(prefix="train-vs-torch-")
    worker = JavaWorker(java, os.path.join(work, "java-worker.log"))
    reply = worker.ask("data " + work)
    rows, features, parameters = (int(v) for v in reply[:3])
    kernel = " ".join(reply[3:])
    javacpp = {"dl4j": " ".join(worker.ask("javacpp"))}
    compare_worker = None
    if args.dl4j_compare is not None:
        # After the worker's own JVM options (the last of two settings wins), before -cp.
        cp = java.index("-cp") if "-cp" in java else 1
        compare_worker = JavaWorker(java[:cp] + args.dl4j_compare.split() + java[cp:],
                                    os.path.join(work, "java-worker-compare.log"), compare_env)
        compare_worker.ask("data " + work)
        javacpp["dl4j_compare"] = " ".join(compare_worker.ask("javacpp"))
    x = torch.from_numpy(np.fromfile(os.path.join(work, "x.f32"), dtype="<f4")
                         .reshape(rows, features))
    y = torch.from_numpy(np.fromfile(os.path.join(work, "y.f32"), dtype="<f4"))
    flat = torch.from_numpy(np.fromfile(os.path.join(work, "params.f32"), dtype="<f4"))
    assert flat.numel() == parameters
    torch_trainer = TorchTrainer(x, y, flat, features)
    seq_rows = 0
    if sequence_data:
        seq_rows, seq_features, channels, window, units, kernel_size, head, heads = (
            int(v) for v in worker.ask("seqdata " + work))
        xs = torch.from_numpy(np.fromfile(os.path.join(work, "xs.f32"), dtype="<f4")
                              .reshape(seq_rows, seq_features))
        ys = torch.from_numpy(np.fromfile(os.path.join(work, "ys.f32"), dtype="<f4"))
        sequence_trainer = TorchSequenceTrainer(xs, ys, channels, window, units, kernel_size, head,
                                                heads)

    jvm = {}  # (method, batch) -> [(gc ms per step, heap bytes per step)]

    def java_method(name, w, engine, mode, model="mlp"):
        def run(b, e):
            reply = w.ask("time %s %s %d %d %s" % (engine, mode, b, e, model))
            jvm.setdefault((name, b), []).append((float(reply[2]), float(reply[3])))
            return float(reply[0])
        return run

    methods = {}
    if "mlp" in models:
        methods.update({
            "native": java_method("native", worker, "native", "plain"),
            "native_dp": java_method("native_dp", worker, "native", "dp"),
            "dl4j": java_method("dl4j", worker, "dl4j", "plain"),
            "torch": lambda b, e: torch_trainer.plain(b, e)[0],
            "torch_dp": lambda b, e: torch_trainer.dp(b, e)[0],
        })
    for kind in sequence_models:
        methods[kind + "_dl4j"] = java_method(kind + "_dl4j", worker, "dl4j", "plain", kind)
        methods[kind + "_torch"] = (lambda k: lambda b, e: sequence_trainer.plain(k, b, e)[0])(kind)
        if kind in NATIVE_SEQUENCE_MODELS:
            methods[kind + "_native"] = java_method(kind + "_native", worker, "native", "plain", kind)
            methods[kind + "_native_dp"] = java_method(kind + "_native_dp", worker, "native", "dp",
                                                       kind)
            if kind in TORCH_DP_SEQUENCE_MODELS:
                methods[kind + "_torch_dp"] = (
                    lambda k: lambda b, e: sequence_trainer.dp(k, b, e)[0])(kind)
    for v in variants:
        base, activation, dropout, objective = HEAD_VARIANTS[v]
        for engine in ("native", "dl4j"):
            methods[v + "_" + engine] = java_method(v + "_" + engine, worker, engine, "plain", v)
        methods[v + "_native_dp"] = java_method(v + "_native_dp", worker, "native", "dp", v)
        if base == "mlp":
            methods[v + "_torch"] = (lambda a, d: lambda b, e: torch_trainer.plain(b, e, a, d)[0])(
                activation, dropout)
            methods[v + "_torch_dp"] = (lambda a, d: lambda b, e: torch_trainer.dp(b, e, a, d)[0])(
                activation, dropout)
        else:
            methods[v + "_torch"] = (
                lambda k, o: lambda b, e: sequence_trainer.plain(k, b, e, o)[0])(base, objective)
    if compare_worker is not None:
        if "mlp" in models:
            methods["dl4j_compare"] = java_method("dl4j_compare", compare_worker, "dl4j", "plain")
        for kind in sequence_models:
            compare_worker.ask("seqdata " + work)
            methods[kind + "_dl4j_compare"] = java_method(kind + "_dl4j_compare", compare_worker,
                                                          "dl4j", "plain", kind)
    epochs = {b: max(1, math.ceil(args.min_steps / math.ceil(rows / b))) for b in batches}
    seq_epochs = {b: max(1, math.ceil(args.sequence_min_steps / math.ceil(seq_rows / b)))
                  for b in batches} if sequence_data else {}

    def epochs_of(name, b):
        model = name.split("_")[0]
        sequence = model in SEQUENCE_MODELS or HEAD_VARIANTS.get(model, ("mlp",))[0] != "mlp"
        return seq_epochs[b] if sequence else epochs[b]
    load_before = os.getloadavg()
    print("MLP: rows %d, features %d, MLP %s-1, Adam %g, %d parameters; one thread each; native kernel:"
          " %s; PyTorch %s, BLAS %s; %d repeats, each timing every method at every batch once"
          " (epochs per sample: %s)"
          % (rows, features, "-".join(map(str, HIDDEN)), LEARNING_RATE, parameters, kernel,
             torch.__version__, blas_in_use(), args.repeats,
                    ", ".join("%d at batch %d" % (epochs[b], b) for b in batches)),
          flush=True)
    for b in batches:  # warm-up: JIT, allocators, ND4J's native libraries; untimed
        for run in methods.values():
            run(b, 1)
    times = {b: {m: [] for m in methods} for b in batches}
    for r in range(args.repeats):
        for b in batches:
            for name, run in methods.items():
                times[b][name].append(run(b, epochs_of(name, b)))
        print("repeat %d/%d done" % (r + 1, args.repeats), file=sys.stderr, flush=True)
    worker.close()
    if compare_worker is not None:
        compare_worker.close()
    load_after = os.getloadavg()

    def ratio(b, ours, theirs):
        return median([o / t for o, t in zip(times[b][ours], times[b][theirs])])

    result = {"ms_per_step": {m: {} for m in methods}}
    for b in batches:
        for m in methods:
            result["ms_per_step"][m][str(b)] = round(median(times[b][m]), 4)
    print("ms per step (medians) and ratios ours / PyTorch (medians of within-repeat ratios)")
    if "mlp" in models:
        header = ("batch", "native", "torch", "native/torch", "native-dp", "torch-dp", "dp ratio",
                  "dl4j", "dl4j/torch")
        print("MLP %s-1:" % "-".join(map(str, HIDDEN)))
        print("%5s %9s %9s %12s %10s %10s %9s %9s %10s" % header)
        result.update({"ratios": {}, "dp_ratios": {}, "dl4j_ratios": {}})
        for b in batches:
            med = {m: median(times[b][m]) for m in methods}
            r_plain = ratio(b, "native", "torch")
            r_dp = ratio(b, "native_dp", "torch_dp")
            r_dl4j = ratio(b, "dl4j", "torch")
            print("%5d %9.3f %9.3f %12.2f %10.3f %10.3f %9.2f %9.3f %10.2f"
                  % (b, med["native"], med["torch"], r_plain, med["native_dp"], med["torch_dp"],
                     r_dp, med["dl4j"], r_dl4j))
            result["ratios"][str(b)] = round(r_plain, 3)
            result["dp_ratios"][str(b)] = round(r_dp, 3)
            result["dl4j_ratios"][str(b)] = round(r_dl4j, 3)
    for kind in sequence_models:
        print("%s on the DL4J engine (%d rows, epochs per sample: %s):"
              % ({"lstm": "LSTM 16, head 16", "cnn1d": "1-D CNN 16x3, head 16",
                  "simple-rnn": "SimpleRnn 16, head 16",
                  "attention": "self-attention 16 in 2 heads, head 16"}[kind], seq_rows,
                 ", ".join("%d at batch %d" % (seq_epochs[b], b) for b in batches)))
        print("%5s %9s %9s %10s" % ("batch", "dl4j", "torch", "dl4j/torch"))
        result[kind + "_ratios"] = {}
        for b in batches:
            r = ratio(b, kind + "_dl4j", kind + "_torch")
            print("%5d %9.3f %9.3f %10.2f" % (b, median(times[b][kind + "_dl4j"]),
                                               median(times[b][kind + "_torch"]), r))
            result[kind + "_ratios"][str(b)] = round(r, 3)
        if kind in NATIVE_SEQUENCE_MODELS:
            # without PyTorch's DP-SGD, the native DP-SGD step against PyTorch's plain one
            torch_dp = kind + ("_torch_dp" if kind in TORCH_DP_SEQUENCE_MODELS else "_torch")
            print("%s on the native engine, plain and DP-SGD%s:"
                  % (kind, "" if torch_dp.endswith("_dp") else " (torch-dp: PyTorch's plain step)"))
            print("%5s %9s %9s %12s %10s %10s %9s"
                  % ("batch", "native", "torch", "native/torch", "native-dp", "torch-dp", "dp ratio"))
            result[kind + "_native_ratios"] = {}
            result[kind + "_native_dp_ratios"] = {}
            for b in batches:
                r_plain = ratio(b, kind + "_native", kind + "_torch")
                r_dp = ratio(b, kind + "_native_dp", torch_dp)
                print("%5d %9.3f %9.3f %12.2f %10.3f %10.3f %9.2f"
                      % (b, median(times[b][kind + "_native"]), median(times[b][kind + "_torch"]),
                         r_plain, median(times[b][kind + "_native_dp"]),
                         median(times[b][torch_dp]), r_dp))
                result[kind + "_native_ratios"][str(b)] = round(r_plain, 3)
                result[kind + "_native_dp_ratios"][str(b)] = round(r_dp, 3)
    for v in variants:
        base, activation, dropout, objective = HEAD_VARIANTS[v]
        torch_dp = v + ("_torch_dp" if base == "mlp" else "_torch")
        print("%s (%s, activation %s, dropout %g, %s; epochs per sample: %s)%s:"
              % (v, "MLP %s-1" % "-".join(map(str, HIDDEN)) if base == "mlp"
                 else {"lstm": "LSTM 16, head 16",
                       "attention": "self-attention 16 in 2 heads, head 16"}[base],
                 activation, dropout, objective,
                 ", ".join("%d at batch %d" % (epochs_of(v + "_native", b), b) for b in batches),
                 "" if base == "mlp" else " (torch-dp: PyTorch's plain step)"))
        print("%5s %9s %9s %9s %12s %10s %10s %10s %9s"
              % ("batch", "native", "dl4j", "torch", "native/torch", "dl4j/torch", "native-dp",
                 "torch-dp", "dp ratio"))
        for key in ("native_ratios", "dl4j_ratios", "native_dp_ratios"):
            result["%s_%s" % (v, key)] = {}
        for b in batches:
            r_native = ratio(b, v + "_native", v + "_torch")
            r_dl4j = ratio(b, v + "_dl4j", v + "_torch")
            r_dp = ratio(b, v + "_native_dp", torch_dp)
            print("%5d %9.3f %9.3f %9.3f %12.2f %10.2f %10.3f %10.3f %9.2f"
                  % (b, median(times[b][v + "_native"]), median(times[b][v + "_dl4j"]),
                     median(times[b][v + "_torch"]), r_native, r_dl4j,
                     median(times[b][v + "_native_dp"]), median(times[b][torch_dp]), r_dp))
            result[v + "_native_ratios"][str(b)] = round(r_native, 3)
            result[v + "_dl4j_ratios"][str(b)] = round(r_dl4j, 3)
            result[v + "_native_dp_ratios"][str(b)] = round(r_dp, 3)
    if compare_worker is not None:
        print("DL4J engine in a second worker with %s (%s), ms per step and ratio to the first"
              " worker (%s):" % (" ".join([args.dl4j_compare] + args.dl4j_compare_env).strip(),
                                 javacpp["dl4j_compare"], javacpp["dl4j"]))
        result["dl4j_compare"] = {"options": args.dl4j_compare, "env": compare_env, "over_first": {}}
        for kind in models:
            first = "dl4j" if kind == "mlp" else kind + "_dl4j"
            cells = []
            for b in batches:
                r = ratio(b, first + "_compare", first)
                cells.append("batch %d: %.3f ms, %.2f" % (b, median(times[b][first + "_compare"]), r))
                result["dl4j_compare"]["over_first"].setdefault(kind, {})[str(b)] = round(r, 3)
            print("  %-6s %s" % (kind, "; ".join(cells)))
    print("Java: garbage-collection time (whole JVM) and heap allocated by the training thread,"
          " per step (medians):")
    result["jvm_per_step"] = {}
    for name in [m for m in methods if "torch" not in m]:
        cells = []
        for b in batches:
            samples = jvm.get((name, b), [])[-args.repeats:]
            gc = median([g for g, _ in samples]) if samples else float("nan")
            heap = median([h for _, h in samples]) if samples else float("nan")
            cells.append("batch %d: GC %.3f ms, %.1f KB" % (b, gc, heap / 1024))
            result["jvm_per_step"].setdefault(name, {})[str(b)] = {
                "gc_ms": round(gc, 4), "heap_kb": round(heap / 1024, 1)}
        print("  %-10s %s" % (name, "; ".join(cells)))
    print("load average %.1f before, %.1f after (1 min)" % (load_before[0], load_after[0]))
    if args.json:
        result.update({"native_kernel": kernel, "javacpp": javacpp, "repeats": args.repeats, "epochs": {str(b): epochs[b] for b in batches},
                       "sequence_epochs": {str(b): seq_epochs[b] for b in seq_epochs},
                       "torch": torch.__version__, "load_average": [load_before[0], load_after[0]]})
        print(json.dumps(result))


if __name__ == "__main__":
    main()
