// Every kernel compiled for the scalar path: the 16-lane layer of isa_scalar.h under the
// op bodies, which are shared by all paths.
#include "../internal/fk_internal.h"

#include <math.h>

#include "../internal/isa_scalar.h"
#include "../internal/v16_math.h"
#include "../internal/v16_bytes.h"
#include "../bodies/gemm_body.h"
#include "../bodies/gemm_unpacked_body.h"
#include "../bodies/gemm_io_body.h"
#include "../bodies/attention_body.h"
#include "../bodies/layer_norm_body.h"
#include "../bodies/activation_body.h"
#include "../bodies/elementwise_body.h"
#include "../bodies/softmax_body.h"
