#!/usr/bin/env python3
"""A fusectl manifest as Ray Data batch inference: an actor pool of `fusectl.Model`s, numpy batches.

    python3 scripts/cluster/ray_data_fuse.py JOBS WEIGHTS [--actors 1] [--check] [--address auto]

JOBS is a manifest as `fusectl fuse --manifest` reads it (TSV with an optional header, or JSON Lines;
columns text, images, out and optionally image_lengths, text_mask, text_lengths; `#` comments; paths
relative to the manifest's folder). Each job becomes one row of a Ray Dataset; `map_batches` runs a
callable class that opens the model once per actor (`fusectl.Model(WEIGHTS, threads=1)`) and fuses each
job's arrays, and the driver writes every job's output where `out` says. The actor pool has --actors
actors of one CPU each (default 1), so that on a 2-core machine a CPU stays free for Ray's own tasks and
nothing waits forever for a CPU. With --check the same manifest is also run by `fusectl fuse --manifest`
(outputs into a scratch folder) and every output is compared bit for bit; exit status 1 on a difference.

Ray is not a dependency of fusectl: `pip install "ray[data]"` (from PyPI) into the environment that has
the fusectl package (`pip install ./python`). This is a recipe to run by hand (or on a cluster:
--address), not a CI test. Without --address it starts a local Ray (`ray.init()`).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

COLUMNS = ["text", "images", "out", "image_lengths", "text_mask", "text_lengths"]


def read_manifest(path):
    """The jobs of a TSV or JSON Lines manifest as dicts of absolute paths."""
    folder = os.path.dirname(os.path.abspath(path))
    lines = [line.rstrip("\n") for line in open(path, encoding="utf-8")]
    lines = [line for line in lines if line.strip() and not line.lstrip().startswith("#")]
    jobs = []
    if path.endswith(".jsonl") or (lines and lines[0].lstrip().startswith("{")):
        rows = [json.loads(line) for line in lines]
    else:
        first = lines[0].split("\t") if lines else []
        header = first if first and all(name in COLUMNS for name in first) else None
        body = lines[1:] if header else lines
        rows = [dict(zip(header or COLUMNS, line.split("\t"))) for line in body]
    for row in rows:
        jobs.append({key: os.path.join(folder, value) for key, value in row.items() if value and key in COLUMNS})
    return jobs


class FuseJobs:
    """One per actor: the model, opened once; `__call__` fuses a numpy batch of jobs (rows of paths)."""

    def __init__(self, weights, library=None):
        if library:
            os.environ["FUSECTL_LIB"] = library
        import fusectl
        self.model = fusectl.Model(weights, threads=1)

    def __call__(self, batch):
        outputs = []
        for i in range(len(batch["text"])):
            def load(key):
                value = batch[key][i] if key in batch else ""
                return np.load(value) if value else None
            fused = self.model.fuse(load("text"), load("images"), image_lengths=load("image_lengths"),
                                    text_mask=load("text_mask"), text_lengths=load("text_lengths"))
            outputs.append(fused)
        # Ray's numpy batches are columns; a column of arrays of one shape each job (B_j, 1, d) may differ.
        return {"out": batch["out"], "fused": np.array(outputs + [None], dtype=object)[:-1]}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("manifest")
    parser.add_argument("weights")
    parser.add_argument("--actors", type=int, default=1, help="actors in the pool, one CPU each")
    parser.add_argument("--address", help="an existing Ray cluster (default: a local ray.init())")
    parser.add_argument("--fusectl", default="fusectl", help="the CLI, for --check")
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    import ray

    jobs = read_manifest(args.manifest)
    for job in jobs:
        for key in COLUMNS:
            job.setdefault(key, "")
    ray.init(address=args.address, num_cpus=None if args.address else os.cpu_count(),
             include_dashboard=False, ignore_reinit_error=True)
    dataset = ray.data.from_items(jobs)
    fused = dataset.map_batches(FuseJobs, fn_constructor_args=(os.path.abspath(args.weights), os.environ.get("FUSECTL_LIB")),
                                batch_size=4, batch_format="numpy",
                                compute=ray.data.ActorPoolStrategy(size=args.actors), num_cpus=1)
    written = 0
    for row in fused.iter_rows():
        os.makedirs(os.path.dirname(row["out"]) or ".", exist_ok=True)
        np.save(row["out"], np.asarray(row["fused"], dtype=np.float32))
        written += 1
    ray.shutdown()
    print(f"ray data: {written} of {len(jobs)} jobs fused with {args.actors} actor(s)")

    mismatches = 0
    if args.check:
        with tempfile.TemporaryDirectory() as scratch:
            manifest = os.path.join(scratch, "jobs.jsonl")
            with open(manifest, "w") as file:
                for index, job in enumerate(jobs):
                    row = {key: value for key, value in job.items() if value}
                    row["out"] = os.path.join(scratch, "out_%d.npy" % index)
                    file.write(json.dumps(row) + "\n")
            subprocess.run([args.fusectl, "fuse", "--weights", args.weights, "--manifest", manifest, "--quiet"],
                           check=True)
            for index, job in enumerate(jobs):
                if np.load(job["out"]).tobytes() != np.load(os.path.join(scratch, "out_%d.npy" % index)).tobytes():
                    mismatches += 1
                    print(f"job {index} ({job['out']}): differs from fusectl fuse --manifest")
        print(f"checked {len(jobs)} outputs against fusectl fuse --manifest: {mismatches} differ")
    sys.exit(1 if mismatches or written != len(jobs) else 0)


if __name__ == "__main__":
    main()
