"""The standard workloads W1-W5 of docs/model.md for scripts/bench: their sizes and their files.

A workload's inputs are written once into a cache folder and reused while its
manifest matches (same sizes, seed and generator version):

    <cache>/weights.npz                    default config, reference init, seed WEIGHTS_SEED, 64-byte aligned
    <cache>/weights-savez.npz              the same members written by np.savez (unaligned)
    <cache>/<set>/<name>/text.npy          (B, L, 768) float32, standard normal
    <cache>/<set>/<name>/images.npy        (B, T, 2048) or (B, T, P, 2048) float32, standard normal
    <cache>/<set>/<name>/text_mask.npy     W5 only: (B, L) uint8, 1 = real token
    <cache>/<set>/<name>/image_lengths.npy W5 only: (B,) int64, uniform in 1..T
    <cache>/<set>/<name>/manifest.json     written last; its absence means "regenerate"

<set> is "full" (the sizes of docs/model.md) or "quick" (smaller B for a smoke run). Needs numpy;
writing the weights needs torch (scripts/reference/model.py).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Optional

import numpy as np

from benchmark.stamped import reuse_or_build

GENERATOR_VERSION = 1
"""Bumped whenever the files a workload spec produces change; forces regeneration."""

WEIGHTS_ALIGN = 64
"""Weights members start at multiples of this many bytes (as `fusectl init` writes them)."""

WEIGHTS_SEED = 0
"""torch.manual_seed for the reference initialisation of the benchmark weights."""

TXT_DIM = 768
IMG_DIM = 2048
CHUNK_ELEMENTS = 1 << 24
"""Images are generated and written in chunks of about this many float32 (64 MiB)."""


@dataclasses.dataclass(frozen=True)
class Workload:
    """One benchmark input set: sizes as in the "Standard workloads" table of docs/model.md.

    per_step: run with --per-step; ragged: W5's random image_lengths (uniform in
    1..T) and text_mask (random padding); seed: numpy seed of the inputs.
    """

    name: str
    B: int
    L: int
    T: int
    P: int
    per_step: bool
    ragged: bool
    seed: int
    description: str

    @property
    def images_shape(self) -> tuple[int, ...]:
        """(B, T, img) when P == 1, else (B, T, P, img), as docs/model.md allows."""
        if self.P == 1:
            return (self.B, self.T, IMG_DIM)
        return (self.B, self.T, self.P, IMG_DIM)

    @property
    def text_shape(self) -> tuple[int, int, int]:
        return (self.B, self.L, TXT_DIM)

    @property
    def images_bytes(self) -> int:
        return int(np.prod(self.images_shape)) * 4

    def manifest(self) -> dict:
        """What the cached files were made from; compared field by field before reuse."""
        return {"generator_version": GENERATOR_VERSION, **dataclasses.asdict(self)}

    def mode(self) -> str:
        return "per-step" if self.per_step else "plain"


FULL = (
    Workload("W1", 1, 16, 64, 1, False, False, 1, "step: one agent step, latency"),
    Workload("W2", 256, 32, 128, 1, False, False, 2, "batch: offline batch fusion, throughput"),
    Workload("W3", 4, 32, 1024, 4, False, False, 3, "long: long history, 4 tokens a frame"),
    Workload("W4", 8, 32, 128, 1, True, False, 4, "steps: per-step targets for every step"),
    Workload("W5", 64, 32, 256, 1, False, True, 5, "ragged: image_lengths 1..256, random text padding"),
)
"""The standard workloads of docs/model.md, default configuration."""

QUICK_B = {"W1": 1, "W2": 16, "W3": 1, "W4": 2, "W5": 8}
"""Batch sizes of the --quick smoke run (everything else as in FULL)."""

QUICK = tuple(dataclasses.replace(w, B=QUICK_B[w.name]) for w in FULL)

RSS_4096 = dataclasses.replace(
    FULL[1], name="W2x4096", B=4096, seed=6, description="W2-shaped, B=4096 (4.3 GB images): peak RSS"
)
"""The --rss-4096 workload: W2's shape with B = 4096."""


def workloads(quick: bool) -> tuple[Workload, ...]:
    return QUICK if quick else FULL


def select(table: tuple[Workload, ...], names: Optional[str]) -> tuple[Workload, ...]:
    """The workloads named in a comma list ("W1,W3"); all of them for None. Raises ValueError on an unknown name."""
    if not names:
        return table
    by_name = {w.name: w for w in table}
    chosen = []
    for name in (n.strip().upper() for n in names.split(",") if n.strip()):
        if name not in by_name:
            raise ValueError(f"unknown workload '{name}'; expected some of {', '.join(by_name)}")
        chosen.append(by_name[name])
    return tuple(chosen)


# --------------------------------------------------------------------------- files


@dataclasses.dataclass(frozen=True)
class WorkloadFiles:
    """Paths of one generated workload (text_mask and image_lengths only for ragged ones)."""

    folder: Path
    text: Path
    images: Path
    text_mask: Optional[Path]
    image_lengths: Optional[Path]

    def fusectl_args(self) -> list[str]:
        """The input options of `fusectl fuse` for these files."""
        args = ["--text", str(self.text), "--images", str(self.images)]
        if self.text_mask:
            args += ["--text-mask", str(self.text_mask)]
        if self.image_lengths:
            args += ["--image-lengths", str(self.image_lengths)]
        return args

    def torch_args(self) -> list[str]:
        """The same inputs for scripts/benchmark/torch_fuse.py (same option names)."""
        return self.fusectl_args()

    def all_paths(self) -> list[Path]:
        return [p for p in (self.text, self.images, self.text_mask, self.image_lengths) if p]


def files_for(w: Workload, folder: Path) -> WorkloadFiles:
    return WorkloadFiles(
        folder=folder,
        text=folder / "text.npy",
        images=folder / "images.npy",
        text_mask=folder / "text_mask.npy" if w.ragged else None,
        image_lengths=folder / "image_lengths.npy" if w.ragged else None,
    )


def _standard_normal_npy(path: Path, shape: tuple[int, ...], rng: np.random.Generator) -> None:
    """Writes a float32 standard-normal .npy of `shape`, generated and written in chunks along axis 0.

    Plain writes rather than a writable memory map, so the generator's own RSS stays
    near one chunk even for the 4.3 GB --rss-4096 file.
    """
    tmp = path.with_suffix(".tmp.npy")
    row = int(np.prod(shape[1:]))
    step = max(1, CHUNK_ELEMENTS // max(row, 1))
    with open(tmp, "wb") as f:
        np.lib.format.write_array_header_1_0(f, {"descr": "<f4", "fortran_order": False, "shape": shape})
        for start in range(0, shape[0], step):
            stop = min(shape[0], start + step)
            f.write(rng.standard_normal((stop - start, *shape[1:]), dtype=np.float32).astype("<f4").tobytes())
    tmp.replace(path)


def ragged_inputs(w: Workload, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """W5's text_mask (B, L) uint8 and image_lengths (B,) int64.

    image_lengths: uniform in 1..T. text_mask: each sample has a uniform number of
    real tokens in 1..L, padded on the right or on the left (a fair coin), so the
    pooled token is the last real one wherever it sits.
    """
    lengths = rng.integers(1, w.T + 1, size=w.B, dtype=np.int64)
    real = rng.integers(1, w.L + 1, size=w.B)
    left = rng.integers(0, 2, size=w.B).astype(bool)
    mask = np.zeros((w.B, w.L), dtype=np.uint8)
    for b in range(w.B):
        if left[b]:
            mask[b, w.L - real[b] :] = 1
        else:
            mask[b, : real[b]] = 1
    return mask, lengths


def _read_manifest(folder: Path) -> Optional[dict]:
    try:
        return json.loads((folder / "manifest.json").read_text())
    except (OSError, ValueError):
        return None


def ensure_workload(w: Workload, folder: Path, log=print) -> WorkloadFiles:
    """Returns the workload's files, generating them unless a matching manifest is there."""
    files = files_for(w, folder)
    if _read_manifest(folder) == w.manifest() and all(p.is_file() for p in files.all_paths()):
        return files
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "manifest.json").unlink(missing_ok=True)
    log(f"bench: generating {w.name} in {folder} ({w.images_bytes / 1e6:.0f} MB of images)")
    rng = np.random.default_rng(w.seed)
    _standard_normal_npy(files.text, w.text_shape, rng)
    _standard_normal_npy(files.images, w.images_shape, rng)
    if w.ragged:
        mask, lengths = ragged_inputs(w, rng)
        np.save(files.text_mask, mask)
        np.save(files.image_lengths, lengths)
    (folder / "manifest.json").write_text(json.dumps(w.manifest(), indent=1) + "\n")
    return files


def ensure_weights(cache: Path, log=print) -> Path:
    """<cache>/weights.npz: the default config, reference init under seed WEIGHTS_SEED, float32,
    members 64-byte aligned as `fusectl init` writes them (so fusectl reads them in place; an
    np.savez layout is read in place as well: see README "Performance").

    Reused while <cache>/weights.json records the same seed, layout and generator version.
    """
    expected = {"generator_version": GENERATOR_VERSION, "seed": WEIGHTS_SEED, "config": "defaults",
                "align": WEIGHTS_ALIGN}
    path = cache / "weights.npz"

    def build() -> None:
        from reference.model import FusionConfig, init_model, save_weights_npz

        cache.mkdir(parents=True, exist_ok=True)
        log(f"bench: writing reference weights (seed {WEIGHTS_SEED}) to {path}")
        save_weights_npz(init_model(FusionConfig(), WEIGHTS_SEED), path, align=WEIGHTS_ALIGN)

    return reuse_or_build(path, cache / "weights.json", expected, build)


def ensure_savez_weights(cache: Path, aligned: Path, log=print) -> Path:
    """<cache>/weights-savez.npz: the members of `aligned` (ensure_weights' file) rewritten by
    np.savez, the layout every user's own export has (members at whatever offset the zip
    headers leave, not 64-byte aligned). Reused while <cache>/weights-savez.json matches."""
    info = aligned.stat()
    expected = {"generator_version": GENERATOR_VERSION, "from": aligned.name, "bytes": info.st_size,
                "mtime_ns": info.st_mtime_ns, "layout": "np.savez"}
    path = cache / "weights-savez.npz"

    def build() -> None:
        log(f"bench: rewriting the weights with np.savez to {path}")
        with np.load(aligned) as members:
            arrays = {key: members[key] for key in members.files}
        tmp = path.with_name("weights-savez.tmp.npz")
        np.savez(tmp, **arrays)
        tmp.replace(path)

    return reuse_or_build(path, cache / "weights-savez.json", expected, build)
