"""I/O benchmark for NpyIO against numpy and `cat`, measured in the same run on the same files.

    scripts/bench npyio [--elements N] [--repeat R] [--dir DIR] [--keep]

Builds .build/bench/npyio-bench (swiftc -O -wmo over Sources/NpyIO plus scripts/benchmark/npyio_bench/main.swift,
with Sources/CRCFold compiled by cc),
writes the test files once into DIR (default .build/bench/data; 1 GiB float32 by default), warms
the page cache, then times (best of R runs):

  read  f32 LE .npy   NpyIO mmap + touch every element in place   vs np.load, cat
  read  f32 BE .npy   NpyIO mmap + convert to native float32       vs np.load(...).astype('<f4'), cat
  read  f64 .npy      NpyIO mmap + convert to float32              vs np.load(...).astype('<f4'), cat
  read  .npz deflated NpyIO inflate + CRC + parse                  vs np.load(npz)[k], zlib alone, cat
  write f32 .npy      NpyIO atomic write (with and without fsync)  vs np.save (+fsync), cat > file (+sync)

Every side runs in a fresh process (the NpyIO binary, `python3 -c`, `cat`) and times only the work.

and the memory bandwidth of a plain memcpy for reference. Prints a table and writes
.build/bench/results.json.
"""
import argparse
import json
import os
import subprocess
import sys
import time
import zlib
import zipfile

import numpy as np

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
BENCH = os.path.join(ROOT, ".build", "bench")
BINARY = os.path.join(BENCH, "npyio-bench")


def build():
    """Compiles Sources/CRCFold's C file (cc -O2) and NpyIO's Swift files with the benchmark's main.swift
    (swiftc -O -wmo) into BINARY; CRCFold is given to swiftc as a Clang module through a generated module map."""
    os.makedirs(BENCH, exist_ok=True)
    crc = os.path.join(ROOT, "Sources", "CRCFold")
    modules = os.path.join(BENCH, "modules", "CRCFold")
    os.makedirs(modules, exist_ok=True)
    with open(os.path.join(modules, "module.modulemap"), "w") as f:
        f.write(f'module CRCFold {{\n    header "{os.path.join(crc, "include", "CRCFold.h")}"\n    export *\n}}\n')
    crc_object = os.path.join(BENCH, "crc_fold.o")
    cc = os.environ.get("CC", "cc")
    subprocess.run([cc, "-O2", "-c", "-I", os.path.join(crc, "include"), os.path.join(crc, "crc_fold.c"), "-o", crc_object],
                   check=True)
    sources = [os.path.join(ROOT, "Sources/NpyIO", f) for f in sorted(os.listdir(os.path.join(ROOT, "Sources/NpyIO"))) if f.endswith(".swift")]
    sources += [os.path.join(ROOT, "Sources/NpyIO/Internal", f) for f in sorted(os.listdir(os.path.join(ROOT, "Sources/NpyIO/Internal"))) if f.endswith(".swift")]
    sources.append(os.path.join(ROOT, "scripts/benchmark/npyio_bench/main.swift"))
    cmd = ["swiftc", "-O", "-wmo", "-module-name", "NpyIO", "-I", os.path.join(ROOT, "Sources/CZlib"), "-I", modules,
           "-lz", "-ldeflate", *sources, crc_object, "-o", BINARY]
    subprocess.run(cmd, check=True)


def run_bench(*args):
    out = subprocess.run([BINARY, *map(str, args)], check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def best(fn, repeat):
    times = []
    for _ in range(repeat):
        times.append(fn())
    return min(times)


def timed(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def numpy_seconds(setup, statement):
    """Times `statement` in a fresh python3 process (after `setup`), like the NpyIO binary runs fresh."""
    code = f"import time, os, numpy as np\n{setup}\nt0 = time.perf_counter()\n{statement}\nprint(time.perf_counter() - t0)"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    return float(out.strip().splitlines()[-1])


def cat_seconds(path, repeat):
    return best(lambda: timed(lambda: subprocess.run(["cat", path], stdout=subprocess.DEVNULL, check=True)), repeat)


def make_files(folder, n):
    os.makedirs(folder, exist_ok=True)
    paths = {k: os.path.join(folder, k) for k in ["f32_le.npy", "f32_be.npy", "f64.npy", "deflated.npz"]}
    rng = np.random.default_rng(0)
    chunk = 1 << 24
    specs = [("f32_le.npy", "<f4"), ("f32_be.npy", ">f4"), ("f64.npy", "<f8")]
    for name, dtype in specs:
        path = paths[name]
        if os.path.exists(path) and os.path.getsize(path) >= n * np.dtype(dtype).itemsize:
            continue
        out = np.lib.format.open_memmap(path + ".tmp", mode="w+", dtype=dtype, shape=(n,))
        for start in range(0, n, chunk):
            stop = min(n, start + chunk)
            out[start:stop] = np.random.default_rng(start).standard_normal(stop - start, dtype=np.float32)
        out.flush()
        del out
        os.replace(path + ".tmp", path)
    if not os.path.exists(paths["deflated.npz"]):
        # latents stored at half precision and widened: compressible like real checkpoints (~50%)
        a = np.lib.format.open_memmap(paths["f32_le.npy"], mode="r").astype(np.float16).astype(np.float32)
        np.savez_compressed(paths["deflated.npz"] + ".tmp.npz", x=a)
        os.replace(paths["deflated.npz"] + ".tmp.npz", paths["deflated.npz"])
        del a
    for p in paths.values():
        subprocess.run(["cat", p], stdout=subprocess.DEVNULL, check=True)  # warm the page cache
    return paths


def read_rows(paths, n, repeat, row, bandwidth):
    GB = 1e9
    le_bytes = n * 4
    ours = best(lambda: run_bench("read", paths["f32_le.npy"])["seconds"], repeat)
    ours_chunked = best(lambda: run_bench("read-chunked", paths["f32_le.npy"])["seconds"], repeat)
    np_s = best(lambda: numpy_seconds("", f"a = np.load({paths['f32_le.npy']!r})"), repeat)
    row("read f32 LE (mmap, in place)", le_bytes, ours, np_s, cat_seconds(paths["f32_le.npy"], repeat),
        {"npyio_chunked_s": ours_chunked})
    for key, label in [("f32_be.npy", "read f32 BE -> f32 (convert)"), ("f64.npy", "read f64 -> f32 (convert)")]:
        size = os.path.getsize(paths[key])
        whole = best(lambda: run_bench("read", paths[key])["seconds"], repeat)
        chunked = best(lambda: run_bench("read-chunked", paths[key])["seconds"], repeat)
        np_s = best(lambda: numpy_seconds("", f"a = np.load({paths[key]!r}).astype('<f4')"), repeat)
        row(label, size, min(whole, chunked), np_s, cat_seconds(paths[key], repeat),
            {"npyio_whole_s": whole, "npyio_chunked_s": chunked,
             "fraction_of_memcpy_bw": ((size + n * 4) / min(whole, chunked) / GB) / (2 * bandwidth)})


def npz_rows(paths, repeat, row):
    npz = paths["deflated.npz"]
    npz_ours = best(lambda: run_bench("read-npz", npz, "x")["seconds"], repeat)
    inflate = [run_bench("inflate-only", npz, "x") for _ in range(repeat)]
    zlib_s = min(r["seconds"] for r in inflate)
    crc_s = min(r["crc_seconds"] for r in inflate)
    np_s = best(lambda: numpy_seconds("", f"a = np.load({npz!r})['x']"), repeat)
    with zipfile.ZipFile(npz) as z:
        info = z.getinfo("x.npy")
    member_bytes = info.file_size
    row("read .npz deflated (inflate+CRC)", member_bytes, npz_ours, np_s, cat_seconds(npz, repeat),
        {"zlib_inflate_s": zlib_s, "crc_s": crc_s, "vs_zlib_inflate_plus_crc": (zlib_s + crc_s) / npz_ours,
         "vs_zlib_inflate": zlib_s / npz_ours, "compressed_bytes": info.compress_size})


def write_rows(paths, n, repeat, row, folder):
    le_bytes = n * 4
    # writes: rounds interleave the three writers, each starting after a sync so that none pays for
    # another's write-back; "fsync" variants include making the file durable
    out = os.path.join(folder, "written.npy")
    def np_save(sync):
        fsync = "f.flush(); os.fsync(f.fileno())" if sync else "pass"
        return numpy_seconds(f"a = np.full({n}, 1.5, dtype=np.float32)",
                             f"f = open({out!r}, 'wb'); np.save(f, a); {fsync}; f.close()")

    def cat_to(sync):
        tail = f" && sync {out}" if sync else ""
        return timed(lambda: subprocess.run(f"cat {paths['f32_le.npy']} > {out}{tail}", shell=True, check=True))

    writers = {
        ("npyio", False): lambda: run_bench("write", out, n, "fast")["seconds"],
        ("npyio", True): lambda: run_bench("write", out, n, "durable")["seconds"],
        ("numpy", False): lambda: np_save(False), ("numpy", True): lambda: np_save(True),
        ("cat", False): lambda: cat_to(False), ("cat", True): lambda: cat_to(True),
    }
    times = {key: [] for key in writers}
    order = list(writers)
    for round_index in range(repeat):
        # rotate the order each round so that no writer always runs first after the sync
        rotated = order[round_index % len(order):] + order[:round_index % len(order)]
        for key in rotated:
            fn = writers[key]
            if os.path.exists(out):
                os.remove(out)
            os.sync()
            times[key].append(fn())
    for durable in (False, True):
        row(f"write f32 .npy ({'fsync' if durable else 'no fsync'})", le_bytes, min(times[("npyio", durable)]),
            min(times[("numpy", durable)]), min(times[("cat", durable)]))
    if os.path.exists(out):
        os.remove(out)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="scripts/bench npyio", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--elements", type=int, default=1 << 28, help="float32 elements per file (default 2^28 = 1 GiB)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dir", default=os.path.join(BENCH, "data"))
    parser.add_argument("--keep", action="store_true", help="keep the data files")
    parser.add_argument("--only", default="read,npz,write", help="comma-separated subset of read,npz,write")
    args = parser.parse_args(argv)
    n, repeat = args.elements, args.repeat
    only = set(args.only.split(","))
    build()
    paths = make_files(args.dir, n)
    GB = 1e9
    rows = []

    def row(name, nbytes, ours, numpy_s, cat_s, extra=None):
        rows.append({
            "case": name, "bytes": nbytes, "npyio_s": ours, "numpy_s": numpy_s, "cat_s": cat_s,
            "npyio_GBps": nbytes / ours / GB, "numpy_GBps": nbytes / numpy_s / GB, "cat_GBps": nbytes / cat_s / GB,
            "vs_numpy": numpy_s / ours, "vs_cat": cat_s / ours, **(extra or {}),
        })

    memcpy = run_bench("memcpy", n * 4)
    bandwidth = memcpy["bytes"] / memcpy["seconds"] / GB  # bytes copied per second; traffic is twice that
    open_stats = run_bench("open", paths["f32_le.npy"])

    le_bytes = n * 4
    if "read" in only:
        read_rows(paths, n, repeat, row, bandwidth)
    if "npz" in only:
        npz_rows(paths, repeat, row)
    if "write" in only:
        write_rows(paths, n, repeat, row, args.dir)

    result = {
        "elements": n, "repeat": repeat, "numpy": np.__version__, "zlib": zlib.ZLIB_VERSION,
        "cpus": os.cpu_count(), "memcpy_GBps": bandwidth, "load_average": os.getloadavg(),
        "open_cpu_ms": open_stats["cpu_seconds"] * 1e3, "open_wall_ms": open_stats["seconds"] * 1e3,
        "rows": rows,
    }
    with open(os.path.join(BENCH, "results.json"), "w") as f:
        json.dump(result, f, indent=1)
    print(f"load average {os.getloadavg()[0]:.1f}; memcpy bandwidth {bandwidth:.2f} GB/s (one thread); open of a {le_bytes / 2**30:.2f} GiB .npy: "
          f"{result['open_cpu_ms']:.4f} ms CPU, {result['open_wall_ms']:.4f} ms wall ({os.cpu_count()} CPUs)")
    print(f"{'case':36} {'NpyIO GB/s':>10} {'numpy GB/s':>10} {'cat GB/s':>9} {'vs numpy':>9} {'vs cat':>7}")
    for r in rows:
        print(f"{r['case']:36} {r['npyio_GBps']:10.2f} {r['numpy_GBps']:10.2f} {r['cat_GBps']:9.2f} {r['vs_numpy']:8.2f}x {r['vs_cat']:6.2f}x")
    for r in rows:
        if "fraction_of_memcpy_bw" in r:
            print(f"{r['case']}: memory traffic (in + out) at {r['fraction_of_memcpy_bw'] * 100:.0f}% of one-thread memcpy traffic "
                  f"(whole {r['npyio_whole_s']:.3f} s, chunked {r['npyio_chunked_s']:.3f} s)")
        if "vs_zlib_inflate" in r:
            print(f"{r['case']}: zlib inflate alone {r['zlib_inflate_s']:.3f} s + CRC {r['crc_s']:.3f} s; NpyIO {r['npyio_s']:.3f} s "
                  f"({r['vs_zlib_inflate_plus_crc'] * 100:.0f}% of zlib inflate+CRC speed, {r['vs_zlib_inflate'] * 100:.0f}% of inflate alone)")
    if not args.keep:
        for p in paths.values():
            os.remove(p)
    return 0
