"""PyTorch reference for fusectl's fusion model, exactly as docs/model.md describes it.

Every golden file under fixtures/golden/ is produced by this module (through
scripts/reference/make_golden.py), so it is written to be obviously right rather than fast:
the module tree and parameter names follow the weights table of docs/model.md, the per-step mode is
computed by brute force over prefixes, and every input is checked before use.

Module tree (state_dict keys in brackets):

    FusionModel
      text_proj   : Projector   [text_proj.proj.weight]            (d, txt_latent_dim)
      vision_proj : Projector   [vision_proj.proj.weight]          (d, img_latent_dim)
      fusor       : Fusor
        blocks    : ModuleList of FusionBlock
          attn    : nn.MultiheadAttention(d, H, bias=attn_bias, batch_first=True)
          norm1   : nn.LayerNorm(d, eps)
          ffn     : nn.Sequential(nn.Linear(d, ffn_dim), act, nn.Linear(ffn_dim, d))
          norm2   : nn.LayerNorm(d, eps)
        final_norm: nn.LayerNorm(d, eps)   (only if final_norm)

Shapes used throughout: B samples, L text tokens, T frames, P tokens per frame,
N blocks, H heads, d = proj_dim. The computation is float32; float16/float64
inputs and weights are converted to float32 exactly once, on entry.

Public entry points: FusionConfig, FusionModel (forward, forward_per_step,
forward_per_step_fast), pool_text, init_model, save_weights_npz,
load_weights_npz, write_npz, read_config_member.

Needs torch and numpy (scripts/setup_torch.sh makes a virtual environment).
"""

from __future__ import annotations

import dataclasses
import json
import struct
import zipfile
from pathlib import Path
from typing import Any, Optional, Union

import numpy as np
import torch
from torch import nn

ACTIVATIONS = ("gelu", "gelu_tanh", "relu")
"""Values allowed for FusionConfig.activation."""

WEIGHT_DTYPES = (np.float16, np.float32, np.float64)
"""Storage dtypes allowed for weights and float inputs."""

ArrayLike = Union[np.ndarray, torch.Tensor]


# --------------------------------------------------------------------------- config


@dataclasses.dataclass(frozen=True)
class FusionConfig:
    """The model configuration: the table of docs/model.md, same keys, same defaults.

    Raises ValueError on construction when a value is invalid (non-positive size,
    proj_dim not divisible by n_heads, unknown activation, eps <= 0).
    """

    img_latent_dim: int = 2048
    txt_latent_dim: int = 768
    proj_dim: int = 768
    n_heads: int = 8
    n_blocks: int = 4
    ffn_dim: int = 3072
    norm_first: bool = False
    activation: str = "gelu"
    layer_norm_eps: float = 1e-5
    final_norm: bool = False
    attn_bias: bool = True

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.type in ("int", int):
                if isinstance(value, bool) or not isinstance(value, int):
                    raise ValueError(f"config key '{f.name}': expected an integer, found {value!r}")
                if value < 1:
                    raise ValueError(f"config key '{f.name}': expected >= 1, found {value}")
            elif f.type in ("bool", bool):
                if not isinstance(value, bool):
                    raise ValueError(f"config key '{f.name}': expected true or false, found {value!r}")
            elif f.type in ("float", float):
                if isinstance(value, bool) or not isinstance(value, (int, float)):
                    raise ValueError(f"config key '{f.name}': expected a number, found {value!r}")
        if self.proj_dim % self.n_heads != 0:
            raise ValueError(
                f"config: proj_dim {self.proj_dim} is not divisible by n_heads {self.n_heads}"
            )
        if self.activation not in ACTIVATIONS:
            raise ValueError(
                f"config key 'activation': expected one of {list(ACTIVATIONS)}, found {self.activation!r}"
            )
        if not self.layer_norm_eps > 0:
            raise ValueError(f"config key 'layer_norm_eps': expected > 0, found {self.layer_norm_eps}")

    @property
    def head_dim(self) -> int:
        """dh = proj_dim / n_heads."""
        return self.proj_dim // self.n_heads

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "FusionConfig":
        """Builds a config from a dict; missing keys take defaults, unknown keys raise ValueError."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"config: unknown key(s) {unknown}; known keys are {sorted(known)}")
        values = dict(values)
        if "layer_norm_eps" in values and isinstance(values["layer_norm_eps"], int) and not isinstance(
            values["layer_norm_eps"], bool
        ):
            values["layer_norm_eps"] = float(values["layer_norm_eps"])
        return cls(**values)

    @classmethod
    def from_json(cls, text: str) -> "FusionConfig":
        """Parses a JSON object (a string, not a path); see from_dict for the rules."""
        values = json.loads(text)
        if not isinstance(values, dict):
            raise ValueError(f"config: expected a JSON object, found {type(values).__name__}")
        return cls.from_dict(values)

    @classmethod
    def from_json_file(cls, path: Union[str, Path]) -> "FusionConfig":
        """Reads and parses a JSON config file."""
        return cls.from_json(Path(path).read_text(encoding="utf-8"))

    def to_dict(self) -> dict[str, Any]:
        """All keys, in the table order of docs/model.md."""
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        """Compact JSON with every key, in the table order of docs/model.md."""
        return json.dumps(self.to_dict())


# --------------------------------------------------------------------------- modules


def _activation(name: str) -> nn.Module:
    """gelu: exact erf GELU; gelu_tanh: the tanh approximation; relu."""
    if name == "gelu":
        return nn.GELU()
    if name == "gelu_tanh":
        return nn.GELU(approximate="tanh")
    if name == "relu":
        return nn.ReLU()
    raise ValueError(f"unknown activation {name!r}; expected one of {list(ACTIVATIONS)}")


class Projector(nn.Module):
    """A bias-free linear map in a `proj` submodule: (..., in_dim) -> (..., d)."""

    def __init__(self, in_dim: int, d: int) -> None:
        super().__init__()
        self.proj = nn.Linear(in_dim, d, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(x)


class FusionBlock(nn.Module):
    """One cross-attention block; updates the query only, K and V come from X.

    post-norm: q = LN1(q + attn(q, X)); q = LN2(q + FFN(q))
    pre-norm:  q = q + attn(LN1(q), X); q = q + FFN(LN2(q))   (X never normalised)
    """

    def __init__(self, cfg: FusionConfig) -> None:
        super().__init__()
        d = cfg.proj_dim
        self.norm_first = cfg.norm_first
        self.attn = nn.MultiheadAttention(d, cfg.n_heads, bias=cfg.attn_bias, batch_first=True)
        self.norm1 = nn.LayerNorm(d, eps=cfg.layer_norm_eps)
        self.ffn = nn.Sequential(
            nn.Linear(d, cfg.ffn_dim), _activation(cfg.activation), nn.Linear(cfg.ffn_dim, d)
        )
        self.norm2 = nn.LayerNorm(d, eps=cfg.layer_norm_eps)

    def _attend(self, q, x, key_padding_mask, attn_mask, need_weights):
        out, weights = self.attn(
            q,
            x,
            x,
            key_padding_mask=key_padding_mask,
            attn_mask=attn_mask,
            need_weights=need_weights,
            average_attn_weights=False,
        )
        return out, weights

    def forward(
        self,
        q: torch.Tensor,
        x: torch.Tensor,
        key_padding_mask: Optional[torch.Tensor] = None,
        attn_mask: Optional[torch.Tensor] = None,
        need_weights: bool = False,
    ) -> tuple[torch.Tensor, Optional[torch.Tensor]]:
        """q (B, Q, d), x (B, S, d), key_padding_mask (B, S) bool True = ignore,
        attn_mask (Q, S) bool True = ignore. Returns q (B, Q, d) and, if
        need_weights, the per-head weights (B, H, Q, S), else None."""
        if self.norm_first:
            a, w = self._attend(self.norm1(q), x, key_padding_mask, attn_mask, need_weights)
            q = q + a
            q = q + self.ffn(self.norm2(q))
        else:
            a, w = self._attend(q, x, key_padding_mask, attn_mask, need_weights)
            q = self.norm1(q + a)
            q = self.norm2(q + self.ffn(q))
        return q, w


class Fusor(nn.Module):
    """The N blocks in sequence and the optional final LayerNorm."""

    def __init__(self, cfg: FusionConfig) -> None:
        super().__init__()
        self.blocks = nn.ModuleList([FusionBlock(cfg) for _ in range(cfg.n_blocks)])
        self.final_norm = nn.LayerNorm(cfg.proj_dim, eps=cfg.layer_norm_eps) if cfg.final_norm else None

    def forward(self, q, x, key_padding_mask=None, attn_mask=None, need_weights=False):
        """q (B, Q, d), x (B, S, d) -> q (B, Q, d) and a list of N weights (B, H, Q, S) or None."""
        weights = []
        for block in self.blocks:
            q, w = block(q, x, key_padding_mask, attn_mask, need_weights)
            weights.append(w)
        if self.final_norm is not None:
            q = self.final_norm(q)
        return q, (weights if need_weights else None)


# --------------------------------------------------------------------------- input handling


def _as_float32(name: str, x: ArrayLike) -> torch.Tensor:
    """Converts a float16/32/64 array to a float32 tensor (one rounding at most)."""
    t = torch.as_tensor(x)
    if t.dtype not in (torch.float16, torch.float32, torch.float64):
        raise ValueError(f"{name}: expected float16, float32 or float64, found {t.dtype}")
    return t.to(torch.float32)


def _as_int64(name: str, x: ArrayLike) -> torch.Tensor:
    t = torch.as_tensor(x)
    if t.dtype.is_floating_point or t.dtype.is_complex or t.dtype == torch.bool:
        raise ValueError(f"{name}: expected integers, found {t.dtype}")
    return t.to(torch.int64)


def pool_text(
    text: ArrayLike,
    text_lengths: Optional[ArrayLike] = None,
    text_mask: Optional[ArrayLike] = None,
) -> torch.Tensor:
    """Picks the pooled text token of each sample: (B, L, txt) or (B, txt) -> (B, txt) float32.

    With text_lengths (B,) ints: token len-1 (1 <= len <= L). With text_mask (B, L),
    nonzero = real token: the last index whose mask is nonzero (left or right
    padding alike). Neither: token L-1. 2-D text is already pooled and takes neither.
    Raises ValueError on a bad shape, both options at once, a length out of range or a
    mask row with no real token (naming the sample).
    """
    t = _as_float32("text", text)
    if t.dim() == 2:
        if text_lengths is not None or text_mask is not None:
            raise ValueError("text: 2-D text is already pooled; text_lengths/text_mask do not apply")
        return t
    if t.dim() != 3:
        raise ValueError(f"text: expected (B, L, txt) or (B, txt), found shape {tuple(t.shape)}")
    B, L, _ = t.shape
    if text_lengths is not None and text_mask is not None:
        raise ValueError("text: give text_lengths or text_mask, not both")
    if text_lengths is not None:
        lengths = _as_int64("text_lengths", text_lengths)
        if tuple(lengths.shape) != (B,):
            raise ValueError(f"text_lengths: expected shape ({B},), found {tuple(lengths.shape)}")
        for b in range(B):
            if not 1 <= int(lengths[b]) <= L:
                raise ValueError(f"text_lengths: sample {b} has length {int(lengths[b])}, expected 1...{L}")
        index = lengths - 1
    elif text_mask is not None:
        mask = torch.as_tensor(text_mask)
        if tuple(mask.shape) != (B, L):
            raise ValueError(f"text_mask: expected shape ({B}, {L}), found {tuple(mask.shape)}")
        real = mask != 0
        index = torch.empty(B, dtype=torch.int64)
        for b in range(B):
            nz = torch.nonzero(real[b]).flatten()
            if nz.numel() == 0:
                raise ValueError(f"text_mask: sample {b} has no real token")
            index[b] = nz[-1]
    else:
        index = torch.full((B,), L - 1, dtype=torch.int64)
    return t[torch.arange(B), index]


def _images_4d(images: ArrayLike) -> torch.Tensor:
    """(B, T, img) or (B, T, P, img) -> float32 (B, T, P, img)."""
    x = _as_float32("images", images)
    if x.dim() == 3:
        return x.unsqueeze(2)
    if x.dim() != 4:
        raise ValueError(f"images: expected (B, T, img) or (B, T, P, img), found shape {tuple(x.shape)}")
    return x


def _image_lengths(image_lengths: Optional[ArrayLike], B: int, T: int) -> torch.Tensor:
    """(B,) int64 valid-frame counts, each in 1...T; all T when not given."""
    if image_lengths is None:
        return torch.full((B,), T, dtype=torch.int64)
    lengths = _as_int64("image_lengths", image_lengths)
    if tuple(lengths.shape) != (B,):
        raise ValueError(f"image_lengths: expected shape ({B},), found {tuple(lengths.shape)}")
    for b in range(B):
        if not 1 <= int(lengths[b]) <= T:
            raise ValueError(f"image_lengths: sample {b} has length {int(lengths[b])}, expected 1...{T}")
    return lengths


def _frame_padding_mask(lengths: torch.Tensor, T: int, P: int) -> torch.Tensor:
    """(B, T·P) bool, True at every token of a frame >= lengths[b] (frame-major tokens)."""
    frame_of_token = torch.arange(T * P) // P
    return frame_of_token.unsqueeze(0) >= lengths.unsqueeze(1)


# --------------------------------------------------------------------------- model


class FusionModel(nn.Module):
    """The fusion model of docs/model.md; see the module docstring for the tree."""

    def __init__(self, cfg: FusionConfig) -> None:
        super().__init__()
        self.config = cfg
        self.text_proj = Projector(cfg.txt_latent_dim, cfg.proj_dim)
        self.vision_proj = Projector(cfg.img_latent_dim, cfg.proj_dim)
        self.fusor = Fusor(cfg)

    def _check_float32(self) -> None:
        for name, p in self.state_dict().items():
            if p.dtype != torch.float32:
                raise ValueError(f"model: parameter {name} is {p.dtype}; the computation is float32 (call .float())")

    def _prepare(self, text, images, text_lengths, text_mask, image_lengths):
        """Checks inputs; returns pooled text (B, txt), images (B, T, P, img), lengths (B,)."""
        self._check_float32()
        cfg = self.config
        pooled = pool_text(text, text_lengths, text_mask)
        imgs = _images_4d(images)
        B, T, P, img = imgs.shape
        if pooled.shape[0] != B:
            raise ValueError(f"batch size: text has {pooled.shape[0]} samples, images has {B}")
        if pooled.shape[1] != cfg.txt_latent_dim:
            raise ValueError(f"text: latent size {pooled.shape[1]}, weights expect {cfg.txt_latent_dim}")
        if img != cfg.img_latent_dim:
            raise ValueError(f"images: latent size {img}, weights expect {cfg.img_latent_dim}")
        lengths = _image_lengths(image_lengths, B, T)
        return pooled, imgs, lengths

    def forward(
        self,
        text: ArrayLike,
        images: ArrayLike,
        text_lengths: Optional[ArrayLike] = None,
        text_mask: Optional[ArrayLike] = None,
        image_lengths: Optional[ArrayLike] = None,
        need_weights: bool = False,
    ):
        """Plain fusion: returns (B, 1, d) float32, plus attention (B, N, H, T·P) if need_weights.

        text (B, L, txt) or (B, txt); images (B, T, img) or (B, T, P, img); the
        optional lengths/mask as in pool_text and docs/model.md. Attention weights are 0 at
        masked tokens and each (b, n, h) row sums to 1.
        """
        pooled, imgs, lengths = self._prepare(text, images, text_lengths, text_mask, image_lengths)
        B, T, P, img = imgs.shape
        q = self.text_proj(pooled).unsqueeze(1)  # (B, 1, d)
        x = self.vision_proj(imgs.reshape(B, T * P, img))  # (B, T·P, d)
        kpm = None if image_lengths is None else _frame_padding_mask(lengths, T, P)
        q, weights = self.fusor(q, x, key_padding_mask=kpm, need_weights=need_weights)
        if not need_weights:
            return q
        attn = torch.stack([w[:, :, 0, :] for w in weights], dim=1)  # (B, N, H, T·P)
        return q, attn

    def forward_per_step(
        self,
        text: ArrayLike,
        images: ArrayLike,
        text_lengths: Optional[ArrayLike] = None,
        text_mask: Optional[ArrayLike] = None,
        image_lengths: Optional[ArrayLike] = None,
        need_weights: bool = False,
    ):
        """Per-step fusion by brute force: entry [b, t] is plain fusion of sample b on
        frames 0..t alone; zero for t >= image_lengths[b].

        Returns (B, T, d), plus attention (B, T, N, H, T·P) if need_weights (zeros for
        tokens of frames > t and for steps t >= image_lengths[b]). Cost: B·T plain
        forwards; use forward_per_step_fast for large inputs.
        """
        pooled, imgs, lengths = self._prepare(text, images, text_lengths, text_mask, image_lengths)
        cfg = self.config
        B, T, P, _ = imgs.shape
        out = torch.zeros(B, T, cfg.proj_dim)
        attn = torch.zeros(B, T, cfg.n_blocks, cfg.n_heads, T * P)
        for b in range(B):
            for t in range(int(lengths[b])):
                result = self.forward(pooled[b : b + 1], imgs[b : b + 1, : t + 1], need_weights=need_weights)
                if need_weights:
                    o, a = result
                    attn[b, t, :, :, : (t + 1) * P] = a[0]
                else:
                    o = result
                out[b, t] = o[0, 0]
        return (out, attn) if need_weights else out

    def forward_per_step_fast(
        self,
        text: ArrayLike,
        images: ArrayLike,
        text_lengths: Optional[ArrayLike] = None,
        text_mask: Optional[ArrayLike] = None,
        image_lengths: Optional[ArrayLike] = None,
        need_weights: bool = False,
    ):
        """Per-step fusion in one pass: T copies of the query, query t masked to frames 0..t.

        Same result as forward_per_step (up to float32 rounding): (B, T, d), plus
        attention (B, T, N, H, T·P) if need_weights. Memory O(B·T·T·P) for the logits.
        """
        pooled, imgs, lengths = self._prepare(text, images, text_lengths, text_mask, image_lengths)
        cfg = self.config
        B, T, P, img = imgs.shape
        q = self.text_proj(pooled).unsqueeze(1).expand(B, T, cfg.proj_dim)  # (B, T, d)
        x = self.vision_proj(imgs.reshape(B, T * P, img))  # (B, T·P, d)
        frame_of_token = torch.arange(T * P) // P
        causal = frame_of_token.unsqueeze(0) > torch.arange(T).unsqueeze(1)  # (T, T·P), True = hidden
        kpm = None if image_lengths is None else _frame_padding_mask(lengths, T, P)
        q, weights = self.fusor(q, x, key_padding_mask=kpm, attn_mask=causal, need_weights=need_weights)
        valid = (torch.arange(T).unsqueeze(0) < lengths.unsqueeze(1)).unsqueeze(-1)  # (B, T, 1)
        out = torch.where(valid, q, torch.zeros(()))
        if not need_weights:
            return out
        attn = torch.stack(weights, dim=1).permute(0, 3, 1, 2, 4)  # (B, T, N, H, T·P)
        attn = torch.where(valid.unsqueeze(-1).unsqueeze(-1), attn, torch.zeros(()))
        return out, attn


def init_model(cfg: FusionConfig, seed: int) -> FusionModel:
    """A float32 model in eval mode with PyTorch's default initialisation under torch.manual_seed(seed)."""
    torch.manual_seed(seed)
    return FusionModel(cfg).float().eval()


# --------------------------------------------------------------------------- weights files

ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


ALIGN_EXTRA_ID = 0xD935  # the extra-field id zipalign uses for padding (fusectl init uses it too)


def write_npz(path: Union[str, Path], members: dict[str, np.ndarray], compressed: bool = False,
              align: int = 0) -> None:
    """Writes an .npz like numpy.savez(_compressed) — member 'k' stored as 'k.npy', zip64
    local headers — but with a fixed timestamp so that the bytes are reproducible.

    align > 0 (stored members only): pads each member's local header with a zipalign-style
    extra field so that its .npy bytes, and so its array data (numpy pads the .npy header to a
    multiple of 64), start at a multiple of `align` (a divisor of 64) in the file, as `fusectl
    init` writes them; fusectl then reads float32 members in place instead of copying them.
    numpy reads either layout."""
    if align and (compressed or 64 % align):
        raise ValueError(f"write_npz: align={align} needs stored members and must divide 64")
    compression = zipfile.ZIP_DEFLATED if compressed else zipfile.ZIP_STORED
    with zipfile.ZipFile(path, "w", compression=compression, allowZip64=True) as zf:
        for name, array in members.items():
            info = zipfile.ZipInfo(name + ".npy", date_time=ZIP_EPOCH)
            info.compress_type = compression
            if align:
                # local header: 30 bytes, the name, our extra field, then the zip64 field (20 bytes)
                fixed = zf.fp.tell() + 30 + len(info.filename.encode("utf-8")) + 4 + 20
                info.extra = struct.pack("<HH", ALIGN_EXTRA_ID, -fixed % align) + bytes(-fixed % align)
            with zf.open(info, "w", force_zip64=True) as f:
                np.lib.format.write_array(f, np.asanyarray(array), allow_pickle=False)


def config_member(cfg: FusionConfig) -> np.ndarray:
    """The `config` member: a 0-d unicode array holding cfg.to_json()."""
    return np.array(cfg.to_json())


def save_weights_npz(
    model: FusionModel,
    path: Union[str, Path],
    prefix: str = "",
    include_config: bool = True,
    dtype=np.float32,
    compressed: bool = False,
    config_key: str = "config",
    config_json: Optional[str] = None,
    align: int = 0,
) -> None:
    """Writes model.state_dict() as an .npz, each key prefixed by `prefix`, each tensor
    converted to `dtype` (float16/32/64), plus the config member under `config_key`
    (unprefixed by default, as docs/model.md says) when include_config. The member holds
    `config_json` if given (e.g. a config listing only some keys), else
    model.config.to_json(). compressed=True deflates like numpy.savez_compressed; `align` as in
    write_npz (64: fusectl reads the float32 members in place, as from `fusectl init`)."""
    if np.dtype(dtype) not in [np.dtype(d) for d in WEIGHT_DTYPES]:
        raise ValueError(f"save_weights_npz: dtype must be float16, float32 or float64, found {np.dtype(dtype)}")
    members: dict[str, np.ndarray] = {}
    for key, tensor in model.state_dict().items():
        members[prefix + key] = tensor.detach().cpu().numpy().astype(dtype)
    if include_config:
        if config_key in members:
            raise ValueError(f"save_weights_npz: config key {config_key!r} collides with a tensor")
        members[config_key] = np.array(config_json) if config_json is not None else config_member(model.config)
    write_npz(path, members, compressed=compressed, align=align)


def read_config_member(array: np.ndarray, where: str) -> FusionConfig:
    """Parses a 0-d unicode `config` member; `where` names it in errors."""
    if array.shape != () or array.dtype.kind != "U":
        raise ValueError(f"{where}: expected a 0-d unicode array, found dtype {array.dtype} shape {array.shape}")
    return FusionConfig.from_json(str(array[()]))


def expected_shapes(cfg: FusionConfig) -> dict[str, tuple[int, ...]]:
    """The weights table of docs/model.md for cfg: unprefixed key -> shape, in state_dict order."""
    return {k: tuple(v.shape) for k, v in FusionModel(cfg).state_dict().items()}


def load_weights_npz(
    path: Union[str, Path],
    prefix: str = "",
    config_path: Optional[Union[str, Path]] = None,
) -> FusionModel:
    """Loads a weights .npz strictly into a float32 model in eval mode.

    The config comes from config_path if given, else the `config` member (or
    `prefix + "config"`). Every tensor key must start with `prefix`; after stripping
    it, the keys must be exactly the weights table of docs/model.md for the config with exactly its shapes,
    dtype float16/32/64. Raises ValueError naming the file and key otherwise.
    """
    path = Path(path)
    with np.load(path, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    config_keys = [k for k in dict.fromkeys(("config", prefix + "config")) if k in arrays]
    if config_path is not None:
        cfg = FusionConfig.from_json_file(config_path)
    elif config_keys:
        cfg = read_config_member(arrays[config_keys[0]], f"{path}: member '{config_keys[0]}'")
    else:
        raise ValueError(f"{path}: no 'config' member and no config file given")
    for k in config_keys:
        del arrays[k]
    state: dict[str, torch.Tensor] = {}
    for key, array in arrays.items():
        if not key.startswith(prefix):
            raise ValueError(f"{path}: member '{key}' does not start with prefix '{prefix}'")
        if array.dtype not in [np.dtype(d) for d in WEIGHT_DTYPES]:
            raise ValueError(f"{path}: member '{key}' has dtype {array.dtype}, expected float16/32/64")
        state[key[len(prefix) :]] = torch.from_numpy(array.astype(np.float32))
    shapes = expected_shapes(cfg)
    for key, shape in shapes.items():
        if key not in state:
            raise ValueError(f"{path}: missing member '{prefix}{key}' of shape {shape}")
        if tuple(state[key].shape) != shape:
            raise ValueError(
                f"{path}: member '{prefix}{key}' has shape {tuple(state[key].shape)}, expected {shape}"
            )
    extra = sorted(set(state) - set(shapes))
    if extra:
        raise ValueError(f"{path}: unexpected member(s) {[prefix + k for k in extra]}")
    model = FusionModel(cfg)
    model.load_state_dict(state, strict=True)
    return model.float().eval()
