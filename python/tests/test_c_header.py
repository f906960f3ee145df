"""A C program compiled against the committed header (Sources/FusectlC/include/fusectl.h) and linked with
libfusectl-c.so (-Werror): a C caller that knows only the header opens a model, fuses, steps two agents
and reads errors, and gets the CLI's bits (an argument the header and the library order differently
would show here)."""

import os
import shutil
import subprocess

import numpy as np

from conftest import run_cli, REPO, Golden, cli_fuse, missing

PROGRAM = r"""
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "fusectl.h"

int main(int argc, char **argv) {
    if (argc != 5) return 99;
    fusectl_model *model = NULL;
    if (fusectl_model_open(argv[1], NULL, NULL, NULL, 1, &model) != FUSECTL_OK) {
        fprintf(stderr, "open: %s\n", fusectl_last_error());
        return 1;
    }
    int64_t length = 0;
    fusectl_model_config(model, NULL, 0, &length);
    char *config = malloc((size_t)length + 1);
    if (fusectl_model_config(model, config, length + 1, &length) != FUSECTL_OK) return 2;
    int64_t txt = atoll(argv[2]), img = atoll(argv[3]), d = atoll(argv[4]);
    int64_t text_shape[3] = {1, 2, txt}, images_shape[3] = {1, 3, img};
    float *text = calloc((size_t)(2 * txt), sizeof(float)), *images = calloc((size_t)(3 * img), sizeof(float));
    for (int64_t i = 0; i < 2 * txt; i++) text[i] = (float)((i % 7) - 3) / 4.0f;
    for (int64_t i = 0; i < 3 * img; i++) images[i] = (float)((i % 5) - 2) / 3.0f;
    int64_t output_count = 0, attention_count = 0;
    if (fusectl_fuse_sizes(model, text_shape, 3, images_shape, 3, 0, 0, &output_count, &attention_count) != FUSECTL_OK) return 3;
    if (output_count != d) return 4;
    float *output = malloc((size_t)output_count * sizeof(float));
    if (fusectl_fuse(model, text, text_shape, 3, images, images_shape, 3, NULL, 0, NULL, NULL, 0, NULL, 0, 0,
                     "x-formed", output, output_count, NULL, 0) != FUSECTL_OK) {
        fprintf(stderr, "fuse: %s\n", fusectl_last_error());
        return 5;
    }
    fwrite(output, sizeof(float), (size_t)output_count, stdout);
    fusectl_sessions *agents = NULL;
    if (fusectl_sessions_open(model, 2, 0, &agents) != FUSECTL_OK) return 6;
    int64_t one_text[2] = {2, txt};
    for (int64_t e = 0; e < 2; e++)
        if (fusectl_sessions_reset(agents, e, text, one_text, 2, NULL, NULL, 0) != FUSECTL_OK) return 7;
    int64_t frames_shape[2] = {2, img};
    float *frames = malloc((size_t)(2 * img) * sizeof(float)), *vectors = malloc((size_t)(2 * d) * sizeof(float));
    for (int step = 0; step < 3; step++) {
        memcpy(frames, images + step * img, (size_t)img * sizeof(float));
        memcpy(frames + img, images + step * img, (size_t)img * sizeof(float));
        if (fusectl_sessions_step(agents, frames, frames_shape, 2, vectors, 2 * d) != FUSECTL_OK) return 8;
    }
    fwrite(vectors, sizeof(float), (size_t)(2 * d), stdout);
    int64_t bad_shape[2] = {3, img};
    if (fusectl_sessions_step(agents, frames, bad_shape, 2, vectors, 2 * d) != FUSECTL_ERROR_INPUT) return 9;
    if (strstr(fusectl_last_error(), "one frame per agent") == NULL) return 10;
    fusectl_model_close(model);
    if (fusectl_sessions_step(agents, frames, frames_shape, 2, vectors, 2 * d) != FUSECTL_ERROR_HANDLE) return 11;
    if (fusectl_sessions_close(agents) != FUSECTL_OK) return 12;
    if (fusectl_model_close(model) != FUSECTL_ERROR_HANDLE) return 13;
    fprintf(stderr, "%s: %s\n", fusectl_version(), config);
    return 0;
}
"""


def test_a_c_program_against_the_header(cli, tmp_path):
    compiler = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if compiler is None:
        missing("no C compiler (cc) to build the header test")
    library = os.environ.get("FUSECTL_LIB") or os.path.join(REPO, ".build", "release", "libfusectl-c.so")
    source = tmp_path / "caller.c"
    source.write_text(PROGRAM)
    binary = str(tmp_path / "caller")
    include = os.path.join(REPO, "Sources", "FusectlC", "include")
    build = subprocess.run([compiler, "-std=c11", "-Wall", "-Wextra", "-Werror", "-I", include, str(source), library,
                            "-Wl,-rpath," + os.path.dirname(library), "-o", binary], capture_output=True, text=True)
    assert build.returncode == 0, build.stderr
    golden = Golden("text_mask_right")
    import fusectl
    with fusectl.Model(golden.weights) as model:
        config = model.config
    txt, img, d = config["txt_latent_dim"], config["img_latent_dim"], config["proj_dim"]
    run = subprocess.run([binary, golden.weights, str(txt), str(img), str(d)], capture_output=True)
    assert run.returncode == 0, (run.returncode, run.stderr.decode())
    values = np.frombuffer(run.stdout, np.float32)
    assert values.size == 3 * d
    text = ((np.arange(2 * txt) % 7 - 3) / 4.0).astype(np.float32).reshape(1, 2, txt)
    images = ((np.arange(3 * img) % 5 - 2) / 3.0).astype(np.float32).reshape(1, 3, img)
    np.save(tmp_path / "t.npy", text)
    np.save(tmp_path / "i.npy", images)
    expected, _ = cli_fuse(cli, tmp_path, ["--weights", golden.weights],
                           ["--text", str(tmp_path / "t.npy"), "--images", str(tmp_path / "i.npy")], ["--plan", "x-formed"])
    assert values[:d].tobytes() == expected[0, 0].tobytes()
    # Both agents saw the three frames under the same instruction: each equals the plain fusion.
    assert values[d:2 * d].tobytes() == expected[0, 0].tobytes() and values[2 * d:].tobytes() == expected[0, 0].tobytes()
    assert run_cli(cli, ["--version"]).stdout.strip() in run.stderr
