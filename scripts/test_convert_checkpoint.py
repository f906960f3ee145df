"""Tests of scripts/convert_checkpoint.py (PyTorch .pt/.pth → fusectl weights .npz).

Run with the torch venv:  .venv-torch/bin/python -m unittest discover -s scripts -p 'test_*.py'
With FUSECTL_BIN set to a built fusectl, the converted file is also fused and compared with the
reference model's output.
"""

from __future__ import annotations

import copy
import os
import struct
import subprocess
import sys
import tempfile
import unittest
import zipfile
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from convert_checkpoint import ConversionError, convert  # noqa: E402
from reference.model import FusionConfig, init_model, load_weights_npz  # noqa: E402

SMALL = FusionConfig(img_latent_dim=10, txt_latent_dim=7, proj_dim=12, n_heads=3, n_blocks=2, ffn_dim=20, final_norm=True)


def data_offsets(path: Path) -> list[int]:
    """Each member's array data offset in the file (local header + .npy header)."""
    raw = path.read_bytes()
    offsets = []
    for info in zipfile.ZipFile(path).infolist():
        h = info.header_offset
        name_length, extra_length = struct.unpack("<HH", raw[h + 26:h + 30])
        start = h + 30 + name_length + extra_length
        header_length, = struct.unpack("<H", raw[start + 8:start + 10])
        offsets.append(start + 10 + header_length)
    return offsets


class ConvertCheckpointTests(unittest.TestCase):
    def setUp(self) -> None:
        self.folder = tempfile.TemporaryDirectory()
        self.dir = Path(self.folder.name)
        self.model = init_model(SMALL, 11)
        self.state = self.model.state_dict()

    def tearDown(self) -> None:
        self.folder.cleanup()

    def agent_checkpoint(self, legacy: bool = False) -> Path:
        """An agent's training checkpoint: bf16 weights under policy.fusion., a policy head, an optimizer."""
        model_state = {"policy.fusion." + k: v.to(torch.bfloat16) for k, v in self.state.items()}
        model_state["policy.head.weight"] = torch.ones(4, SMALL.proj_dim, dtype=torch.bfloat16)
        model_state["value.bias"] = torch.zeros(1)
        # a real Adam state: per-parameter dicts of tensors ({"step", "exp_avg", "exp_avg_sq"}) under int keys
        trained = copy.deepcopy(self.model)
        optimizer = torch.optim.Adam(trained.parameters())
        trained(torch.randn(1, 2, SMALL.txt_latent_dim).numpy(), torch.randn(1, 3, SMALL.img_latent_dim).numpy()).sum().backward()
        optimizer.step()
        checkpoint = {"model": model_state, "optimizer": optimizer.state_dict(), "epoch": 3, "config": SMALL.to_dict()}
        path = self.dir / ("legacy.pt" if legacy else "agent.pt")
        torch.save(checkpoint, path, _use_new_zipfile_serialization=not legacy)
        return path

    def test_a_nested_bf16_agent_checkpoint_with_a_prefix(self) -> None:
        for legacy in (False, True):
            out = self.dir / "w.npz"
            shapes = convert(self.agent_checkpoint(legacy), out, prefix="policy.fusion.")
            self.assertEqual(len(shapes), len(self.state))
            loaded = load_weights_npz(out)
            for key, tensor in self.state.items():
                expected = tensor.to(torch.bfloat16).float()
                self.assertTrue(torch.equal(loaded.state_dict()[key], expected), key)
            self.assertEqual(loaded.config, SMALL)
            self.assertEqual({o % 64 for o in data_offsets(out)}, {0})
            with np.load(out) as npz:
                self.assertEqual(npz["fusor.blocks.0.ffn.0.weight"].dtype, np.float32)

    def test_a_plain_state_dict_with_a_config_file_is_exact(self) -> None:
        source = self.dir / "plain.pth"
        torch.save(self.state, source)
        config = self.dir / "config.json"
        config.write_text(SMALL.to_json())
        out = self.dir / "w.npz"
        convert(source, out, config_path=config)
        loaded = load_weights_npz(out)
        for key, tensor in self.state.items():
            self.assertTrue(torch.equal(loaded.state_dict()[key], tensor), key)
        convert(source, self.dir / "w16.npz", config_path=config, dtype="float16")
        with np.load(self.dir / "w16.npz") as npz:
            self.assertEqual(npz["text_proj.proj.weight"].dtype, np.float16)

    def test_errors_name_the_checkpoint_and_the_key(self) -> None:
        agent = self.agent_checkpoint()
        cases = [
            (dict(prefix="actor."), f"{agent}: no tensor key starts with the prefix 'actor.'"),
            (dict(prefix="policy."), f"{agent}: unexpected tensor 'policy.fusion.fusor.blocks.0.attn.in_proj_bias': not a tensor of the model; it looks like 'fusor.blocks.0.attn.in_proj_bias' under the prefix 'policy.fusion.': pass --prefix policy.fusion."),
            (dict(), f"{agent}: unexpected tensor 'policy.fusion.fusor.blocks.0.attn.in_proj_bias'"),
            (dict(prefix="policy.fusion.", key="optimizer"), f"{agent}: the entry 'optimizer' is not a dict of tensors"),
        ]
        for options, message in cases:
            with self.assertRaises(ConversionError) as caught:
                convert(agent, self.dir / "w.npz", **options)
            self.assertTrue(str(caught.exception).startswith(message), str(caught.exception))
        incomplete = dict(self.state)
        del incomplete["fusor.final_norm.bias"]
        source = self.dir / "incomplete.pt"
        torch.save({"model": incomplete, "ema": dict(self.state), "config": SMALL.to_json()}, source)
        with self.assertRaises(ConversionError) as caught:
            convert(source, self.dir / "w.npz")
        self.assertEqual(str(caught.exception), f"{source}: several dicts of tensors that look like a model (model, ema); name the state_dict with --key")
        with self.assertRaises(ConversionError) as caught:
            convert(source, self.dir / "w.npz", key="model")
        self.assertEqual(str(caught.exception), f"{source}: missing tensor 'fusor.final_norm.bias': expected shape (12,)")
        self.assertFalse((self.dir / "w.npz").exists())

    def test_own_module_names_are_renamed_or_all_listed(self) -> None:
        names = {"text_proj.proj.weight": "txt_proj.weight", "vision_proj.proj.weight": "img_proj.weight"}
        state = {names.get(k, k): v for k, v in self.state.items()}
        source = self.dir / "own.pt"
        torch.save({"model": state, "config": SMALL.to_dict()}, source)
        with self.assertRaises(ConversionError) as caught:
            convert(source, self.dir / "w.npz")
        self.assertEqual(str(caught.exception), "\n".join([
            f"{source}: the tensors do not match the model's weights (2 unexpected, 2 missing):",
            "  unexpected 'img_proj.weight' (12, 10) looks like 'vision_proj.proj.weight'",
            "  unexpected 'txt_proj.weight' (12, 7) looks like 'text_proj.proj.weight'",
            "  missing 'text_proj.proj.weight': expected shape (12, 7)",
            "  missing 'vision_proj.proj.weight': expected shape (12, 10)",
            "  the suggested names follow from: --rename img_proj.=vision_proj.proj. --rename txt_proj.=text_proj.proj."]))
        convert(source, self.dir / "w.npz", renames=("img_proj.=vision_proj.proj.", "txt_proj.=text_proj.proj."))
        loaded = load_weights_npz(self.dir / "w.npz")
        for key, tensor in self.state.items():
            self.assertTrue(torch.equal(loaded.state_dict()[key], tensor), key)

    @unittest.skipUnless(os.environ.get("FUSECTL_BIN"), "FUSECTL_BIN (a built fusectl) is not set")
    def test_fusectl_reads_the_converted_file(self) -> None:
        out = self.dir / "w.npz"
        convert(self.agent_checkpoint(), out, prefix="policy.fusion.")
        generator = torch.Generator().manual_seed(3)
        text = torch.randn(2, 4, SMALL.txt_latent_dim, generator=generator).numpy()
        images = torch.randn(2, 5, SMALL.img_latent_dim, generator=generator).numpy()
        np.save(self.dir / "t.npy", text)
        np.save(self.dir / "i.npy", images)
        subprocess.run([os.environ["FUSECTL_BIN"], "fuse", "--weights", str(out), "--text", str(self.dir / "t.npy"),
                        "--images", str(self.dir / "i.npy"), "--out", str(self.dir / "f.npy")], check=True)
        with torch.inference_mode():
            expected = load_weights_npz(out)(text, images).numpy()
        self.assertLess(float(np.abs(np.load(self.dir / "f.npy") - expected).max()), 1e-5)


if __name__ == "__main__":
    unittest.main()
