// The OCI registry mirror inside shoal-peer: what containerd talks to (hosts.toml
// points it at 127.0.0.1:65001). Read-only distribution API:
//   GET /v2/                                 200 {}
//   HEAD|GET /v2/<name>/manifests/<ref>      forwarded to the registry named by ?ns=
//                                            (by-digest ones cached, see ManifestCache)
//   HEAD|GET /v2/<name>/blobs/<digest>       from the BlobStore when verified, else
//                                            streamed from the swarm (BlobProvider)
// Every bad input is answered with an OCI error body and never reaches the cache.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>

#include "absl/status/status.h"
#include "common/blob_store.h"
#include "common/origin_client.h"
#include "peer/blob_provider.h"
#include "peer/manifest_cache.h"
#include "peer/mirror_blob_handler.h"
#include "peer/mirror_manifest_handler.h"
#include "peer/mirror_options.h"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace shoal {

class MirrorServer {
 public:
  // All references must outlive the server.
  MirrorServer(MirrorOptions options, BlobStore& store, BlobProvider& provider,
               OriginClient& origin, ManifestCache& manifests);
  ~MirrorServer();  // Stop()s
  MirrorServer(const MirrorServer&) = delete;
  MirrorServer& operator=(const MirrorServer&) = delete;

  // Binds options.listen (port 0 picks a free port, see port()) and serves on its
  // own threads. FailedPrecondition when the address cannot be bound.
  absl::Status Start();
  int port() const { return port_; }
  // Stops accepting, cuts off streams that are waiting for bytes, joins the threads.
  void Stop();

  struct Counters {
    uint64_t blob_bytes_served = 0;
    uint64_t blobs_served_from_cache = 0;
    uint64_t blobs_served_streaming = 0;
    uint64_t manifest_requests = 0;
    uint64_t errors = 0;
  };
  Counters counters() const;

 private:
  void HandleRead(const httplib::Request& req, httplib::Response& res);  // GET and HEAD
  void HandleUnsupportedMethod(const httplib::Request& req, httplib::Response& res);

  MirrorOptions options_;
  MirrorStats stats_;
  std::atomic<bool> stopping_{false};
  MirrorBlobHandler blobs_;
  MirrorManifestHandler manifests_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  std::atomic<bool> listen_returned_{false};
  int port_ = 0;
};

}  // namespace shoal
