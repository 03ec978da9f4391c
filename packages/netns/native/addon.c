/* mesh_netns: the Linux-only native pieces of the mesh data plane. See src/index.ts for the typed API. */
#include "common.h"

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  if (!init_netns(env, exports) || !init_sockopt(env, exports) || !init_seqpacket(env, exports) ||
      !init_poller(env, exports) || !init_netns_async(env, exports)) {
    throw_napi_failure(env);
    return NULL;
  }
  return exports;
}
