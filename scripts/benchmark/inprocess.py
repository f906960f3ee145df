"""fusectl in-process (the Python package over libfusectl-c.so): the rows of issue 18's targets.

    python3 scripts/benchmark/inprocess.py [--fusectl .build/release/fusectl] [--weights w.npz]
        [--threads N] [--repeat 9] [--agents 16] [--history 256]

Rows (medians of --repeat; the machine's CPU model and load average printed with them):
  - W1 in-process: Model.fuse on W1's inputs (B 1, L 16, T 64, default model) after one warm-up call;
    compare it with the peers' in-process forward of `scripts/bench --workloads W1` (same machine).
  - E agents stepping together at --history frames: one step of all E (Model.sessions) against one
    agent's step (Model.session) on a model of its own, the two timed in alternating rounds; target <= 2x.
  - `import fusectl` and `fusectl.Model(w)` in a fresh interpreter, beside the CLI's own weights load
    (`fuse --timings` load_s); target: <= 30 ms beyond the weights' load.
Without --weights the default model is written once with `fusectl init --seed 0` into the cache folder.
Needs numpy and the package (installed, or this checkout's python/ with the built library).
scripts/bench reports the same rows in its own run (benchmark/main.py imports these functions).
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
from benchmark import rounds as bench_rounds  # noqa: E402


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


def w1_ms(model, text, images, repeat):
    """Model.fuse on (text, images) after one warm-up call (it also packs the weights once): median ms."""
    model.fuse(text, images)
    return median_ms(lambda: model.fuse(text, images), repeat)


def agents_step(fusectl, weights, threads, rounds, agents=16, history=256, seed=0):
    """`agents` agents stepping together (Model.sessions) against one agent's step (Model.session, on a
    model of its own), both after `history` steps, timed in alternating rounds (benchmark/rounds.py) so
    that the machine's drift hits both alike. Returns {"together_ms", "alone_ms", "ratio"}: the medians
    and the median over rounds of (that round's step of all / that round's step of one)."""
    rng = np.random.default_rng(seed)
    with fusectl.Model(weights, threads=threads) as together_model, \
            fusectl.Model(weights, threads=threads) as alone_model:
        config = together_model.config
        texts = rng.standard_normal((agents, 16, config["txt_latent_dim"]), dtype=np.float32)
        frames = rng.standard_normal((agents, config["img_latent_dim"]), dtype=np.float32)
        batch = together_model.sessions(texts)
        single = alone_model.session(texts[0])
        for _ in range(history):
            batch.step(frames)
            single.step(frames[0])
        times = bench_rounds.run_rounds({"together": lambda: batch.step(frames),
                                         "alone": lambda: single.step(frames[0])}, rounds)
    ratios = [a / b for a, b in zip(times["together"], times["alone"])]
    return {"together_ms": statistics.median(times["together"]) * 1e3,
            "alone_ms": statistics.median(times["alone"]) * 1e3, "ratio": statistics.median(ratios),
            "agents": agents, "history": history}


def import_and_open(fusectl, weights, repeat, python=sys.executable):
    """`import fusectl` and `fusectl.Model(weights)` in fresh interpreters (numpy imported first, not
    counted): their median ms, (import_ms, model_ms)."""
    probe = ("import time, sys; t0 = time.perf_counter(); import numpy; t1 = time.perf_counter(); import fusectl; "
             "t2 = time.perf_counter(); m = fusectl.Model(sys.argv[1]); t3 = time.perf_counter(); "
             "print((t2 - t1) * 1e3, (t3 - t2) * 1e3)")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.path.dirname(fusectl.__path__[0]) + os.pathsep + env.get("PYTHONPATH", "")
    imports, opens = [], []
    for _ in range(repeat):
        out = subprocess.run([python, "-c", probe, str(weights)], capture_output=True, text=True, env=env, check=True)
        a, b = map(float, out.stdout.split())
        imports.append(a)
        opens.append(b)
    return statistics.median(imports), statistics.median(opens)


def cli_load_ms(binary, weights, text, images, repeat):
    """The CLI's own weights load (`fusectl fuse --timings` load_s) on (text, images): median ms."""
    with tempfile.TemporaryDirectory() as folder:
        np.save(os.path.join(folder, "t.npy"), text)
        np.save(os.path.join(folder, "i.npy"), images)
        loads = []
        for _ in range(repeat):
            run = subprocess.run([str(binary), "fuse", "--weights", str(weights), "--text", os.path.join(folder, "t.npy"),
                                  "--images", os.path.join(folder, "i.npy"), "--out", os.path.join(folder, "o.npy"),
                                  "--timings"], capture_output=True, text=True, check=True)
            loads.append(json.loads(run.stderr.strip().splitlines()[-1])["load_s"] * 1e3)
    return statistics.median(loads)


def beyond_load_ms(import_ms, model_ms, load_ms):
    """What `import fusectl; fusectl.Model(w)` costs beyond the weights' own load (issue 18: <= 30 ms)."""
    return import_ms + max(0.0, model_ms - load_ms)


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
        w1 = w1_ms(model, text, images, args.repeat)
        rows.append(("W1 in-process Model.fuse (after one warm-up call)", f"{w1:.2f} ms", f"{model.threads} threads"))
    agents = agents_step(fusectl, weights, args.threads, args.repeat, args.agents, args.history)
    rows.append((f"{args.agents} agents at {args.history}+ frames: one step of all / one agent",
                 f"{agents['together_ms']:.2f} ms / {agents['alone_ms']:.2f} ms (medians); "
                 f"median of per-round ratios {agents['ratio']:.2f}x", "target <= 2x"))
    imports, opens = import_and_open(fusectl, weights, args.repeat)
    load = cli_load_ms(args.fusectl, weights, text, images, args.repeat)
    rows.append(("import fusectl / fusectl.Model(w) / the CLI's weights load",
                 f"{imports:.1f} / {opens:.1f} / {load:.1f} ms",
                 f"beyond the load: {beyond_load_ms(imports, opens, load):.1f} ms (target <= 30)"))
    print("| what | measured | note |\n|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
