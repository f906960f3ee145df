"""Whatever a caller does wrong raises FusectlError with the CLI's message: never a crash."""

import os

import numpy as np
import pytest

import fusectl
from conftest import Golden, cli_error, cli_error_without_files


@pytest.fixture
def golden():
    return Golden("text_mask_right")


@pytest.fixture
def model(golden):
    with fusectl.Model(golden.weights) as opened:
        yield opened


def save(tmp_path, name, array):
    path = str(tmp_path / name)
    np.save(path, array)
    return path


def fuse_error(model, **arguments):
    with pytest.raises(fusectl.FusectlError) as raised:
        model.fuse(**arguments)
    return raised.value


def test_shape_errors_carry_the_cli_message(cli, tmp_path, golden, model):
    text, images = golden.array("text"), golden.array("images")
    cases = [
        ("latent size", text[..., :-1], images),
        ("rank", text[None], images),
        ("image rank", text, images[0]),
        ("no frames", text, images[:, :0]),
    ]
    for what, bad_text, bad_images in cases:
        error = fuse_error(model, text=bad_text, images=bad_images)
        expected = cli_error_without_files(cli, "fuse", ["--weights", golden.weights, "--text", save(tmp_path, "t.npy", bad_text),
                                           "--images", save(tmp_path, "i.npy", bad_images),
                                           "--out", str(tmp_path / "o.npy")])
        assert str(error) == expected, what
        assert error.kind == "input"
    # Batch sizes that disagree: the CLI names both files and the option for one-sample files
    # (--one-sample); arrays from Python get the library's message, which names both inputs.
    error = fuse_error(model, text=text[:1], images=images)
    assert str(error) == "images: batch size %d differs from text's 1" % images.shape[0]
    assert error.kind == "input"


def test_lengths_and_masks_are_checked_as_the_cli_checks_them(cli, tmp_path, golden, model):
    text, images = golden.array("text"), golden.array("images")
    batch, frames = images.shape[0], images.shape[1]
    for option, key, value in [
        ("--image-lengths", "image_lengths", np.array([frames + 1] * batch, np.int64)),
        ("--image-lengths", "image_lengths", np.array([1] * (batch + 1), np.int64)),
        ("--text-lengths", "text_lengths", np.array([0] * batch, np.int32)),
        ("--text-mask", "text_mask", np.zeros((batch, text.shape[1]), bool)),
        ("--text-mask", "text_mask", np.ones((batch, text.shape[1] + 1), np.float32)),
    ]:
        error = fuse_error(model, text=text, images=images, **{key: value})
        expected = cli_error_without_files(cli, "fuse", ["--weights", golden.weights, "--text", golden.files["text"],
                                           "--images", golden.files["images"], option, save(tmp_path, "x.npy", value),
                                           "--out", str(tmp_path / "o.npy")])
        assert str(error) == expected, (key, value)
    both = fuse_error(model, text=text, images=images, text_mask=np.ones(text.shape[:2]), text_lengths=[1] * batch)
    assert "not both" in str(both)


def test_integers_bool_and_other_kinds_are_refused_like_the_cli(cli, tmp_path, golden, model):
    text, images = golden.array("text"), golden.array("images")
    for bad in (images.astype(np.int64), images > 0, images.astype(np.complex64), np.full(images.shape, "a")):
        error = fuse_error(model, text=text, images=bad)
        assert str(error).startswith("images: expected floating-point latents (float16, float32 or float64), found ")
    cli_message = cli_error(cli, "fuse", ["--weights", golden.weights, "--text", golden.files["text"],
                                          "--images", save(tmp_path, "i.npy", images.astype(np.int64)),
                                          "--out", str(tmp_path / "o.npy")])
    python_message = str(fuse_error(model, text=text, images=images.astype(np.int64)))
    # The CLI names the file too: "images (PATH): expected ...".
    assert cli_message.replace(" (%s)" % (tmp_path / "i.npy"), "") == python_message
    for bad_lengths in (np.array([1.0] * text.shape[0]), np.array([True] * text.shape[0]), np.ones((text.shape[0], 1), int)):
        assert "expected integers of shape (B,)" in str(fuse_error(model, text=text, images=images, image_lengths=bad_lengths))
    with pytest.raises(fusectl.FusectlError, match="text: expected floating-point latents .* found int16"):
        model.session(text[0].astype(np.int16))
    with pytest.raises(fusectl.FusectlError, match="frames: expected floating-point latents .* found bool"):
        model.sessions(text).step(images[:, 0] > 0)


def test_nan_and_inf_are_refused_with_the_cli_message(cli, tmp_path, golden, model):
    text, images = golden.array("text"), golden.array("images")
    for name in ("text", "images"):
        bad = {"text": text.copy(), "images": images.copy()}
        bad[name].flat[7] = np.inf if name == "text" else np.nan
        error = fuse_error(model, **bad)
        expected = cli_error_without_files(cli, "fuse", ["--weights", golden.weights, "--text", save(tmp_path, "t.npy", bad["text"]),
                                           "--images", save(tmp_path, "i.npy", bad["images"]),
                                           "--out", str(tmp_path / "o.npy")])
        assert str(error) == expected


def test_weights_and_config_errors_carry_the_cli_message(cli, tmp_path, golden):
    missing = str(tmp_path / "missing.npz")
    arguments = ["--text", golden.files["text"], "--images", golden.files["images"], "--out", str(tmp_path / "o.npy")]
    for weights in (missing, golden.files["text"]):
        with pytest.raises(fusectl.FusectlError) as raised:
            fusectl.Model(weights)
        assert str(raised.value) == cli_error(cli, "fuse", ["--weights", weights] + arguments)
        assert raised.value.kind == "model"
    config = tmp_path / "config.json"
    config.write_text('{"n_heads": 3, "bogus": 1}')
    with pytest.raises(fusectl.FusectlError) as raised:
        fusectl.Model(golden.weights, config=str(config))
    assert str(raised.value) == cli_error(cli, "fuse", ["--weights", golden.weights, "--config", str(config)] + arguments)
    with pytest.raises(fusectl.FusectlError, match="unknown configuration key \"heads\""):
        fusectl.Model(golden.weights, config={"heads": 2})
    with pytest.raises(fusectl.FusectlError, match=r"absent.json: cannot be read \(No such file or directory\)"):
        fusectl.Model(golden.weights, config=str(tmp_path / "absent.json"))
    latin = tmp_path / "latin.json"
    latin.write_bytes(b'{"activation": "g\xe9lu"}')
    with pytest.raises(fusectl.FusectlError, match="latin.json: is not valid UTF-8") as raised:
        fusectl.Model(golden.weights, config=latin)
    assert raised.value.kind == "model"
    with pytest.raises(fusectl.FusectlError, match="unknown plan 'fast'"):
        with fusectl.Model(golden.weights) as model:
            model.fuse(golden.array("text"), golden.array("images"), plan="fast")


def test_a_closed_model_and_its_sessions_raise(golden):
    text, images = golden.array("text"), golden.array("images")
    model = fusectl.Model(golden.weights)
    session = model.session(text[0])
    batch = model.sessions(text)
    session.step(images[0, 0])
    model.close()
    model.close()  # twice: nothing happens
    assert repr(model).endswith("closed>")
    with pytest.raises(fusectl.FusectlError, match="not an open model") as raised:
        model.fuse(text, images)
    assert raised.value.kind == "handle"
    with pytest.raises(fusectl.FusectlError, match="its model was closed"):
        session.step(images[0, 1])
    with pytest.raises(fusectl.FusectlError, match="its model was closed"):
        batch.reset(0)
    with pytest.raises(fusectl.FusectlError, match="not an open model"):
        model.session(text[0])
    session.close()
    batch.close()
    with pytest.raises(fusectl.FusectlError, match="not an open sessions"):
        session.step(images[0, 1])


def test_session_argument_errors(golden, model):
    text, images = golden.array("text"), golden.array("images")
    with pytest.raises(fusectl.FusectlError, match="window: must be at least 1 frame, found 0"):
        model.session(text[0], window=0)
    with pytest.raises(fusectl.FusectlError, match="a session takes one instruction"):
        model.session(text)
    with pytest.raises(fusectl.FusectlError, match=r"agent 1: text: latent size"):
        model.sessions([text[0], text[1][:, :-1]])
    batch = model.sessions(text)
    with pytest.raises(fusectl.FusectlError, match="agent: 9 outside"):
        batch.reset(9)
    with pytest.raises(fusectl.FusectlError, match="non-finite"):
        batch.reset(0, text=np.full(text[0].shape, np.nan, np.float32))
    assert batch.step(images[:, 0]).shape == (text.shape[0], model.config["proj_dim"])


def test_attention_maps_that_would_not_fit_are_refused_as_the_cli_refuses_them(cli, tmp_path, golden):
    """Maps above a quarter of the memory limit (FUSECTL_MEMORY_LIMIT here) are refused before anything is
    allocated, with the CLI's message (for one sample, where the CLI too holds all of them)."""
    import subprocess
    import sys
    text, images = golden.array("text")[:1], golden.array("images")[:1]
    t, i = save(tmp_path, "t1.npy", text), save(tmp_path, "i1.npy", images)
    frames = images.shape[1]
    with fusectl.Model(golden.weights) as model:
        n, h = model.config["n_blocks"], model.config["n_heads"]
    maps_bytes = frames * n * h * frames * 4
    env = dict(os.environ, FUSECTL_MEMORY_LIMIT=str(4 * maps_bytes - 4))
    expected = subprocess.run([cli, "fuse", "--weights", golden.weights, "--text", t, "--images", i, "--per-step",
                               "--out", str(tmp_path / "o.npy"), "--attention", str(tmp_path / "a.npy")],
                              capture_output=True, text=True, env=env)
    assert expected.returncode == 1
    script = ("import fusectl, numpy as np, sys\n"
              "m = fusectl.Model(sys.argv[1])\n"
              "try:\n"
              "    m.fuse(np.load(sys.argv[2]), np.load(sys.argv[3]), per_step=True, attention=True)\n"
              "except fusectl.FusectlError as error:\n"
              "    print(error)\n"
              "print(m.fuse(np.load(sys.argv[2]), np.load(sys.argv[3]), attention=True)[1].shape)\n")
    run = subprocess.run([sys.executable, "-c", script, golden.weights, t, i], capture_output=True, text=True,
                         env=dict(env, PYTHONPATH=os.pathsep.join(sys.path)))
    assert run.returncode == 0, run.stderr
    message, shape = run.stdout.splitlines()
    assert "fusectl fuse: error: " + message == expected.stderr.strip()
    assert shape == str((1, n, h, frames))  # plain maps are T times smaller: they fit
