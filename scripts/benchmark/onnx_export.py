"""The reference model as one ONNX graph, the input of the ONNX Runtime and OpenVINO peers.

The graph (PeerGraph) computes the forward pass of docs/model.md with the reference's own weights
(scripts/reference/model.py) from three inputs:

    query   (B, 1, txt)   float32   the pooled text token of each sample (peers.pooled_query)
    images  (B, S, img)   float32   S = T·P tokens, frame-major (a (B, T, P, img) array reshaped)
    bias    (B, Q, S)     float32   additive attention bias: 0 where query row q may attend to
                                    token s, MASKED (-1e9) where it may not (peers.attention_bias)

and returns fused (B, Q, d) float32. Q = 1 in plain mode; Q = T in per-step mode, where
query row t is the same pooled token and the bias hides the frames > t (the frame-causal
mask) as well as the frames >= image_lengths[b] (the ragged lengths), so row t is plain
fusion over frames 0..t: forward_per_step_fast's one pass. Rows t >= image_lengths[b] are
not zeroed by the graph (it has no lengths); peers.run_graph zeroes them afterwards.

Attention is written out (per-head projections, scores·1/sqrt(dh) + bias, softmax, values,
output projection) rather than exported through nn.MultiheadAttention, so every exporter
and runtime sees plain MatMul/Softmax that each may fuse its own way. exp(-1e9 + s)
underflows to exactly 0 in float32 for any score |s| < 1e8, so a masked token gets weight 0
exactly as with PyTorch's -inf; every row keeps at least frame 0, so no row is all masked.

export(weights, path) writes the graph once (torch.onnx.export, dynamic B, Q, S; weights
inside the file) and is reused while <path>.json records the same weights file (size and
modification time) and EXPORT_VERSION.
"""

from __future__ import annotations

import contextlib
import math
import sys
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

from benchmark.stamped import reuse_or_build
from reference.model import FusionModel, load_weights_npz

EXPORT_VERSION = 1
"""Bumped whenever PeerGraph or the export options change; forces a new export."""

OPSET = 18


class PeerGraph(nn.Module):
    """The forward pass of docs/model.md on (query, images, bias); see the module docstring for shapes."""

    def __init__(self, model: FusionModel) -> None:
        super().__init__()
        self.model = model
        cfg = model.config
        self.heads = cfg.n_heads
        self.head_dim = cfg.head_dim
        self.d = cfg.proj_dim
        self.norm_first = cfg.norm_first
        # in_proj split once here, so that the file holds Wq, Wk, Wv as three initialisers
        # (split in the graph, a runtime would copy them on every call).
        self.in_proj = nn.ModuleList()
        for block in model.fusor.blocks:
            split = nn.Module()
            for name, w in zip(("wq", "wk", "wv"), block.attn.in_proj_weight.detach().chunk(3)):
                split.register_buffer(name, w.clone())
            biases = block.attn.in_proj_bias
            for name, b in zip(("bq", "bk", "bv"), biases.detach().chunk(3) if biases is not None else (None,) * 3):
                split.register_buffer(name, None if b is None else b.clone())
            self.in_proj.append(split)

    def attend(self, n: int, q: torch.Tensor, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        """Block n's nn.MultiheadAttention: q (B, Q, d), x (B, S, d), bias (B, Q, S) -> (B, Q, d)."""
        attn, p = self.model.fusor.blocks[n].attn, self.in_proj[n]
        wq, wk, wv, bq, bk, bv = p.wq, p.wk, p.wv, p.bq, p.bk, p.bv
        B, Q, S, H, dh = q.shape[0], q.shape[1], x.shape[1], self.heads, self.head_dim
        qh = F.linear(q, wq, bq).reshape(B, Q, H, dh).transpose(1, 2)  # (B, H, Q, dh)
        kh = F.linear(x, wk, bk).reshape(B, S, H, dh).transpose(1, 2)  # (B, H, S, dh)
        vh = F.linear(x, wv, bv).reshape(B, S, H, dh).transpose(1, 2)  # (B, H, S, dh)
        scores = torch.matmul(qh, kh.transpose(2, 3)) * (1.0 / math.sqrt(dh)) + bias.unsqueeze(1)
        weights = torch.softmax(scores, dim=-1)  # (B, H, Q, S)
        out = torch.matmul(weights, vh).transpose(1, 2).reshape(B, Q, self.d)
        return attn.out_proj(out)

    def forward(self, query: torch.Tensor, images: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        model = self.model
        q = model.text_proj(query)  # (B, 1, d)
        q = q.expand(q.shape[0], bias.shape[1], self.d)  # (B, Q, d)
        x = model.vision_proj(images)  # (B, S, d)
        for n, block in enumerate(model.fusor.blocks):
            if self.norm_first:
                q = q + self.attend(n, block.norm1(q), x, bias)
                q = q + block.ffn(block.norm2(q))
            else:
                q = block.norm1(q + self.attend(n, q, x, bias))
                q = block.norm2(q + block.ffn(q))
        if model.fusor.final_norm is not None:
            q = model.fusor.final_norm(q)
        return q


def export_model(model: FusionModel, path: Path) -> None:
    """Writes PeerGraph(model) to `path` as one self-contained ONNX file (opset OPSET, dynamic B, Q, S)."""
    cfg = model.config
    graph = PeerGraph(model.eval()).eval()
    B, Q, S = 2, 3, 5  # example sizes only: every one of them is dynamic in the file
    example = (
        torch.zeros(B, 1, cfg.txt_latent_dim),
        torch.zeros(B, S, cfg.img_latent_dim),
        torch.zeros(B, Q, S),
    )
    batch, rows, tokens = torch.export.Dim("B"), torch.export.Dim("Q"), torch.export.Dim("S")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    # The exporter prints its progress on stdout, which is scripts/bench's report: send it to stderr.
    with torch.inference_mode(False), torch.no_grad(), contextlib.redirect_stdout(sys.stderr):
        torch.onnx.export(
            graph,
            example,
            str(tmp),
            input_names=["query", "images", "bias"],
            output_names=["fused"],
            opset_version=OPSET,
            dynamo=True,
            verbose=False,
            external_data=False,
            dynamic_shapes={"query": {0: batch}, "images": {0: batch, 1: tokens}, "bias": {0: batch, 1: rows, 2: tokens}},
        )
    tmp.replace(path)


def export(weights: Path, path: Path, log=print) -> Path:
    """`path` holding the graph of the model in `weights` (.npz), exported unless a matching one is there."""
    info = weights.stat()
    expected = {"export_version": EXPORT_VERSION, "weights": str(weights.resolve()), "bytes": info.st_size,
                "mtime_ns": info.st_mtime_ns, "torch": torch.__version__}

    def build() -> None:
        log(f"bench: exporting the reference to ONNX: {path}")
        export_model(load_weights_npz(weights), path)

    return reuse_or_build(path, path.with_name(path.name + ".json"), expected, build)
