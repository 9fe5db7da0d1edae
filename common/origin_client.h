// The origin registry as seen by seed, peer (fallback, manifest forwarding) and
// scheduler (image resolution): an OCI distribution client.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace shoal {

struct RegistryCredentials {
  std::string username;
  std::string password;  // never logged
  bool empty() const { return username.empty() && password.empty(); }
};

// Where a repository lives: registry host[:port] and repository name.
struct OriginRepo {
  std::string registry;    // e.g. "127.0.0.1:5000" or "registry-1.docker.io"
  std::string repository;  // e.g. "library/alpine"
};

struct ManifestResponse {
  std::string body;
  std::string media_type;  // Content-Type
  std::string digest;      // Docker-Content-Digest, or computed sha256 of body
};

// Called with each piece of body bytes as they arrive, at absolute blob offset.
// Return false to abort the transfer (the call then returns kCancelled).
using ByteSink = std::function<bool(uint64_t offset, const char* data, size_t len)>;

class OriginClient {
 public:
  virtual ~OriginClient() = default;

  // HEAD a blob: its size. NotFound for 404, PermissionDenied / Unauthenticated for 403/401.
  virtual absl::StatusOr<uint64_t> BlobSize(const OriginRepo& repo, absl::string_view digest) = 0;

  // One ranged GET attempt of [offset, offset+length). Delivers bytes to sink in
  // order; returns how many bytes arrived (possibly fewer than asked when the
  // connection broke) or an error. Honours stall timeout and deadline. Does not retry.
  struct RangeResult {
    uint64_t bytes = 0;
    absl::Status status;                    // OK only when all bytes arrived
    absl::Duration retry_after = absl::ZeroDuration();  // from 429/503 Retry-After
    int http_status = 0;
  };
  virtual RangeResult FetchRange(const OriginRepo& repo, absl::string_view digest, uint64_t offset,
                                 uint64_t length, const ByteSink& sink,
                                 const std::atomic<bool>* cancel) = 0;

  // GET (or HEAD when head_only) a manifest by tag or digest with the given Accept list.
  virtual absl::StatusOr<ManifestResponse> GetManifest(const OriginRepo& repo, absl::string_view reference,
                                                       const std::vector<std::string>& accept,
                                                       bool head_only) = 0;
};

struct OriginClientOptions {
  std::vector<std::string> insecure_registries;  // host:port reached over plain HTTP
  RegistryCredentials default_credentials;       // used when a call brings none
  absl::Duration connect_timeout = absl::Seconds(10);
  absl::Duration stall_timeout = absl::Seconds(30);
  uint64_t min_rate = 256ull << 10;
  absl::Duration deadline_base = absl::Seconds(30);
  std::string user_agent = "shoal/0.1";
};

// libcurl implementation. Credentials per call override the defaults.
std::unique_ptr<OriginClient> MakeHttpOriginClient(const OriginClientOptions& options,
                                                   RegistryCredentials credentials = {});

}  // namespace shoal
