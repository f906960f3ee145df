"""The forward pass of docs/model.md for one sample in plain NumPy float64, independent of torch.

make_golden.py uses it as a second opinion on every golden output: if the torch
module wiring in model.py drifted from docs/model.md (pre-norm placement, K/V source,
head split, pooling rule), the two would disagree far beyond float32 rounding.
Written for clarity, not speed: one sample, one query, loops over heads.
"""

from __future__ import annotations

import math
from typing import Optional

import numpy as np

_erf = np.vectorize(math.erf, otypes=[np.float64])


def activation(name: str, x: np.ndarray) -> np.ndarray:
    """gelu: x·Φ(x) with erf; gelu_tanh: the tanh approximation; relu: max(x, 0)."""
    if name == "gelu":
        return 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)))
    if name == "gelu_tanh":
        return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3)))
    if name == "relu":
        return np.maximum(x, 0.0)
    raise ValueError(f"unknown activation {name!r}")


def layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    """(x - mean) / sqrt(biased var + eps) · weight + bias over the last axis."""
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


def pooled_index(L: int, length: Optional[int], mask_row: Optional[np.ndarray]) -> int:
    """The pooling rule of docs/model.md for one sample: len-1, else the last nonzero mask index, else L-1."""
    if length is not None:
        return int(length) - 1
    if mask_row is not None:
        return int(np.flatnonzero(mask_row != 0)[-1])
    return L - 1


def fuse_one(
    w: dict[str, np.ndarray], cfg: dict, text_vec: np.ndarray, image_tokens: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """One sample: text_vec (txt,), image_tokens (S, img) of valid tokens only.

    `w` maps unprefixed state_dict keys to float64 arrays, `cfg` is the full config
    dict. Returns the fused vector (d,) and the attention weights (N, H, S).
    """
    d, H, N = cfg["proj_dim"], cfg["n_heads"], cfg["n_blocks"]
    dh = d // H
    eps = cfg["layer_norm_eps"]
    q = w["text_proj.proj.weight"] @ text_vec  # (d,)
    X = image_tokens @ w["vision_proj.proj.weight"].T  # (S, d), shared by every block
    maps = np.zeros((N, H, X.shape[0]))
    for i in range(N):
        p = f"fusor.blocks.{i}."
        in_w = w[p + "attn.in_proj_weight"]
        in_b = w.get(p + "attn.in_proj_bias", np.zeros(3 * d))
        out_w = w[p + "attn.out_proj.weight"]
        out_b = w.get(p + "attn.out_proj.bias", np.zeros(d))

        def attend(query: np.ndarray) -> np.ndarray:
            Q = in_w[:d] @ query + in_b[:d]
            K = X @ in_w[d : 2 * d].T + in_b[d : 2 * d]
            V = X @ in_w[2 * d :].T + in_b[2 * d :]
            heads = []
            for h in range(H):
                s = slice(h * dh, (h + 1) * dh)
                logits = K[:, s] @ Q[s] / math.sqrt(dh)
                e = np.exp(logits - logits.max())
                a = e / e.sum()
                maps[i, h] = a
                heads.append(a @ V[:, s])
            return out_w @ np.concatenate(heads) + out_b

        def ffn(x: np.ndarray) -> np.ndarray:
            hidden = activation(cfg["activation"], w[p + "ffn.0.weight"] @ x + w[p + "ffn.0.bias"])
            return w[p + "ffn.2.weight"] @ hidden + w[p + "ffn.2.bias"]

        def ln(which: str, x: np.ndarray) -> np.ndarray:
            return layer_norm(x, w[p + which + ".weight"], w[p + which + ".bias"], eps)

        if cfg["norm_first"]:
            q = q + attend(ln("norm1", q))
            q = q + ffn(ln("norm2", q))
        else:
            q = ln("norm1", q + attend(q))
            q = ln("norm2", q + ffn(q))
    if cfg["final_norm"]:
        q = layer_norm(q, w["fusor.final_norm.weight"], w["fusor.final_norm.bias"], eps)
    return q, maps
