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
