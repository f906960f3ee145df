#!/usr/bin/env python3
"""Writes the seed corpora of the `weights` and `inputs` fuzz targets into fixtures/fuzz/.

The weights seeds are state_dicts of FUZZ_CONFIG (the configuration scripts/fuzz/targets/weights.swift
and inputs.swift fix), stored and deflated, float16/32/64, with and without the 'config' member. The
inputs seeds are batch bundles (text, images, text_lengths, text_mask, image_lengths) for that model.
Deterministic: numpy's default_rng(SEED). Usage: python3 scripts/fuzz/make_seeds.py
"""
import json
import os

import numpy as np

SEED = 20261129
# Keep in step with `fuzzConfigJSON` in scripts/fuzz/targets/FuzzModel.swift.
FUZZ_CONFIG = {"txt_latent_dim": 3, "img_latent_dim": 2, "proj_dim": 4, "n_heads": 2, "n_blocks": 1,
               "ffn_dim": 5, "final_norm": True}


def state_dict(rng, config):
    d, f = config["proj_dim"], config["ffn_dim"]
    tensors = {
        "text_proj.proj.weight": (d, config["txt_latent_dim"]),
        "vision_proj.proj.weight": (d, config["img_latent_dim"]),
    }
    for i in range(config["n_blocks"]):
        p = f"fusor.blocks.{i}."
        tensors.update({
            p + "attn.in_proj_weight": (3 * d, d), p + "attn.in_proj_bias": (3 * d,),
            p + "attn.out_proj.weight": (d, d), p + "attn.out_proj.bias": (d,),
            p + "norm1.weight": (d,), p + "norm1.bias": (d,),
            p + "ffn.0.weight": (f, d), p + "ffn.0.bias": (f,),
            p + "ffn.2.weight": (d, f), p + "ffn.2.bias": (d,),
            p + "norm2.weight": (d,), p + "norm2.bias": (d,),
        })
    if config.get("final_norm"):
        tensors.update({"fusor.final_norm.weight": (d,), "fusor.final_norm.bias": (d,)})
    return {k: rng.standard_normal(s).astype(np.float32) * 0.5 for k, s in tensors.items()}


def main():
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "fixtures", "fuzz")
    rng = np.random.default_rng(SEED)
    os.makedirs(os.path.join(root, "weights"), exist_ok=True)
    os.makedirs(os.path.join(root, "inputs"), exist_ok=True)
    weights = state_dict(rng, FUZZ_CONFIG)
    config = np.array(json.dumps(FUZZ_CONFIG))
    w = os.path.join(root, "weights")
    np.savez(os.path.join(w, "stored_f32.npz"), config=config, **weights)
    np.savez_compressed(os.path.join(w, "deflated_f32.npz"), config=config, **weights)
    np.savez(os.path.join(w, "stored_f16_noconfig.npz"), **{k: v.astype(np.float16) for k, v in weights.items()})
    np.savez_compressed(os.path.join(w, "deflated_f64.npz"), config=config,
                        **{k: v.astype(np.float64) for k, v in weights.items()})
    pre_norm = dict(FUZZ_CONFIG, norm_first=True, activation="gelu_tanh")
    np.savez(os.path.join(w, "stored_prenorm.npz"), config=np.array(json.dumps(pre_norm)), **weights)

    i = os.path.join(root, "inputs")
    txt, img = FUZZ_CONFIG["txt_latent_dim"], FUZZ_CONFIG["img_latent_dim"]
    text = rng.standard_normal((2, 3, txt)).astype(np.float32)
    images = rng.standard_normal((2, 4, img)).astype(np.float32)
    np.savez(os.path.join(i, "plain.npz"), text=text, images=images)
    np.savez(os.path.join(i, "lengths.npz"), text=text, images=images,
             text_lengths=np.array([3, 1], np.int64), image_lengths=np.array([4, 2], np.int64))
    np.savez_compressed(os.path.join(i, "mask.npz"), text=text, images=images,
                        text_mask=np.array([[1, 1, 0], [0, 1, 1]], np.bool_),
                        image_lengths=np.array([1, 3], np.int32))
    np.savez(os.path.join(i, "pooled_4d.npz"), text=text[:, 0, :].astype(np.float16),
             images=rng.standard_normal((2, 3, 2, img)).astype(np.float64))


if __name__ == "__main__":
    main()
