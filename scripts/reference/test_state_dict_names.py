"""Tests of scripts/reference/state_dict_names.py, torch-free (numpy arrays stand in for tensors).

Run:  python3 -m unittest discover -s scripts/reference -p 'test_state_dict_names.py'
(FusectlCLITests' ConvertCheckpointScriptTests runs it, so CI does.)
"""

from __future__ import annotations

import sys
import unittest
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import state_dict_names as names  # noqa: E402


def is_tensor(value) -> bool:
    return isinstance(value, np.ndarray)


EXPECTED = {"text_proj.proj.weight": (8, 6), "vision_proj.proj.weight": (8, 5),
            "fusor.blocks.0.norm1.weight": (8,), "fusor.blocks.0.norm2.weight": (8,)}


def model_state() -> dict:
    return {k: np.zeros(s, np.float32) for k, s in EXPECTED.items()}


class FindStateDictTests(unittest.TestCase):
    def adam_checkpoint(self, models: dict) -> dict:
        state = {i: {"step": np.zeros(()), "exp_avg": np.zeros(3), "exp_avg_sq": np.zeros(3)} for i in range(38)}
        return {**models, "optimizer": {"state": state, "param_groups": [{"lr": 1e-3, "params": list(range(38))}]},
                "epoch": 3}

    def test_optimizer_state_is_never_a_candidate(self) -> None:
        model = model_state()
        self.assertIs(names.find_state_dict(self.adam_checkpoint({"model": model}), "a.pt", None, "", is_tensor), model)

    def test_several_models_are_listed_without_the_optimizer_state(self) -> None:
        checkpoint = self.adam_checkpoint({"model": {"a.weight": np.zeros(2)}, "ema": {"b.weight": np.zeros(2)}})
        with self.assertRaises(names.NameError_) as caught:
            names.find_state_dict(checkpoint, "a.pt", None, "", is_tensor)
        self.assertEqual(str(caught.exception), "a.pt: several dicts of tensors that look like a model (model, ema; "
                                                "38 optimizer-state dicts left out); name the state_dict with --key")
        self.assertEqual(names.find_state_dict(checkpoint, "a.pt", "ema", "", is_tensor), {"b.weight": checkpoint["ema"]["b.weight"]})

    def test_only_optimizer_state(self) -> None:
        with self.assertRaises(names.NameError_) as caught:
            names.find_state_dict(self.adam_checkpoint({}), "a.pt", None, "", is_tensor)
        self.assertEqual(str(caught.exception), "a.pt: no dict of tensors that looks like a model (38 optimizer-state "
                                                "dicts left out); name the state_dict with --key")


class CheckNamesTests(unittest.TestCase):
    def test_every_problem_in_one_error_with_suggestions(self) -> None:
        shapes = {"img_proj.weight": (8, 5), "txt_proj.weight": (8, 6), "fusor.blocks.0.ln1.weight": (8,),
                  "fusor.blocks.0.ln2.weight": (8,)}
        with self.assertRaises(names.NameError_) as caught:
            names.check_names(shapes, EXPECTED, "a.pt")
        self.assertEqual(str(caught.exception), "\n".join([
            "a.pt: the tensors do not match the model's weights (4 unexpected, 4 missing):",
            "  unexpected 'fusor.blocks.0.ln1.weight' (8,): not a tensor of the model",
            "  unexpected 'fusor.blocks.0.ln2.weight' (8,): not a tensor of the model",
            "  unexpected 'img_proj.weight' (8, 5) looks like 'vision_proj.proj.weight'",
            "  unexpected 'txt_proj.weight' (8, 6) looks like 'text_proj.proj.weight'",
            "  missing 'text_proj.proj.weight': expected shape (8, 6)",
            "  missing 'vision_proj.proj.weight': expected shape (8, 5)",
            "  missing 'fusor.blocks.0.norm1.weight': expected shape (8,)",
            "  missing 'fusor.blocks.0.norm2.weight': expected shape (8,)",
            "  the suggested names follow from: --rename img_proj.=vision_proj.proj. --rename txt_proj.=text_proj.proj."]))

    def test_one_problem_and_a_leftover_prefix_stay_one_line(self) -> None:
        shapes = dict(EXPECTED)
        del shapes["fusor.blocks.0.norm2.weight"]
        with self.assertRaises(names.NameError_) as caught:
            names.check_names(shapes, EXPECTED, "a.pt")
        self.assertEqual(str(caught.exception), "a.pt: missing tensor 'fusor.blocks.0.norm2.weight': expected shape (8,)")
        prefixed = {"policy.fusion." + k: v for k, v in EXPECTED.items()}
        prefixed["policy.head.weight"] = (3,)
        with self.assertRaises(names.NameError_) as caught:
            names.check_names(prefixed, EXPECTED, "a.pt")
        self.assertEqual(str(caught.exception), "a.pt: unexpected tensor 'policy.fusion.fusor.blocks.0.norm1.weight': "
                                                "not a tensor of the model; it looks like 'fusor.blocks.0.norm1.weight' "
                                                "under the prefix 'policy.fusion.': pass --prefix policy.fusion.")
        names.check_names(dict(EXPECTED), EXPECTED, "a.pt")

    def test_renames(self) -> None:
        rules = [names.parse_rename("img_proj.=vision_proj.proj."), names.parse_rename("img_proj.x.=y.")]
        self.assertEqual(names.apply_renames(rules, "img_proj.weight"), "vision_proj.proj.weight")
        self.assertEqual(names.apply_renames(rules, "img_proj.x.weight"), "y.weight")
        self.assertEqual(names.rename_all(["img_proj.weight", "b"], rules[:1], "a.pt"),
                         {"img_proj.weight": "vision_proj.proj.weight", "b": "b"})
        with self.assertRaises(names.NameError_) as caught:
            names.rename_all(["img_proj.weight"], [("imgproj.", "x.")], "a.pt", "p.")
        self.assertEqual(str(caught.exception), 'a.pt: rename rule "imgproj.=x.": no tensor name starts with "p.imgproj."')
        with self.assertRaises(names.NameError_) as caught:
            names.rename_all(["a.w", "b.w"], [("a.", "b.")], "a.pt")
        self.assertEqual(str(caught.exception), 'a.pt: rename rule "a.=b.": "a.w" and "b.w" would both become "b.w"')
        with self.assertRaises(names.NameError_):
            names.parse_rename("nope")
        self.assertEqual(names.rename_rule("layers.0.attn.in_proj_weight", "fusor.blocks.0.attn.in_proj_weight"),
                         "layers.=fusor.blocks.")


if __name__ == "__main__":
    unittest.main()
