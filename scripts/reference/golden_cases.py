"""The list of golden cases that scripts/reference/make_golden.py writes to fixtures/golden/.

Each case fixes its own seed, so adding, removing or reordering cases never
changes the bytes of another. Sizes stay small (d 12-48, T <= 8, B <= 5) so that
all fixtures together stay well under 10 MB; small is enough to catch every
indexing, masking and normalisation bug.
"""

from __future__ import annotations

import dataclasses
from typing import Optional

BASE_CONFIG = {
    "img_latent_dim": 40,
    "txt_latent_dim": 24,
    "proj_dim": 32,
    "n_heads": 4,
    "n_blocks": 2,
    "ffn_dim": 80,
    "norm_first": False,
    "activation": "gelu",
    "layer_norm_eps": 1e-5,
    "final_norm": False,
    "attn_bias": True,
}
"""Every case's config is BASE_CONFIG updated with the case's overrides."""

SIZE_KEYS = ("img_latent_dim", "txt_latent_dim", "proj_dim", "n_heads", "n_blocks", "ffn_dim")
"""The keys a 'partial_member' config lists; the others take the defaults."""

CONFIG_STORAGE = ("member", "prefixed_member", "partial_member", "file")


@dataclasses.dataclass(frozen=True)
class Case:
    """One golden case.

    B samples, L text tokens (None: 2-D text (B, txt)), T frames, P tokens per frame
    (None: 3-D images (B, T, img)). text_lengths / text_mask / image_lengths are
    written as given (None: absent). dtype is the storage dtype of the weights and
    the float inputs. config_storage: 'member' (the `config` member), 'prefixed_member'
    (`<prefix>config`), 'partial_member' (only SIZE_KEYS listed) or 'file' (config.json
    beside the weights, no member). input_scale multiplies the standard normal inputs.
    """

    name: str
    description: str
    seed: int
    config: dict
    B: int
    T: int
    L: Optional[int] = 5
    P: Optional[int] = None
    text_lengths: Optional[list] = None
    text_mask: Optional[list] = None
    mask_dtype: str = "int64"
    image_lengths: Optional[list] = None
    per_step: bool = False
    dtype: str = "float32"
    prefix: Optional[str] = None
    config_storage: str = "member"
    compressed: bool = False
    bundle: bool = False
    input_scale: float = 1.0

    def full_config(self) -> dict:
        """BASE_CONFIG with this case's overrides."""
        return {**BASE_CONFIG, **self.config}


CASES = [
    Case("post_gelu_basic", "post-norm, exact GELU, B=1, 3-D text and images, no lengths",
         1001, {}, B=1, T=6, L=5),
    Case("pre_gelu_batch", "pre-norm, exact GELU, B=3, no lengths",
         1002, {"norm_first": True}, B=3, T=5, L=6),
    Case("post_relu_final_norm", "post-norm, ReLU, final_norm, d=24 with 2 heads, 3 blocks",
         1003, {"activation": "relu", "final_norm": True, "proj_dim": 24, "n_heads": 2, "n_blocks": 3,
                "ffn_dim": 64}, B=2, T=5, L=4),
    Case("pre_gelu_tanh_final_norm", "pre-norm, tanh-approximate GELU, final_norm",
         1004, {"norm_first": True, "activation": "gelu_tanh", "final_norm": True}, B=2, T=6, L=5),
    Case("post_gelu_tanh_no_attn_bias", "post-norm, tanh GELU, attn_bias false (no in_proj_bias/out_proj.bias)",
         1005, {"activation": "gelu_tanh", "attn_bias": False}, B=2, T=4, L=3),
    Case("pre_relu_no_attn_bias_final_norm", "pre-norm, ReLU, attn_bias false, final_norm",
         1006, {"norm_first": True, "activation": "relu", "attn_bias": False, "final_norm": True}, B=2, T=5, L=5),
    Case("heads_1_single_block", "1 head (dh = d = 12), 1 block, pre-norm",
         1007, {"proj_dim": 12, "n_heads": 1, "n_blocks": 1, "ffn_dim": 30, "norm_first": True}, B=2, T=5, L=4),
    Case("heads_2_odd_head_dim", "d=26 with 2 heads (dh=13), img=33, txt=17, ffn=70, pre-norm, tanh GELU",
         1008, {"img_latent_dim": 33, "txt_latent_dim": 17, "proj_dim": 26, "n_heads": 2, "ffn_dim": 70,
                "norm_first": True, "activation": "gelu_tanh"}, B=2, T=5, L=3),
    Case("heads_3_odd_sizes", "d=36 with 3 heads (dh=12), img=50, txt=20, ffn=100, L=9, T=7: nothing a multiple of 8/16",
         1009, {"img_latent_dim": 50, "txt_latent_dim": 20, "proj_dim": 36, "n_heads": 3, "ffn_dim": 100},
         B=2, T=7, L=9),
    Case("heads_8", "d=48 with 8 heads (dh=6), ffn=144, post-norm, final_norm, 3 blocks",
         1010, {"proj_dim": 48, "n_heads": 8, "ffn_dim": 144, "final_norm": True, "n_blocks": 3}, B=2, T=6, L=5),
    Case("text_2d", "text already pooled: 2-D (B, txt)",
         1011, {}, B=3, T=5, L=None),
    Case("images_4d", "4-D images (B, T, P=3, img), frame-major tokens, pre-norm",
         1012, {"norm_first": True}, B=2, T=4, L=4, P=3),
    Case("text_lengths", "text_lengths [7, 1, 4, 2] over L=7 (right padding, pooled token len-1)",
         1013, {}, B=4, T=5, L=7, text_lengths=[7, 1, 4, 2]),
    Case("text_mask_left", "text_mask int64 with left padding (pooled token: last nonzero index = L-1)",
         1014, {"norm_first": True}, B=3, T=5, L=6,
         text_mask=[[0, 0, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1], [0, 0, 0, 0, 0, 1]], mask_dtype="int64"),
    Case("text_mask_right", "text_mask bool with right padding; sample 2 has a hole (mask 1,1,0,1,0,0 -> token 3)",
         1015, {}, B=3, T=5, L=6,
         text_mask=[[1, 1, 1, 0, 0, 0], [1, 0, 0, 0, 0, 0], [1, 1, 0, 1, 0, 0]], mask_dtype="bool"),
    Case("image_lengths_ragged", "ragged image_lengths [1, 6, 3, 2, 5] over T=6, B=5",
         1016, {}, B=5, T=6, L=4, image_lengths=[1, 6, 3, 2, 5]),
    Case("image_lengths_4d_text_lengths", "ragged image_lengths [2, 5, 1] over 4-D images (P=2) with text_lengths, pre-norm, final_norm",
         1017, {"norm_first": True, "final_norm": True}, B=3, T=5, L=5, P=2,
         text_lengths=[5, 3, 1], image_lengths=[2, 5, 1]),
    Case("float16", "weights and float inputs stored as float16 (computation float32), lengths, final_norm",
         1018, {"final_norm": True}, B=2, T=6, L=5, dtype="float16", text_lengths=[5, 2], image_lengths=[6, 3]),
    Case("float64", "weights and float inputs stored as float64, values not float32-exact (rounded once), pre-norm",
         1019, {"norm_first": True}, B=2, T=6, L=5, dtype="float64",
         text_mask=[[0, 1, 1, 1, 1], [1, 1, 1, 0, 0]], image_lengths=[4, 6]),
    Case("prefix", "checkpoint keys prefixed 'policy.fusion.' (pass --prefix policy.fusion.), config member unprefixed",
         1020, {}, B=2, T=5, L=4, prefix="policy.fusion."),
    Case("prefix_config_prefixed", "keys prefixed 'agent.0.fusion.', config stored as the prefixed member 'agent.0.fusion.config'",
         1021, {"norm_first": True}, B=2, T=4, L=4, prefix="agent.0.fusion.", config_storage="prefixed_member"),
    Case("config_file", "no config member in weights.npz; the config is config.json beside it",
         1022, {"norm_first": True, "activation": "relu"}, B=2, T=5, L=4, config_storage="file"),
    Case("config_defaults", "config member lists only the size keys; norm_first, activation, eps, final_norm, attn_bias take the defaults",
         1023, {}, B=2, T=5, L=4, config_storage="partial_member"),
    Case("layer_norm_eps_large", "layer_norm_eps 0.01 (eps placement matters), pre-norm, final_norm",
         1024, {"layer_norm_eps": 0.01, "norm_first": True, "final_norm": True}, B=2, T=5, L=4),
    Case("weights_compressed", "weights.npz deflate-compressed (numpy.savez_compressed layout)",
         1025, {"activation": "gelu_tanh"}, B=2, T=5, L=4, compressed=True),
    Case("large_logits", "inputs scaled by 12 (logits up to ~15, attention rows close to one-hot)",
         1026, {}, B=2, T=6, L=4, input_scale=12.0),
    Case("single_frame", "T=1 (one frame: every attention weight is exactly 1)",
         1027, {"norm_first": True}, B=2, T=1, L=3),
    Case("per_step_post_ragged", "per-step, post-norm, ragged image_lengths [6, 1, 3], text_mask right padding",
         1028, {}, B=3, T=6, L=6, per_step=True,
         text_mask=[[1, 1, 1, 1, 0, 0], [1, 1, 1, 1, 1, 1], [1, 0, 0, 0, 0, 0]], image_lengths=[6, 1, 3]),
    Case("per_step_pre_4d", "per-step, pre-norm, tanh GELU, final_norm, 4-D images (P=2), text_lengths and image_lengths",
         1029, {"norm_first": True, "final_norm": True, "activation": "gelu_tanh"}, B=2, T=5, L=5, P=2,
         per_step=True, text_lengths=[5, 2], image_lengths=[5, 2]),
    Case("per_step_2d_text", "per-step, 2-D text, no lengths, attn_bias false, d=36 with 3 heads",
         1030, {"proj_dim": 36, "n_heads": 3, "ffn_dim": 90, "attn_bias": False}, B=2, T=4, L=None, per_step=True),
    Case("bundle_batch", "inputs also as one batch.npz bundle (text, images, text_mask int32, image_lengths) for fuse --batch",
         1031, {"norm_first": True}, B=4, T=6, L=5, bundle=True, mask_dtype="int32",
         text_mask=[[1, 1, 1, 1, 1], [0, 0, 1, 1, 1], [1, 1, 0, 0, 0], [1, 1, 1, 1, 0]], image_lengths=[6, 2, 1, 4]),
]
"""All cases, in the order they are written and listed in MANIFEST.json."""
