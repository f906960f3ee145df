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
