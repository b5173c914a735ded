/*
 * Matrix products for the wasm backend through OpenBLAS: a Node-API addon that multiplies
 * float32 matrices held in the wasm heap (Float32Array views, no copy) with cblas_sgemm on the
 * calling thread. lib/native-matmul.ts installs it as the wasm backend's BatchMatMul kernel.
 * The BLAS functions are declared here, so only the runtime library (libopenblas.so.0) is needed.
 */
#include <node_api.h>
#include <stdint.h>

enum { ROW_MAJOR = 101, NO_TRANS = 111, TRANS = 112 };
void cblas_sgemm(int order, int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a, int lda, const float *b,
                 int ldb, float beta, float *c, int ldc);
void openblas_set_num_threads(int threads);

static float *float_data(napi_env env, napi_value v, size_t *length) {
  napi_typedarray_type type;
  void *data = NULL;
  if (napi_get_typedarray_info(env, v, &type, length, &data, NULL, NULL) != napi_ok || type != napi_float32_array) return NULL;
  return (float *)data;
}

static int int_arg(napi_env env, napi_value v, int32_t *out) { return napi_get_value_int32(env, v, out) == napi_ok; }

/*
 * gemm(a, b, out, batch, m, k, n, transA, transB, strideA, strideB): for each of `batch`
 * products, out[i] = op(a[i]) @ op(b[i]) with op(a): [m, k] (stored [k, m] when transA),
 * op(b): [k, n] (stored [n, k] when transB); strideA/strideB are the element offsets between
 * consecutive a/b matrices (0 broadcasts one matrix over the batch). Row-major throughout.
 */
static napi_value gemm(napi_env env, napi_callback_info info) {
  size_t argc = 11;
  napi_value argv[11];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc != 11) {
    napi_throw_type_error(env, NULL, "gemm: expected 11 arguments");
    return NULL;
  }
  size_t la = 0, lb = 0, lc = 0;
  const float *a = float_data(env, argv[0], &la);
  const float *b = float_data(env, argv[1], &lb);
  float *c = float_data(env, argv[2], &lc);
  int32_t batch, m, k, n, ta, tb, sa, sb;
  if (!a || !b || !c || !int_arg(env, argv[3], &batch) || !int_arg(env, argv[4], &m) || !int_arg(env, argv[5], &k) || !int_arg(env, argv[6], &n) ||
      !int_arg(env, argv[7], &ta) || !int_arg(env, argv[8], &tb) || !int_arg(env, argv[9], &sa) || !int_arg(env, argv[10], &sb)) {
    napi_throw_type_error(env, NULL, "gemm: expected (Float32Array x3, int x8)");
    return NULL;
  }
  if (batch < 0 || m < 0 || k < 0 || n < 0 || sa < 0 || sb < 0 || (size_t)batch * m * n > lc ||
      (batch > 0 && ((size_t)(batch - 1) * sa + (size_t)m * k > la || (size_t)(batch - 1) * sb + (size_t)k * n > lb))) {
    napi_throw_range_error(env, NULL, "gemm: the shapes do not fit the arrays");
    return NULL;
  }
  for (int32_t i = 0; i < batch; i++) {
    float *ci = c + (size_t)i * m * n;
    if (k == 0) {
      for (size_t j = 0; j < (size_t)m * n; j++) ci[j] = 0;
      continue;
    }
    cblas_sgemm(ROW_MAJOR, ta ? TRANS : NO_TRANS, tb ? TRANS : NO_TRANS, m, n, k, 1.0f, a + (size_t)i * sa, ta ? m : k, b + (size_t)i * sb, tb ? k : n,
                0.0f, ci, n);
  }
  return NULL;
}

NAPI_MODULE_INIT() {
  openblas_set_num_threads(1); /* one thread per caller: gradient workers are the parallelism */
  napi_value fn;
  napi_create_function(env, "gemm", NAPI_AUTO_LENGTH, gemm, NULL, &fn);
  napi_set_named_property(env, exports, "gemm", fn);
  return exports;
}
