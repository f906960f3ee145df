/*
 * fusectl.h — the C interface of libfusectl (the fusion engine in-process).
 *
 * One model load, many calls: open a model once, fuse batches and step streaming sessions
 * against it, close it. Every result is bit-identical to what `fusectl fuse` / `fusectl stream`
 * write for the same inputs and options (see docs/in-process.md).
 *
 * Conventions
 * - Every function that can fail returns an int status: FUSECTL_OK (0) or one of the codes below;
 *   the reason, one line for a person (the message the CLI prints after "error: "), is then
 *   returned by fusectl_last_error() on the same thread. Bad input never aborts the process.
 * - Handles are opaque. A closed handle, or a pointer that is not a live handle, is refused with
 *   FUSECTL_ERROR_HANDLE (handles are looked up in a table, never dereferenced), so a use after
 *   close is an error, not a crash. Closing twice is an error too, harmlessly.
 * - Sizes, counts, shapes and indices are int64_t. A shape is `rank` extents, outermost first;
 *   arrays are C-contiguous (row-major) and aligned to their element size (a misaligned pointer
 *   is refused with FUSECTL_ERROR_INPUT). A pointer must hold as many elements as its shape says:
 *   that the library cannot check.
 * - Latents are float32. Other float types are the caller's to convert (round to nearest, as the
 *   CLI converts float16 and float64 files); integer latents are refused by the Python package,
 *   as by the CLI.
 *
 * Buffer ownership
 * - Input pointers (latents, masks, lengths, shapes, strings) are borrowed for the duration of
 *   the call only; the library copies what it keeps (a session's instruction and its frames'
 *   projections). They must stay unchanged until the call returns.
 * - Output buffers are the caller's: the library writes exactly the number of floats the
 *   function documents and checks the count it is given against it (FUSECTL_ERROR_BUFFER
 *   otherwise, nothing written). fusectl_fuse_sizes() gives the counts in advance.
 * - fusectl_last_error() and fusectl_version() return strings the library owns: the error stays
 *   valid until the next failing call on the same thread; the version forever.
 *
 * Threads
 * - A model may be used from several threads at once. Calls on one model (fuse, and every call on
 *   its sessions) are serialised by one lock per model; each call runs on the model's own pool of
 *   `threads` threads. Different models run in parallel.
 * - The last error is per thread.
 *
 * Lifetimes
 * - Sessions keep their model's engine alive, but closing the model ends them: every later call
 *   on them fails with FUSECTL_ERROR_HANDLE ("its model was closed"); fusectl_sessions_close()
 *   still frees them.
 */
#ifndef FUSECTL_H
#define FUSECTL_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Status codes. */
#define FUSECTL_OK 0
/* Inputs that contradict the model or each other: shapes, lengths, masks, NaN/Inf, plan names,
 * NULL where data is needed, an agent index out of range. */
#define FUSECTL_ERROR_INPUT 1
/* The weights file or the configuration cannot be used (unreadable, wrong tensors, bad JSON). */
#define FUSECTL_ERROR_MODEL 2
/* A NULL, closed or unknown handle, or a session whose model was closed. */
#define FUSECTL_ERROR_HANDLE 3
/* An output buffer whose float count differs from the one required. */
#define FUSECTL_ERROR_BUFFER 4

typedef struct fusectl_model fusectl_model;
typedef struct fusectl_sessions fusectl_sessions;

/* The reason for the last failing call on this thread ("" if none). Owned by the library. */
const char *fusectl_last_error(void);

/* "fusectl X.Y.Z", the version that fixes the bits. Owned by the library. */
const char *fusectl_version(void);

/*
 * Opens a weights file (.npz state_dict with a `config` member, or .safetensors; decided by the
 * file's content) and checks every tensor, as `fusectl fuse --weights PATH --prefix PREFIX`.
 *   path:          the weights file (UTF-8, not "-").
 *   prefix:        the model's key prefix ("policy.fusion."), or NULL / "" for none.
 *   config_json:   configuration JSON text that replaces the file's own, or NULL.
 *   config_path:   a configuration JSON file that replaces the file's own (--config PATH), read when
 *                  config_json is NULL; with config_json, the name its error messages use. Or NULL.
 *   threads:       worker threads, 0 (or less) for all the CPUs this process may use.
 *   model:         receives the handle (unchanged on failure).
 * Errors: FUSECTL_ERROR_MODEL for the file or configuration, FUSECTL_ERROR_INPUT for NULL
 * arguments or a thread count above 4096.
 */
int fusectl_model_open(const char *path, const char *prefix, const char *config_json, const char *config_path,
                       int64_t threads, fusectl_model **model);

/* Closes the model and ends its sessions (their handles stay valid for fusectl_sessions_close). */
int fusectl_model_close(fusectl_model *model);

/*
 * The configuration as one line of JSON, every key sorted (the form `fusectl inspect` shows).
 * Writes at most `capacity` bytes including a terminating NUL into `buffer` (which may be NULL
 * when capacity is 0) and stores the text's length without the NUL in *length; call once with
 * capacity 0 to learn the size. FUSECTL_ERROR_BUFFER when capacity <= *length (nothing written).
 */
int fusectl_model_config(fusectl_model *model, char *buffer, int64_t capacity, int64_t *length);

/* The worker threads the model runs on. */
int fusectl_model_threads(fusectl_model *model, int64_t *threads);

/*
 * Float counts of fusectl_fuse's outputs for these shapes (shapes as in fusectl_fuse):
 *   output:    B·1·d, or B·T·d when per_step;
 *   attention: B·N·H·(T·P), or B·T·N·H·(T·P) when per_step.
 * Checks the shapes' ranks and sizes against the model only as far as the counts need. With
 * attention nonzero it also refuses, as fusectl_fuse does, maps larger than a quarter of the memory
 * the process may use (physical memory, the cgroup limit, $FUSECTL_MEMORY_LIMIT bytes: the CLI's
 * rule), so that a caller learns it before allocating them. Either count pointer may be NULL.
 */
int fusectl_fuse_sizes(fusectl_model *model, const int64_t *text_shape, int64_t text_rank,
                       const int64_t *images_shape, int64_t images_rank, int32_t per_step, int32_t attention,
                       int64_t *output_count, int64_t *attention_count);

/*
 * Fuses a batch, as `fusectl fuse` (docs/model.md, "Inputs"):
 *   text:   (B, L, txt_latent_dim) or (B, txt_latent_dim) pooled, float32.
 *   images: (B, T, img_latent_dim) or (B, T, P, img_latent_dim), float32.
 *   image_lengths: NULL, or image_lengths_count (= B) valid frame counts in 1..T.
 *   text_mask: NULL, or (B, L) float32, nonzero = real token (3-D text only).
 *   text_lengths: NULL, or text_lengths_count (= B) real token counts in 1..L (3-D text only);
 *                 at most one of text_mask and text_lengths.
 *   per_step: 0 plain mode, output (B, 1, d); nonzero per-step mode, output (B, T, d).
 *   plan:   NULL or "automatic", "x-formed", "kv-formed", "projector-absorbed", "reference".
 *   output: output_count floats (fusectl_fuse_sizes), written in full on success.
 *   attention: NULL, or attention_count floats for the attention maps, (B, N, H, T·P) or
 *              (B, T, N, H, T·P) per step (zeros at masked tokens and padded steps).
 * NaN or ±Inf in text, images or the mask is refused (FUSECTL_ERROR_INPUT), as by the CLI, and so
 * are attention maps that would not fit in memory (see fusectl_fuse_sizes).
 */
int fusectl_fuse(fusectl_model *model,
                 const float *text, const int64_t *text_shape, int64_t text_rank,
                 const float *images, const int64_t *images_shape, int64_t images_rank,
                 const int64_t *image_lengths, int64_t image_lengths_count,
                 const float *text_mask, const int64_t *text_mask_shape, int64_t text_mask_rank,
                 const int64_t *text_lengths, int64_t text_lengths_count,
                 int32_t per_step, const char *plan,
                 float *output, int64_t output_count,
                 float *attention, int64_t attention_count);

/*
 * E streaming sessions (acting agents) on one model that step together: one step reads the
 * weights once for all E. Agent e's vectors are bit-identical to a session of its own, and to
 * `fusectl stream` (plan A, so to `fusectl fuse --plan x-formed` on the frames kept).
 *   agents: E >= 1. Each agent needs an instruction (fusectl_sessions_reset with a text) before
 *           the first step.
 *   window: keep only the most recent `window` frames per agent; 0 keeps the whole episode.
 */
int fusectl_sessions_open(fusectl_model *model, int64_t agents, int64_t window, fusectl_sessions **sessions);

/*
 * Starts a new episode for agent `agent` (0..E-1). With text != NULL it also becomes the agent's
 * instruction: (L, txt_latent_dim), (1, L, txt_latent_dim) or (txt_latent_dim) pooled, float32,
 * with an optional (L) float32 mask (nonzero = real token; the last real token is used).
 * text == NULL keeps the instruction (text_mask must then be NULL). On failure the agent is
 * unchanged.
 */
int fusectl_sessions_reset(fusectl_sessions *sessions, int64_t agent,
                           const float *text, const int64_t *text_shape, int64_t text_rank,
                           const float *text_mask, const int64_t *text_mask_shape, int64_t text_mask_rank);

/*
 * One frame per agent: frames (E, img_latent_dim) or (E, P, img_latent_dim) float32 (P fixed per
 * agent's episode). Writes E·d floats into output (output_count must be E·d): agent e's vector
 * for its kept history. A refused step (shape, P, NaN/Inf, an agent without instruction) changes
 * no agent: the sessions and their histories survive it.
 */
int fusectl_sessions_step(fusectl_sessions *sessions, const float *frames, const int64_t *frames_shape,
                          int64_t frames_rank, float *output, int64_t output_count);

/* Frames agent `agent` has stepped since its episode began. */
int fusectl_sessions_steps(fusectl_sessions *sessions, int64_t agent, int64_t *steps);

/* Frees the sessions. */
int fusectl_sessions_close(fusectl_sessions *sessions);

#ifdef __cplusplus
}
#endif

#endif /* FUSECTL_H */
