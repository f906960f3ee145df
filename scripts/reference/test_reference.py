"""Unit tests for scripts/reference/model.py (the rules the golden files rely on).

Run with the torch venv:  .venv-torch/bin/python scripts/reference/test_reference.py
(or every test of scripts/: .venv-torch/bin/python -m unittest discover -s scripts -t scripts -p 'test_*.py')
"""

from __future__ import annotations

import json
import sys
import tempfile
import unittest
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from reference.model import (  # noqa: E402
    FusionConfig,
    init_model,
    load_weights_npz,
    pool_text,
    save_weights_npz,
    write_npz,
)

SMALL = FusionConfig(img_latent_dim=10, txt_latent_dim=7, proj_dim=12, n_heads=3, n_blocks=2, ffn_dim=20)


class ConfigTests(unittest.TestCase):
    def test_defaults_are_specs_table(self):
        self.assertEqual(
            FusionConfig().to_dict(),
            {"img_latent_dim": 2048, "txt_latent_dim": 768, "proj_dim": 768, "n_heads": 8, "n_blocks": 4,
             "ffn_dim": 3072, "norm_first": False, "activation": "gelu", "layer_norm_eps": 1e-5,
             "final_norm": False, "attn_bias": True},
        )

    def test_json_round_trip_and_partial(self):
        self.assertEqual(FusionConfig.from_json(SMALL.to_json()), SMALL)
        self.assertEqual(FusionConfig.from_json('{"proj_dim": 16, "n_heads": 2}').activation, "gelu")

    def test_invalid_values_are_named(self):
        with self.assertRaisesRegex(ValueError, "unknown key.*'heads'"):
            FusionConfig.from_json('{"heads": 2}')
        with self.assertRaisesRegex(ValueError, "proj_dim 10 is not divisible by n_heads 3"):
            FusionConfig(proj_dim=10, n_heads=3)
        with self.assertRaisesRegex(ValueError, "'activation'.*'swish'"):
            FusionConfig(activation="swish")
        with self.assertRaisesRegex(ValueError, "'n_blocks': expected an integer, found True"):
            FusionConfig(n_blocks=True)
        with self.assertRaisesRegex(ValueError, "'final_norm': expected true or false"):
            FusionConfig(final_norm=1)


class PoolTextTests(unittest.TestCase):
    def setUp(self):
        self.text = torch.arange(3 * 5 * 2, dtype=torch.float32).reshape(3, 5, 2)

    def test_rules(self):
        self.assertTrue(torch.equal(pool_text(self.text), self.text[:, 4]))
        pooled = pool_text(self.text, text_lengths=np.array([1, 5, 3]))
        self.assertTrue(torch.equal(pooled, self.text[[0, 1, 2], [0, 4, 2]]))
        mask = np.array([[0, 0, 1, 1, 1], [1, 1, 0, 1, 0], [1, 0, 0, 0, 0]], dtype=bool)
        pooled = pool_text(self.text, text_mask=mask)
        self.assertTrue(torch.equal(pooled, self.text[[0, 1, 2], [4, 3, 0]]))
        flat = torch.randn(3, 2)
        self.assertTrue(torch.equal(pool_text(flat), flat))

    def test_errors_name_the_sample(self):
        with self.assertRaisesRegex(ValueError, "text_mask: sample 1 has no real token"):
            pool_text(self.text, text_mask=np.array([[1] * 5, [0] * 5, [1] * 5]))
        with self.assertRaisesRegex(ValueError, r"text_lengths: sample 2 has length 6, expected 1...5"):
            pool_text(self.text, text_lengths=np.array([1, 2, 6]))
        with self.assertRaisesRegex(ValueError, "text_lengths: expected integers"):
            pool_text(self.text, text_lengths=np.array([1.0, 2.0, 3.0]))
        with self.assertRaisesRegex(ValueError, "not both"):
            pool_text(self.text, text_lengths=np.array([1, 2, 3]), text_mask=np.ones((3, 5)))


class ForwardTests(unittest.TestCase):
    def setUp(self):
        self.model = init_model(SMALL, 7)
        rng = np.random.default_rng(7)
        self.text = rng.standard_normal((3, 4, 7)).astype(np.float32)
        self.images = rng.standard_normal((3, 5, 10)).astype(np.float32)

    def test_one_valid_frame_gets_weight_exactly_one(self):
        with torch.inference_mode():
            _, attn = self.model(self.text, self.images, image_lengths=np.array([1, 5, 1]), need_weights=True)
        self.assertTrue(bool((attn[0, :, :, 0] == 1).all()))
        self.assertTrue(bool((attn[0, :, :, 1:] == 0).all()))

    def test_permuting_frames_permutes_attention(self):
        perm = [3, 0, 4, 2, 1]
        with torch.inference_mode():
            out, attn = self.model(self.text, self.images, need_weights=True)
            out_p, attn_p = self.model(self.text, self.images[:, perm], need_weights=True)
        self.assertLess(float((out - out_p).abs().max()), 1e-5)
        self.assertLess(float((attn[..., perm] - attn_p).abs().max()), 1e-6)

    def test_per_step_fast_matches_brute_force(self):
        lengths = np.array([5, 1, 3])
        with torch.inference_mode():
            slow, slow_attn = self.model.forward_per_step(self.text, self.images, image_lengths=lengths, need_weights=True)
            fast, fast_attn = self.model.forward_per_step_fast(
                self.text, self.images, image_lengths=lengths, need_weights=True
            )
        self.assertEqual(tuple(slow.shape), (3, 5, 12))
        self.assertEqual(tuple(slow_attn.shape), (3, 5, 2, 3, 5))
        self.assertLess(float((slow - fast).abs().max()), 1e-5)
        self.assertLess(float((slow_attn - fast_attn).abs().max()), 1e-6)
        self.assertTrue(bool((slow[1, 1:] == 0).all()) and bool((fast[1, 1:] == 0).all()))

    def test_input_errors(self):
        with self.assertRaisesRegex(ValueError, r"image_lengths: sample 1 has length 0, expected 1...5"):
            self.model(self.text, self.images, image_lengths=np.array([5, 0, 3]))
        with self.assertRaisesRegex(ValueError, "images: latent size 9, weights expect 10"):
            self.model(self.text, self.images[..., :9])
        with self.assertRaisesRegex(ValueError, "text has 2 samples, images has 3"):
            self.model(self.text[:2], self.images)


class WeightsFileTests(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.path = Path(self.dir.name) / "w.npz"
        self.model = init_model(SMALL, 3)

    def tearDown(self):
        self.dir.cleanup()

    def members(self) -> dict:
        with np.load(self.path) as npz:
            return {k: npz[k] for k in npz.files}

    def test_round_trip_with_prefix_is_exact(self):
        save_weights_npz(self.model, self.path, prefix="policy.fusion.")
        self.assertIn("config", self.members())
        self.assertIn("policy.fusion.fusor.blocks.1.ffn.2.bias", self.members())
        loaded = load_weights_npz(self.path, prefix="policy.fusion.")
        for key, value in self.model.state_dict().items():
            self.assertTrue(torch.equal(value, loaded.state_dict()[key]), key)

    def test_bytes_are_reproducible(self):
        save_weights_npz(self.model, self.path, compressed=True)
        first = self.path.read_bytes()
        save_weights_npz(self.model, self.path, compressed=True)
        self.assertEqual(first, self.path.read_bytes())

    def test_missing_extra_and_misshapen_members_are_named(self):
        members = self.members_saved()
        del members["fusor.blocks.1.norm2.bias"]
        write_npz(self.path, members)
        with self.assertRaisesRegex(ValueError, r"missing member 'fusor.blocks.1.norm2.bias' of shape \(12,\)"):
            load_weights_npz(self.path)
        members = self.members_saved()
        members["fusor.blocks.0.attn.in_proj_weight"] = np.zeros((36, 11), np.float32)
        write_npz(self.path, members)
        with self.assertRaisesRegex(ValueError, r"'fusor.blocks.0.attn.in_proj_weight' has shape \(36, 11\), expected \(36, 12\)"):
            load_weights_npz(self.path)
        members = self.members_saved()
        members["fusor.final_norm.weight"] = np.ones(12, np.float32)
        write_npz(self.path, members)
        with self.assertRaisesRegex(ValueError, r"unexpected member\(s\) \['fusor.final_norm.weight'\]"):
            load_weights_npz(self.path)

    def test_config_sources(self):
        save_weights_npz(self.model, self.path, include_config=False)
        with self.assertRaisesRegex(ValueError, "no 'config' member and no config file"):
            load_weights_npz(self.path)
        config_path = Path(self.dir.name) / "config.json"
        config_path.write_text(json.dumps(SMALL.to_dict()))
        self.assertEqual(load_weights_npz(self.path, config_path=config_path).config, SMALL)
        save_weights_npz(self.model, self.path, prefix="a.", config_key="a.config")
        self.assertEqual(load_weights_npz(self.path, prefix="a.").config, SMALL)
        with self.assertRaisesRegex(ValueError, "member 'a.text_proj.proj.weight' does not start with prefix 'b.'"):
            load_weights_npz(self.path, prefix="b.", config_path=config_path)

    def members_saved(self) -> dict:
        save_weights_npz(self.model, self.path)
        return self.members()


if __name__ == "__main__":
    unittest.main()
