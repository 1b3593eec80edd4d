"""Side-by-side benchmark: retrograd vs PyTorch, in one process, interleaved.

Usage (from the repository root)::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python -m benchmarks.compare            # everything
    python -m benchmarks.compare --only mlp_b128 lenet_b32 --rounds 7
    python -m benchmarks.compare --profile lenet_b128     # cProfile of retrograd's step
    python -m benchmarks.compare --list

Each workload is a full training step (zero_grad, forward, loss, backward, optimizer
step) unless its name says otherwise. Both libraries get identical models (same
initial weights) and data. Rounds alternate between the libraries so that machine
noise hits both alike; the table shows median milliseconds per step, the ratio
retrograd / PyTorch (below 1 means retrograd is faster) and peak memory of a step,
measured in a fresh subprocess per library. Results are also written as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent


# ---------------------------------------------------------------------- machine info

def machine_info():
    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    blas = []
    try:
        from threadpoolctl import threadpool_info

        for lib in threadpool_info():
            blas.append({k: lib.get(k) for k in ("internal_api", "version", "architecture",
                                                  "num_threads", "prefix")})
    except ImportError:
        blas.append({"note": "threadpoolctl not installed"})
    import torch

    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "blas": blas,
        "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE"),
        "OPENBLAS_L2_SIZE": os.environ.get("OPENBLAS_L2_SIZE"),
    }


def numpy_gemm_peak(n=1024, m=4096, repeats=5):
    """Best float32 GEMM throughput NumPy reaches here (GFLOP/s), at the wide MLP's sizes."""
    a = np.random.default_rng(0).standard_normal((256, m), dtype=np.float32)
    b = np.random.default_rng(1).standard_normal((m, m), dtype=np.float32)
    best = 0.0
    for _ in range(repeats):
        t = time.perf_counter()
        a @ b
        dt = time.perf_counter() - t
        best = max(best, 2 * 256 * m * m / dt / 1e9)
    return best


# ---------------------------------------------------------------------- workloads

def _mlp(nn, sizes, act="ReLU"):
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(getattr(nn, act)())
    return nn.Sequential(*layers)


def _lenet(nn):
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))


def _copy_weights(src_torch, dst_rg):
    """Give both libraries the same initial weights."""
    sd = {k: v.detach().numpy().copy() for k, v in src_torch.state_dict().items()}
    dst_rg.load_state_dict(sd)


def _classifier_step(lib, model, x, y, opt):
    loss_fn = lib.nn.CrossEntropyLoss()

    def step():
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss

    return step


def build(workload, lib_name):
    """Return (step_callable, flops_per_step or None) for one library."""
    import torch

    import retrograd

    lib = retrograd if lib_name == "retrograd" else torch
    rng = np.random.default_rng(0)
    if workload in ("per_op", "per_op_nograd"):
        a, b, c = (lib.tensor(rng.standard_normal((4, 4), dtype=np.float32), requires_grad=True)
                   for _ in range(3))
        if workload == "per_op":
            def step():
                for _ in range(50):
                    (a * b + c).sum().backward()
        else:
            def step():
                with lib.no_grad():
                    for _ in range(50):
                        (a * b + c).sum()
        return step, None
    if workload.startswith("mlp_b") or workload == "wide_mlp":
        if workload == "wide_mlp":
            sizes, batch = [4096, 4096, 4096, 10], 256
        else:
            sizes, batch = [784, 512, 256, 10], int(workload[5:])
        torch.manual_seed(0)
        tmodel = _mlp(torch.nn, sizes)
        model = tmodel if lib is torch else _mlp(retrograd.nn, sizes)
        if lib is not torch:
            _copy_weights(tmodel, model)
        x = lib.tensor(rng.standard_normal((batch, sizes[0]), dtype=np.float32))
        y = lib.tensor(rng.integers(0, 10, batch))
        opt = lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        flops = 6 * batch * sum(sizes[i] * sizes[i + 1] for i in range(len(sizes) - 1))
        return _classifier_step(lib, model, x, y, opt), flops
    if workload.startswith("lenet"):
        batch = int(workload.split("_b")[-1])
        torch.manual_seed(0)
        tmodel = _lenet(torch.nn)
        model = tmodel if lib is torch else _lenet(retrograd.nn)
        if lib is not torch:
            _copy_weights(tmodel, model)
        x = lib.tensor(rng.standard_normal((batch, 1, 28, 28), dtype=np.float32))
        y = lib.tensor(rng.integers(0, 10, batch))
        if workload.startswith("lenet_infer"):
            model.eval()

            def step():
                with lib.no_grad():
                    model(x)
            return step, None
        opt = lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        return _classifier_step(lib, model, x, y, opt), None
    if workload in SEQUENCE_WORKLOADS:
        from benchmarks import sequence

        return sequence.build(workload, lib), None
    raise KeyError(workload)


WORKLOADS = ["per_op", "per_op_nograd", "mlp_b32", "mlp_b128", "wide_mlp", "lenet_b32", "lenet_b128",
             "lenet_infer_b256"]
SEQUENCE_WORKLOADS = ["lstm_lm", "gru_lm", "rnn_lm", "transformer_enc"]
TARGETS = {"per_op": 0.7, "mlp_b32": 1.0, "mlp_b128": 0.8, "lenet_b32": 1.5, "lenet_b128": 1.5,
           "lenet_infer_b256": 1.5, "lstm_lm": 1.3, "gru_lm": 1.3, "rnn_lm": 1.3,
           "transformer_enc": 1.5}


def _available(workload):
    if workload in SEQUENCE_WORKLOADS:
        try:
            import retrograd.nn as rnn
            from benchmarks import sequence  # noqa: F401

            return hasattr(rnn, "LSTM")
        except ImportError:
            return False
    return True


def time_step(step, min_time=0.2, max_iter=200):
    """Seconds per call: enough calls to fill ``min_time``."""
    step()  # warm-up
    n, t0 = 0, time.perf_counter()
    while True:
        step()
        n += 1
        dt = time.perf_counter() - t0
        if dt >= min_time or n >= max_iter:
            return dt / n


def peak_memory(workload, lib_name, steps=3):
    """Peak resident memory (MiB) above the steady state, during a few steps after a warm-up
    step, measured in a fresh subprocess (the kernel's peak-RSS mark is reset first)."""
    code = (
        "import sys, json;"
        f"sys.path.insert(0, {str(ROOT.parent)!r});"
        "from benchmarks.compare import build, _rss, _reset_peak, _peak;"
        f"step, _ = build({workload!r}, {lib_name!r});"
        "step();"
        "base = _rss(); _reset_peak();"
        f"[step() for _ in range({steps})];"
        "print(json.dumps({'base': base, 'peak': _peak()}))"
    )
    env = dict(os.environ)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         timeout=600)
    if out.returncode:
        return None
    d = json.loads(out.stdout.strip().splitlines()[-1])
    return max(d["peak"] - d["base"], 0.0)


def _reset_peak():
    """Reset the kernel's peak-RSS mark (VmHWM) so that only what follows is measured."""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def _peak():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def _rss():
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2 ** 20


def run(workloads, rounds, memory, out_path):
    import torch

    threads = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    torch.set_num_threads(threads)
    info = machine_info()
    peak = numpy_gemm_peak()
    info["numpy_gemm_gflops"] = round(peak, 1)
    print(f"CPU: {info['cpu']} ({info['cores']} cores)   NumPy {info['numpy']}   torch "
          f"{info['torch']} ({info['torch_threads']} threads)")
    for b in info["blas"]:
        print(f"BLAS: {b}")
    print(f"OPENBLAS_CORETYPE={info['OPENBLAS_CORETYPE']}  OPENBLAS_L2_SIZE={info['OPENBLAS_L2_SIZE']}")
    print(f"NumPy float32 GEMM peak (256x4096 @ 4096x4096): {peak:.1f} GFLOP/s\n")
    results = []
    header = f"{'workload':<18}{'retrograd ms':>14}{'torch ms':>11}{'ratio':>8}{'target':>8}" \
             f"{'rg MiB':>9}{'torch MiB':>11}{'mem ratio':>11}"
    print(header)
    print("-" * len(header))
    for w in workloads:
        if not _available(w):
            print(f"{w:<18}  (skipped: not available yet)")
            continue
        steps = {lib: build(w, lib) for lib in ("retrograd", "torch")}
        times = {"retrograd": [], "torch": []}
        for _ in range(rounds):
            for lib in ("retrograd", "torch"):
                times[lib].append(time_step(steps[lib][0]))
        med = {k: statistics.median(v) * 1e3 for k, v in times.items()}
        ratio = med["retrograd"] / med["torch"]
        mem = {lib: (peak_memory(w, lib) if memory else None) for lib in ("retrograd", "torch")}
        mem_ratio = (mem["retrograd"] / mem["torch"]) if memory and mem["torch"] and \
            mem["retrograd"] is not None else None
        row = {"workload": w, "retrograd_ms": med["retrograd"], "torch_ms": med["torch"],
               "ratio": ratio, "target": TARGETS.get(w), "retrograd_mib": mem["retrograd"],
               "torch_mib": mem["torch"], "mem_ratio": mem_ratio}
        flops = steps["retrograd"][1]
        if w == "wide_mlp" and flops:
            row["retrograd_gflops"] = flops / (med["retrograd"] / 1e3) / 1e9
            row["torch_gflops"] = flops / (med["torch"] / 1e3) / 1e9
            row["fraction_of_numpy_peak"] = row["retrograd_gflops"] / peak
        results.append(row)

        def f(v, fmt):
            return format(v, fmt) if v is not None else "-"

        print(f"{w:<18}{med['retrograd']:>14.3f}{med['torch']:>11.3f}{ratio:>8.2f}"
              f"{f(TARGETS.get(w), '.2f'):>8}{f(mem['retrograd'], '.1f'):>9}{f(mem['torch'], '.1f'):>11}"
              f"{f(mem_ratio, '.2f'):>11}")
        if "fraction_of_numpy_peak" in row:
            print(f"{'':<18}retrograd {row['retrograd_gflops']:.1f} GFLOP/s = "
                  f"{100 * row['fraction_of_numpy_peak']:.0f}% of NumPy GEMM peak; torch "
                  f"{row['torch_gflops']:.1f} GFLOP/s")
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(json.dumps({"machine": info, "results": results}, indent=2))
    print(f"\nwrote {out_path}")
    return results


def profile(workload, steps=30, sort="tottime"):
    import cProfile
    import pstats

    step, _ = build(workload, "retrograd")
    step()
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(steps):
        step()
    prof.disable()
    pstats.Stats(prof).sort_stats(sort).print_stats(25)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--only", nargs="+", metavar="WORKLOAD", help="run only these workloads")
    p.add_argument("--rounds", type=int, default=5, help="interleaved rounds per workload (median)")
    p.add_argument("--no-memory", action="store_true", help="skip the peak-memory subprocesses")
    p.add_argument("--out", type=Path, default=ROOT / "results" / "latest.json")
    p.add_argument("--profile", metavar="WORKLOAD", help="cProfile retrograd's step instead")
    p.add_argument("--list", action="store_true", help="list workloads")
    args = p.parse_args(argv)
    if args.list:
        print("\n".join(WORKLOADS + SEQUENCE_WORKLOADS))
        return 0
    if args.profile:
        profile(args.profile)
        return 0
    workloads = args.only or (WORKLOADS + SEQUENCE_WORKLOADS)
    unknown = [w for w in workloads if w not in WORKLOADS + SEQUENCE_WORKLOADS]
    if unknown:
        p.error(f"unknown workload(s) {unknown}; see --list")
    run(workloads, args.rounds, not args.no_memory, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
