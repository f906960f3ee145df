"""The C interface called directly (ctypes) with what a careless C caller passes: NULL pointers, negative
or huge shapes, wrong counts, stale and made-up handles. Each is a status and a message, never a crash."""

import ctypes

import numpy as np
import pytest

import fusectl
from fusectl import _api
from conftest import Golden

lib = _api._lib
I64 = ctypes.c_int64


def shape(*extents):
    return (I64 * max(1, len(extents)))(*extents), len(extents)


def last_error():
    return lib.fusectl_last_error().decode()


@pytest.fixture
def model():
    golden = Golden("text_mask_right")
    handle = ctypes.c_void_p()
    assert lib.fusectl_model_open(golden.weights.encode(), None, None, None, 0, ctypes.byref(handle)) == 0
    yield handle.value
    lib.fusectl_model_close(handle.value)


def floats(count):
    return (ctypes.c_float * max(1, count))()


def fuse(model, text_shape, images_shape, output_count, text=None, images=None, output=None, **extra):
    ts, tr = text_shape
    ims, imr = images_shape
    out = floats(output_count) if output is None else output
    return lib.fusectl_fuse(
        model, text if text is not None else floats(10 ** 5), ts, tr,
        images if images is not None else floats(10 ** 5), ims, imr,
        extra.get("lengths"), extra.get("lengths_count", 0), None, None, 0, None, 0,
        0, extra.get("plan"), out, output_count, None, 0)


def test_shapes_counts_and_pointers_are_checked(model):
    config = fusectl.Model(Golden("text_mask_right").weights).config
    txt, img, d = config["txt_latent_dim"], config["img_latent_dim"], config["proj_dim"]
    good_text, good_images = shape(1, 2, txt), shape(1, 3, img)
    assert fuse(model, good_text, good_images, d) == 0
    cases = [
        (dict(text_shape=shape(1, -2, txt), images_shape=good_images, output_count=d), 1, "negative extent -2"),
        (dict(text_shape=shape(*([2] * 9)), images_shape=good_images, output_count=d), 1, "rank 9 outside"),
        (dict(text_shape=shape(1 << 40, 1 << 40, txt), images_shape=good_images, output_count=d), 1, "too many elements"),
        (dict(text_shape=good_text, images_shape=good_images, output_count=d + 1), 4, "room for %d floats" % (d + 1)),
        (dict(text_shape=good_text, images_shape=good_images, output_count=d, plan=b"fast"), 1, "unknown plan 'fast'"),
        (dict(text_shape=shape(0, 2, txt), images_shape=shape(0, 3, img), output_count=0), 1, "at least one sample"),
        (dict(text_shape=good_text, images_shape=good_images, output_count=d, lengths=None, lengths_count=3), 1,
         "image_lengths: NULL with a count of 3"),
    ]
    for arguments, status, message in cases:
        assert fuse(model, **arguments) == status, arguments
        assert message in last_error(), (message, last_error())
    ts, tr = good_text
    ims, imr = good_images
    status = lib.fusectl_fuse(model, None, ts, tr, floats(3 * img), ims, imr, None, 0, None, None, 0, None, 0, 0, None,
                              floats(d), d, None, 0)
    assert status == 1 and "text: NULL data" in last_error()
    status = lib.fusectl_fuse(model, floats(2 * txt), ts, tr, floats(3 * img), ims, imr, None, 0, None, None, 0, None, 0,
                              0, None, None, d, None, 0)
    assert status == 1 and "output: NULL" in last_error()
    backing = floats(2 * txt + 1)
    unaligned = ctypes.cast(ctypes.addressof(backing) + 2, ctypes.POINTER(ctypes.c_float))
    status = lib.fusectl_fuse(model, unaligned, ts, tr, floats(3 * img), ims, imr, None, 0, None, None, 0, None, 0,
                              0, None, floats(d), d, None, 0)
    assert status == 1 and "text: the data is not aligned to 4 bytes" in last_error()
    status = lib.fusectl_fuse(model, floats(2 * txt), None, 3, floats(3 * img), ims, imr, None, 0, None, None, 0, None, 0,
                              0, None, floats(d), d, None, 0)
    assert status == 1 and "NULL shape of rank 3" in last_error()


def test_handles_are_looked_up_never_dereferenced(model):
    for bogus in (None, 1, 0xDEADBEEF, model + 1):
        assert lib.fusectl_model_close(bogus) == 3
    length = I64()
    assert lib.fusectl_model_config(0x1234, None, 0, ctypes.byref(length)) == 3
    assert "not an open model" in last_error()
    sessions = ctypes.c_void_p()
    assert lib.fusectl_sessions_open(model, 0, 0, ctypes.byref(sessions)) == 1
    assert lib.fusectl_sessions_open(model, 2, -1, ctypes.byref(sessions)) == 1
    assert lib.fusectl_sessions_open(model, 2, 0, ctypes.byref(sessions)) == 0
    steps = I64()
    assert lib.fusectl_sessions_steps(sessions.value, 5, ctypes.byref(steps)) == 1
    assert lib.fusectl_sessions_steps(model, 0, ctypes.byref(steps)) == 3  # a model is not a sessions handle
    frames, rank = shape(2, 7)
    assert lib.fusectl_sessions_step(sessions.value, floats(14), frames, rank, floats(1), 1) == 4
    assert lib.fusectl_sessions_close(sessions.value) == 0
    assert lib.fusectl_sessions_close(sessions.value) == 3
    assert lib.fusectl_model_config(model, None, 0, ctypes.byref(length)) == 0 and length.value > 10
    small = ctypes.create_string_buffer(4)
    assert lib.fusectl_model_config(model, small, 4, ctypes.byref(length)) == 4


def test_the_last_error_is_per_thread(model):
    import threading
    assert lib.fusectl_model_close(7) == 3
    mine = last_error()
    seen = []

    def other():
        seen.append(lib.fusectl_last_error().decode())
        fuse(model, shape(1, 2, 3), shape(1, 3, 5), 1)
        seen.append(lib.fusectl_last_error().decode())

    thread = threading.Thread(target=other)
    thread.start()
    thread.join()
    assert seen[0] == "" and "latent size" in seen[1]
    assert last_error() == mine
