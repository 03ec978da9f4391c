{
  "targets": [
    {
      "target_name": "mesh_netns",
      "sources": [
        "native/addon.c",
        "native/common.c",
        "native/netns.c",
        "native/netns-socket.c",
        "native/netns-async.c",
        "native/sockopt.c",
        "native/seqpacket.c",
        "native/poller.c"
      ],
      "defines": ["NAPI_VERSION=8", "_GNU_SOURCE"],
      "cflags_c": ["-std=gnu11", "-Wall", "-Wextra", "-Wno-unused-parameter", "-Werror=implicit-function-declaration"]
    }
  ]
}
