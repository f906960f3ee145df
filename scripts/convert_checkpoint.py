#!/usr/bin/env python3
"""Converts a PyTorch checkpoint (.pt / .pth, as torch.save writes it) into a fusectl weights .npz.

fusectl reads weights from a .npz (one member per state_dict tensor plus a `config` member) or a
.safetensors file, never from a pickle. This script loads the checkpoint with
torch.load(weights_only=True) (no code from the file is run), finds the model's state_dict in it,
optionally cuts one key prefix, checks every tensor against the configuration (docs/model.md, "The
weights file") and writes an .npz whose members start at 64-byte aligned offsets, so that fusectl reads
its float32 tensors in place.

    python3 scripts/convert_checkpoint.py agent.pt --prefix policy.fusion. --config config.json --out weights.npz
    fusectl fuse --weights weights.npz --text text.npy --images images.npy --out fused.npy

Where the state_dict is found: the checkpoint itself when it is a dict of tensors; otherwise the one
nested dict of tensors in it that looks like a model (e.g. {"model": state_dict, "optimizer": ...,
"epoch": 3}: an optimizer's per-parameter state is never a candidate), of several the one that holds the
model's text_proj.proj.weight (under the prefix), or the one named with --key (a path through nested
dicts: --key model or --key checkpoint/model); when it cannot tell, it lists the model-like candidates. With --prefix P, only the tensors whose keys start with P are kept, P stripped (the rest of a
larger model, e.g. "policy.head.*", is dropped). Without it, the keys must already be the model's.

The configuration comes from --config (a JSON file), else from the checkpoint's own "config" entry (a
dict or a JSON string beside the state_dict); keys not given take the defaults of docs/model.md.
Tensors: bfloat16 is widened to float32 exactly; --dtype float16 or float64 stores that instead of
float32. Every error names the checkpoint and the key.

Rename rules map your own module names onto the model's (--rename OLD=NEW, several; applied after the
prefix is stripped, the longest matching OLD wins), as `fusectl fuse --rename` does. When the names do not
match, one error lists every unexpected and every missing tensor, with the model's name where a shape
identifies it and the --rename rules that follow.

Needs torch and numpy. It installs nothing: without torch it says what to install and stops.
"""

from __future__ import annotations

import sys
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parent
sys.path.insert(0, str(SCRIPTS))


def require_torch() -> None:
    """Returns if torch imports; otherwise exits saying how to get it (nothing is installed here)."""
    try:
        import torch  # noqa: F401
    except ImportError:
        venv = SCRIPTS.parent / ".venv-torch" / "bin" / "python"
        then = (f"run this script with {venv}, which has it" if venv.exists() else
                "install torch for this python (python3 -m pip install torch), or make the project's venv "
                f"with scripts/setup_torch.sh and run this script with {venv}")
        sys.exit(f"convert_checkpoint.py: error: torch is not importable by {sys.executable}; {then}")


if __name__ == "__main__":
    require_torch()

import argparse  # noqa: E402
import json  # noqa: E402
from typing import Any, Optional  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

from reference import model as reference  # noqa: E402
from reference import state_dict_names as names  # noqa: E402


class ConversionError(Exception):
    """A problem with the checkpoint or the options; the message names the file and the key."""


def find_state_dict(checkpoint: Any, source: str, key: Optional[str], prefix: str = "") -> dict[str, torch.Tensor]:
    """The state_dict inside `checkpoint`: the one at --key, else the only dict of tensors in it that looks
    like a model (an optimizer's per-parameter state, {"exp_avg": ..., "step": ...}, is a dict of tensors too,
    and never a candidate), else the only one holding the model's text projector under `prefix`."""
    try:
        return names.find_state_dict(checkpoint, source, key, prefix, lambda v: isinstance(v, torch.Tensor))
    except names.NameError_ as error:
        raise ConversionError(str(error)) from error


def embedded_config(checkpoint: Any) -> Optional[dict]:
    """The checkpoint's own top-level "config" entry (a dict or a JSON string), if any."""
    if isinstance(checkpoint, dict) and "config" in checkpoint:
        value = checkpoint["config"]
        if isinstance(value, str):
            return json.loads(value)
        if isinstance(value, dict):
            return dict(value)
    return None


def convert(source: Path, out: Path, prefix: str = "", config_path: Optional[Path] = None,
            key: Optional[str] = None, dtype: str = "float32", renames: tuple[str, ...] = ()) -> dict[str, tuple[int, ...]]:
    """Converts `source` into the weights .npz `out`; returns the written tensors' shapes by key."""
    try:
        rules = [names.parse_rename(rule) for rule in renames]
    except names.NameError_ as error:
        raise ConversionError(str(error)) from error
    try:
        checkpoint = torch.load(source, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises many types here (pickle, zip, unsupported globals)
        raise ConversionError(f"{source}: torch.load(weights_only=True) failed: {error}") from error
    state = find_state_dict(checkpoint, str(source), key, prefix)

    if config_path is not None:
        cfg = reference.FusionConfig.from_json_file(config_path)
    else:
        values = embedded_config(checkpoint)
        if values is None:
            raise ConversionError(f"{source}: the checkpoint has no \"config\" entry; give the configuration with --config FILE")
        cfg = reference.FusionConfig.from_dict(values)

    if prefix:
        inside = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
        if not inside:
            raise ConversionError(f"{source}: no tensor key starts with the prefix {prefix!r} "
                                  f"(keys such as {sorted(state)[0]!r})")
    else:
        inside = dict(state)

    expected = reference.expected_shapes(cfg)
    try:
        model_key = names.rename_all(list(inside), rules, str(source), prefix)
        kept = {model_key[name]: tensor for name, tensor in inside.items()}
        names.check_names({k: tuple(v.shape) for k, v in kept.items()}, expected, str(source), prefix,
                          {model_key[name]: prefix + name for name in inside})
    except names.NameError_ as error:
        raise ConversionError(str(error)) from error
    for name in expected:
        if not kept[name].is_floating_point():
            raise ConversionError(f"{source}: tensor {prefix + name!r}: expected floating point, found {kept[name].dtype}")

    target = {"float16": np.float16, "float32": np.float32, "float64": np.float64}[dtype]
    members: dict[str, np.ndarray] = {}
    for name in expected:  # state_dict order
        tensor = kept[name].detach().cpu().contiguous()
        if tensor.dtype == torch.bfloat16:
            tensor = tensor.float()  # exact
        members[name] = tensor.numpy().astype(target)
    members["config"] = reference.config_member(cfg)
    out.parent.mkdir(parents=True, exist_ok=True)
    temporary = out.with_name(out.name + ".tmp")
    reference.write_npz(temporary, members, align=64)
    temporary.replace(out)
    return {name: tuple(array.shape) for name, array in members.items() if name != "config"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoint", type=Path, help="the .pt / .pth file")
    parser.add_argument("--out", type=Path, required=True, help="the weights .npz to write")
    parser.add_argument("--prefix", default="", help="keep only keys under this prefix, stripped (e.g. policy.fusion.)")
    parser.add_argument("--config", type=Path, help="the model configuration (JSON); default: the checkpoint's 'config' entry")
    parser.add_argument("--key", help="where the state_dict is in a nested checkpoint, e.g. 'model' or 'checkpoint/model'")
    parser.add_argument("--rename", action="append", default=[], metavar="OLD=NEW",
                        help="rename tensors whose name (after --prefix) starts with OLD to start with NEW; repeat for several")
    parser.add_argument("--dtype", choices=["float32", "float16", "float64"], default="float32",
                        help="the stored dtype (float32: read in place by fusectl)")
    args = parser.parse_args()
    try:
        shapes = convert(args.checkpoint, args.out, prefix=args.prefix, config_path=args.config, key=args.key, dtype=args.dtype,
                         renames=tuple(args.rename))
    except (ConversionError, ValueError) as error:
        sys.exit(f"convert_checkpoint.py: error: {error}")
    print(f"wrote {len(shapes)} tensors and the config to {args.out}")


if __name__ == "__main__":
    main()
