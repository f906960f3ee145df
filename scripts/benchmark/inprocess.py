"""fusectl in-process (the Python package over libfusectl-c.so): the rows of issue 18's targets.

    scripts/bench inprocess [--fusectl .build/release/fusectl] [--weights w.npz]
        [--threads N] [--repeat 9] [--agents 16] [--history 256]
    (or python3 scripts/benchmark/inprocess.py ...)

Rows (medians of --repeat; the machine's CPU model and load average printed with them):
  - W1 in-process: Model.fuse on W1's inputs (B 1, L 16, T 64, default model) after one warm-up call;
    compare it with the peers' in-process forward of `scripts/bench --workloads W1` (same machine).
  - E agents stepping together at --history frames: one step of all E (Model.sessions) against one
    agent's step (Model.session) on a model of its own; target <= 2x.
  - `import fusectl` and `fusectl.Model(w)` in a fresh interpreter, beside the CLI's own weights load
    (`fuse --timings` load_s); target: <= 30 ms beyond the weights' load.
Without --weights the default model is written once with `fusectl init --seed 0` into the cache folder.
Needs numpy and the package (installed, or this checkout's python/ with the built library).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
# Not this folder (its fusectl.py is the benchmark's CLI driver, not the package); scripts/ for the helper.
sys.path = [p for p in sys.path if os.path.abspath(p or ".") != HERE]
sys.path.insert(0, os.path.dirname(HERE))
from example_support import import_fusectl  # noqa: E402


def median_ms(call, repeat):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def cpu_model():
    try:
        with open("/proc/cpuinfo") as file:
            for line in file:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fusectl", default=os.path.join(os.path.dirname(os.path.dirname(HERE)), ".build", "release", "fusectl"))
    parser.add_argument("--weights")
    parser.add_argument("--cache", default=os.path.join(os.environ.get("TMPDIR", "/tmp"), "fusectl-bench"))
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--agents", type=int, default=16)
    parser.add_argument("--history", type=int, default=256)
    args = parser.parse_args(argv)
    fusectl = import_fusectl(args.fusectl)
    weights = args.weights
    if weights is None:
        os.makedirs(args.cache, exist_ok=True)
        weights = os.path.join(args.cache, "inprocess-default-seed0.npz")
        if not os.path.exists(weights):
            subprocess.run([args.fusectl, "init", "--seed", "0", "--out", weights], check=True)
    print(f"CPU: {cpu_model()}; load average before: {os.getloadavg()[0]:.2f}")
    rng = np.random.default_rng(0)
    rows = []
    with fusectl.Model(weights, threads=args.threads) as model:
        config = model.config
        text = rng.standard_normal((1, 16, config["txt_latent_dim"]), dtype=np.float32)
        images = rng.standard_normal((1, 64, config["img_latent_dim"]), dtype=np.float32)
        model.fuse(text, images)  # the warm-up call (it also packs the weights once)
        w1 = median_ms(lambda: model.fuse(text, images), args.repeat)
        rows.append(("W1 in-process Model.fuse (after one warm-up call)", f"{w1:.2f} ms", f"{model.threads} threads"))
    texts = rng.standard_normal((args.agents, 16, config["txt_latent_dim"]), dtype=np.float32)
    frames = rng.standard_normal((args.agents, config["img_latent_dim"]), dtype=np.float32)
    with fusectl.Model(weights, threads=args.threads) as model:
        batch = model.sessions(texts)
        for _ in range(args.history):
            batch.step(frames)
        together = median_ms(lambda: batch.step(frames), args.repeat)
    with fusectl.Model(weights, threads=args.threads) as model:
        single = model.session(texts[0])
        for _ in range(args.history):
            single.step(frames[0])
        alone = median_ms(lambda: single.step(frames[0]), args.repeat)
    rows.append((f"{args.agents} agents at {args.history}+ frames: one step of all / one agent",
                 f"{together:.2f} ms / {alone:.2f} ms = {together / alone:.2f}x", "target <= 2x"))
    probe = ("import time, sys; t0 = time.perf_counter(); import numpy; t1 = time.perf_counter(); import fusectl; "
             "t2 = time.perf_counter(); m = fusectl.Model(sys.argv[1]); t3 = time.perf_counter(); "
             "print((t2 - t1) * 1e3, (t3 - t2) * 1e3)")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.path.dirname(fusectl.__path__[0]) + os.pathsep + env.get("PYTHONPATH", "")
    imports, opens = [], []
    for _ in range(args.repeat):
        out = subprocess.run([sys.executable, "-c", probe, weights], capture_output=True, text=True, env=env, check=True)
        a, b = map(float, out.stdout.split())
        imports.append(a)
        opens.append(b)
    with tempfile.TemporaryDirectory() as folder:
        np.save(os.path.join(folder, "t.npy"), text)
        np.save(os.path.join(folder, "i.npy"), images)
        loads = []
        for _ in range(args.repeat):
            run = subprocess.run([args.fusectl, "fuse", "--weights", weights, "--text", os.path.join(folder, "t.npy"),
                                  "--images", os.path.join(folder, "i.npy"), "--out", os.path.join(folder, "o.npy"),
                                  "--timings"], capture_output=True, text=True, check=True)
            loads.append(json.loads(run.stderr.strip().splitlines()[-1])["load_s"] * 1e3)
    rows.append(("import fusectl / fusectl.Model(w) / the CLI's weights load",
                 f"{statistics.median(imports):.1f} / {statistics.median(opens):.1f} / {statistics.median(loads):.1f} ms",
                 f"beyond the load: {statistics.median(imports) + max(0.0, statistics.median(opens) - statistics.median(loads)):.1f} ms (target <= 30)"))
    print("| what | measured | note |\n|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    print("The peers' in-process W1 forward (PyTorch, ONNX Runtime, OpenVINO) is in `scripts/bench --workloads W1` "
          "on the same machine and thread count: W1's target is their best forward / Model.fuse >= 1.3.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
