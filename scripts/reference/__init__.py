"""The PyTorch reference of the model of docs/model.md and everything made from it: golden fixtures, the .npy
fixtures, the shipped example, and the tools that check fusectl against them.

Modules: model (the reference nn.Module, weights .npz reading and writing), spec_numpy (a float64
NumPy reading of docs/model.md, the second opinion), golden_cases / golden_checks / make_golden (the golden
fixtures), make_npy_fixtures, make_safetensors_fixtures, make_example, compare_with_torch, torch_venv (re-running a script
under the torch venv), test_reference. Scripts here are run by path (`python3
scripts/reference/make_golden.py`); they put scripts/ on sys.path and import `reference.*`.
This package imports nothing from `benchmark`.
"""
