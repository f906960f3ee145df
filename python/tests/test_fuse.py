"""Model.fuse against `fusectl fuse` on every golden case, bit for bit, in every mode and plan."""

import os

import numpy as np
import pytest

import fusectl
from conftest import Golden, cli_fuse, golden_names, run_cli, same_bits


def fuse_case(model, golden, **options):
    return model.fuse(golden.array("text"), golden.array("images"),
                      image_lengths=golden.array("image_lengths"), text_mask=golden.array("text_mask"),
                      text_lengths=golden.array("text_lengths"), **options)


def open_case(golden):
    return fusectl.Model(golden.weights, prefix=golden.prefix, config=golden.config_file)


@pytest.mark.parametrize("name", golden_names())
def test_fuse_equals_cli_on_golden_case(cli, tmp_path, name):
    golden = Golden(name)
    with open_case(golden) as model:
        output, maps = fuse_case(model, golden, per_step=golden.per_step, attention=True)
    expected, expected_maps = cli_fuse(cli, tmp_path, golden.model_arguments(), golden.input_arguments(),
                                       ["--per-step"] if golden.per_step else [], attention=True)
    assert output.dtype == np.float32 and maps.dtype == np.float32
    assert same_bits(output, expected), name
    assert same_bits(maps, expected_maps), name


@pytest.mark.parametrize("plan", ["x-formed", "kv-formed", "projector-absorbed", "reference"])
@pytest.mark.parametrize("per_step", [False, True])
@pytest.mark.parametrize("name", ["image_lengths_4d_text_lengths", "text_mask_left", "pre_gelu_batch", "prefix"])
def test_every_plan_and_mode_equals_cli(cli, tmp_path, name, plan, per_step):
    golden = Golden(name)
    with open_case(golden) as model:
        output = fuse_case(model, golden, per_step=per_step, plan=plan)
    options = ["--plan", plan] + (["--per-step"] if per_step else [])
    expected, _ = cli_fuse(cli, tmp_path, golden.model_arguments(), golden.input_arguments(), options)
    assert same_bits(output, expected)


def test_other_dtypes_and_layouts_are_converted_once_as_the_cli_does(cli, tmp_path):
    golden = Golden("float64")
    with open_case(golden) as model:
        text, images = golden.array("text"), golden.array("images")
        assert text.dtype == np.float64
        output = fuse_case(model, golden)
        expected, _ = cli_fuse(cli, tmp_path, golden.model_arguments(), golden.input_arguments())
        assert same_bits(output, expected)
        # Fortran order, a strided view, big-endian bytes and read-only arrays: the same bits.
        text32 = np.ascontiguousarray(text, dtype=np.float32)
        images32 = np.ascontiguousarray(images, dtype=np.float32)
        plain = model.fuse(text32, images32)
        strided = np.zeros(images32.shape[:-1] + (2 * images32.shape[-1],), np.float32)
        strided[..., ::2] = images32
        readonly = images32.copy()
        readonly.setflags(write=False)
        for variant in (np.asfortranarray(images32), strided[..., ::2], images32.astype(">f4"), readonly):
            assert same_bits(model.fuse(text32, variant), plain)
        assert same_bits(model.fuse(text32.tolist(), images32), plain)


def test_float16_inputs_equal_cli(cli, tmp_path):
    golden = Golden("float16")
    with open_case(golden) as model:
        assert golden.array("images").dtype == np.float16
        output = fuse_case(model, golden)
    expected, _ = cli_fuse(cli, tmp_path, golden.model_arguments(), golden.input_arguments())
    assert same_bits(output, expected)


def test_safetensors_weights_equal_cli(cli, tmp_path):
    import os
    from conftest import REPO
    folder = os.path.join(REPO, "fixtures", "safetensors")
    golden = Golden("text_2d")
    for name in ("f32.safetensors", "f16.safetensors", "bf16.safetensors"):
        weights = os.path.join(folder, name)
        config = os.path.join(folder, "config.json")
        with fusectl.Model(weights, config=config) as model:
            config_dict = model.config
            text = np.random.default_rng(1).standard_normal((2, 5, config_dict["txt_latent_dim"]), dtype=np.float32)
            images = np.random.default_rng(2).standard_normal((2, 4, config_dict["img_latent_dim"]), dtype=np.float32)
            output = model.fuse(text, images)
        np.save(tmp_path / "t.npy", text)
        np.save(tmp_path / "i.npy", images)
        expected, _ = cli_fuse(cli, tmp_path, ["--weights", weights, "--config", config],
                               ["--text", str(tmp_path / "t.npy"), "--images", str(tmp_path / "i.npy")])
        assert same_bits(output, expected), name
    del golden


def test_config_is_a_dict_and_a_dict_config_works(tmp_path):
    golden = Golden("config_file")
    with open_case(golden) as model:
        config = model.config
        assert isinstance(config, dict) and config["proj_dim"] > 0
        first = fuse_case(model, golden)
    with fusectl.Model(golden.weights, config=config) as model:
        assert same_bits(fuse_case(model, golden), first)
    assert model.threads >= 1


def test_float32_c_arrays_are_passed_as_they_are_and_others_copied_once():
    from fusectl import _api
    golden = Golden("text_mask_right")
    images = np.ascontiguousarray(golden.array("images"), dtype=np.float32)
    assert _api._latents(images, "images") is images
    # Unaligned float32 (a view at an odd byte offset) is copied into an aligned array, with the same values.
    raw = np.zeros(images.nbytes + 1, np.uint8)
    unaligned = raw[1:].view(np.float32).reshape(images.shape)
    unaligned[...] = images
    assert not unaligned.flags.aligned
    converted = _api._latents(unaligned, "images")
    assert converted is not unaligned and converted.flags.aligned and converted.tobytes() == images.tobytes()
    with fusectl.Model(golden.weights) as model:
        text = golden.array("text")
        assert same_bits(model.fuse(text, unaligned), model.fuse(text, images))


def test_the_package_library_and_cli_share_one_version(cli):
    """`fusectl.__version__` (the library's), the package metadata's and `fusectl --version` agree."""
    cli_version = run_cli(cli, ["--version"]).stdout.decode().split()[-1]
    assert fusectl.__version__ == cli_version
    pyproject = open(os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "pyproject.toml")).read()
    assert 'version = "%s"' % cli_version in pyproject
