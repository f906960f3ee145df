"""One model used from 4 Python threads at once: every result equals the serial one bit for bit."""

import threading

import numpy as np

import fusectl
from conftest import Golden, same_bits


def test_four_threads_share_one_model():
    golden = Golden("pre_gelu_batch")
    text, images = golden.array("text"), golden.array("images")
    with fusectl.Model(golden.weights, threads=2) as model:
        rng = np.random.default_rng(7)
        jobs = [(text, images + rng.standard_normal(images.shape).astype(np.float32)) for _ in range(4)]
        serial = [model.fuse(t, i, per_step=k % 2 == 1) for k, (t, i) in enumerate(jobs)]
        serial_steps = []
        for k in range(4):
            session = model.session(text[k % text.shape[0]])
            serial_steps.append([session.step(jobs[k][1][0, t]) for t in range(images.shape[1])])
        results = [None] * 4
        errors = []

        def work(k):
            try:
                session = model.session(text[k % text.shape[0]])
                for _ in range(5):
                    fused = model.fuse(*jobs[k], per_step=k % 2 == 1)
                    assert same_bits(fused, serial[k]), "thread %d fuse" % k
                steps = [session.step(jobs[k][1][0, t]) for t in range(images.shape[1])]
                results[k] = steps
                session.close()
            except BaseException as error:  # reported below, in the main thread
                errors.append(error)

        threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert not errors, errors
        for k in range(4):
            assert all(same_bits(a, b) for a, b in zip(results[k], serial_steps[k])), "thread %d steps" % k


def test_the_gil_is_released_while_the_engine_runs():
    """While one thread is inside Model.fuse, the main thread keeps running Python (ctypes releases the GIL)."""
    import pathlib
    golden = Golden("pre_gelu_batch")
    with fusectl.Model(pathlib.Path(golden.weights), threads=1) as model:
        config = model.config
        rng = np.random.default_rng(3)
        text = rng.standard_normal((64, 4, config["txt_latent_dim"]), dtype=np.float32)
        images = rng.standard_normal((64, 96, config["img_latent_dim"]), dtype=np.float32)
        model.fuse(text[:1], images[:1])
        inside = threading.Event()
        done = threading.Event()

        def work():
            inside.set()
            for _ in range(3):
                model.fuse(text, images, per_step=True)
            done.set()

        worker = threading.Thread(target=work)
        worker.start()
        inside.wait()
        spins = 0
        while not done.is_set():
            spins += 1
        worker.join()
        # Holding the GIL for the whole call would leave the main thread a handful of iterations at most.
        assert spins > 10000, spins


def test_a_forked_process_reopens_the_model_and_refuses_the_parents_sessions():
    """A DataLoader-style worker made by fork: the model opens itself anew there (the parent's worker
    threads do not exist in the child, and its locks may be held) and gives the same bits; the
    parent's sessions raise there and still work in the parent."""
    import os
    import select
    golden = Golden("pre_gelu_batch")
    text, images = golden.array("text"), golden.array("images")
    with fusectl.Model(golden.weights, threads=2) as model:
        expected = model.fuse(text, images)
        session = model.session(text[0])
        session.step(images[0, 0])
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: report and leave without running the parent's cleanup
            status = 1
            try:
                fused = model.fuse(text, images)
                try:
                    session.step(images[0, 1])
                    refused = b"0"
                except fusectl.FusectlError as error:
                    refused = b"1" if "before a fork" in str(error) else b"0"
                os.write(write_end, refused + fused.tobytes())
                status = 0
            finally:
                os._exit(status)
        os.close(write_end)
        ready, _, _ = select.select([read_end], [], [], 60)
        if not ready:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
            raise AssertionError("the forked child hung in Model.fuse")
        data = b""
        while True:
            chunk = os.read(read_end, 1 << 16)
            if not chunk:
                break
            data += chunk
        os.close(read_end)
        _, status = os.waitpid(pid, 0)
        assert status == 0
        assert data[:1] == b"1", "the parent's session was usable in the child"
        assert data[1:] == expected.tobytes()
        assert same_bits(model.fuse(text, images), expected)  # the parent's model still works
        session.step(images[0, 1])


def test_a_model_pickles_as_its_arguments_and_sessions_do_not_pickle():
    import pickle
    import pytest
    golden = Golden("prefix")
    text, images = golden.array("text"), golden.array("images")
    with fusectl.Model(golden.weights, prefix=golden.prefix, threads=1) as model:
        expected = model.fuse(text, images)
        copy = pickle.loads(pickle.dumps(model))
        assert copy._handle != model._handle and copy.threads == 1
        assert same_bits(copy.fuse(text, images), expected)
        copy.close()
        with pytest.raises(TypeError, match="cannot be pickled"):
            pickle.dumps(model.session(text[0]))
    with pytest.raises(fusectl.FusectlError, match="closed"):
        pickle.dumps(model)
