"""Model.session and Model.sessions against `fusectl stream` and `fusectl fuse --plan x-formed`, bit for bit."""

import numpy as np
import pytest

import fusectl
from conftest import Golden, cli_fuse, same_bits, stream_vectors


def frames_of(images, b):
    return [images[b, t] for t in range(images.shape[1])]


@pytest.mark.parametrize("name,window", [("post_gelu_basic", None), ("images_4d", None), ("pre_gelu_batch", 3),
                                         ("text_mask_right", None)])
def test_session_equals_cli_stream(cli, tmp_path, name, window):
    golden = Golden(name)
    text, images, mask = golden.array("text"), golden.array("images"), golden.array("text_mask")
    np.save(tmp_path / "instruction.npy", text[0])
    extra = ["--window", str(window)] if window else []
    if mask is not None:
        np.save(tmp_path / "mask.npy", mask[0])
        extra += ["--text-mask", str(tmp_path / "mask.npy")]
    frames = frames_of(images, 0)
    # Two episodes: the stream's acknowledged-by-output `reset` between them.
    expected = stream_vectors(cli, golden.model_arguments(), str(tmp_path / "instruction.npy"),
                              frames + ["reset"] + frames[:2], extra)
    with fusectl.Model(golden.weights, prefix=golden.prefix, config=golden.config_file) as model:
        session = model.session(text[0], text_mask=None if mask is None else mask[0], window=window)
        got = [session.step(frame) for frame in frames]
        session.reset()
        got += [session.step(frame) for frame in frames[:2]]
    # The reset is acknowledged in band, in its place.
    assert str(expected.pop(len(frames))) == "ok: reset"
    assert len(got) == len(expected) == len(frames) + 2
    for t, (a, b) in enumerate(zip(got, expected)):
        assert a.shape == (model.config["proj_dim"],) and same_bits(a, b), "step %d" % t


def test_batched_sessions_equal_single_sessions_and_cli_x_formed(cli, tmp_path):
    golden = Golden("pre_gelu_batch")
    text, images = golden.array("text"), golden.array("images")
    agents = text.shape[0]
    with fusectl.Model(golden.weights) as model:
        batch = model.sessions(text)
        singles = [model.session(text[e]) for e in range(agents)]
        assert len(batch) == agents
        for t in range(images.shape[1]):
            together = batch.step(images[:, t])
            assert together.shape == (agents, model.config["proj_dim"])
            for e in range(agents):
                assert same_bits(together[e], singles[e].step(images[e, t])), "agent %d step %d" % (e, t)
        last = together
    # Every agent's last vector is plain fusion of its frames under plan A (`fuse --plan x-formed`).
    expected, _ = cli_fuse(cli, tmp_path, golden.model_arguments(), golden.input_arguments(), ["--plan", "x-formed"])
    assert same_bits(last, expected[:, 0])


def test_agents_reset_one_at_a_time_with_new_instructions(cli, tmp_path):
    golden = Golden("pre_gelu_batch")
    text, images = golden.array("text"), golden.array("images")
    with fusectl.Model(golden.weights) as model:
        texts = [text[0], text[1][:3], text[2][-1]]  # ragged: (L, txt), (3, txt), (txt,) pooled
        batch = model.sessions(texts)
        for t in range(3):
            batch.step(images[:, t])
        batch.reset(1, text=text[2], text_mask=np.array([1] * (text.shape[1] - 1) + [0]))
        assert batch.steps(1) == 0 and batch.steps(0) == 3
        after = batch.step(images[:, 3])
        fresh = model.session(text[2], text_mask=np.array([1] * (text.shape[1] - 1) + [0]))
        assert same_bits(after[1], fresh.step(images[1, 3]))
        alone = model.session(text[0])
        for t in range(3):
            alone.step(images[0, t])
        assert same_bits(after[0], alone.step(images[0, 3]))
        pooled = model.session(text[2][-1])
        for t in range(3):
            pooled.step(images[2, t])
        assert same_bits(after[2], pooled.step(images[2, 3]))


def test_a_refused_step_leaves_the_sessions_and_their_history():
    golden = Golden("pre_gelu_batch")
    text, images = golden.array("text"), golden.array("images")
    with fusectl.Model(golden.weights) as model:
        batch = model.sessions(text)
        reference = model.sessions(text)
        batch.step(images[:, 0])
        reference.step(images[:, 0])
        bad = images[:, 1].copy()
        bad[1, 3] = np.nan
        with pytest.raises(fusectl.FusectlError, match=r"frames: sample 1: step 1: non-finite value nan at \[3\]"):
            batch.step(bad)
        with pytest.raises(fusectl.FusectlError, match="one frame per agent"):
            batch.step(images[:2, 1])
        with pytest.raises(fusectl.FusectlError, match="has 2 tokens, but this agent's episode's frames have 1"):
            batch.step(np.stack([images[:, 1], images[:, 1]], axis=1))
        assert same_bits(batch.step(images[:, 1]), reference.step(images[:, 1]))
        single = model.session(text[0])
        with pytest.raises(fusectl.FusectlError, match="frame: expected shape"):
            single.step(images[0][None])
