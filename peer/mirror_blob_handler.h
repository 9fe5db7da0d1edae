// Serves HEAD/GET /v2/<name>/blobs/<digest> for the registry mirror: verified
// blobs straight from the BlobStore's segment files, everything else streamed in
// order from a BlobProvider transfer as its bytes become readable. A stream that
// cannot finish is cut off (connection closed before Content-Length bytes), so a
// client never takes a short or wrong body for a complete one.
#pragma once

#include <atomic>
#include <string>

#include "common/blob_store.h"
#include "peer/blob_provider.h"
#include "peer/mirror_options.h"
#include "peer/mirror_request.h"

namespace httplib {
struct Request;
struct Response;
}  // namespace httplib

namespace shoal {

class MirrorBlobHandler {
 public:
  MirrorBlobHandler(const MirrorOptions& options, BlobStore& store, BlobProvider& provider,
                    MirrorStats& stats, const std::atomic<bool>& stopping)
      : options_(options), store_(store), provider_(provider), stats_(stats), stopping_(stopping) {}

  // route.kind == kBlob. registry is where the blob lives upstream ("" when the
  // request named none and there is no default: only cached blobs can be served).
  void Handle(const httplib::Request& req, httplib::Response& res, const MirrorRoute& route,
              const std::string& registry);

 private:
  struct Stream;
  void ServeFromCache(const httplib::Request& req, httplib::Response& res, const BlobDigest& digest,
                      const BlobMeta& meta);
  void ServeFromTransfer(const httplib::Request& req, httplib::Response& res,
                         const MirrorRoute& route, const std::string& registry);
  // Common tail: Range decision, headers, and the content provider over `stream`.
  void Respond(const httplib::Request& req, httplib::Response& res, std::shared_ptr<Stream> stream);
  // Waits (in slices, watching Stop) until bytes past `pos` are readable; the
  // transfer's error, Cancelled on shutdown, DeadlineExceeded after stall_timeout.
  absl::StatusOr<uint64_t> WaitPast(BlobTransfer& transfer, uint64_t pos, uint64_t want_end);
  absl::StatusOr<uint64_t> WaitForSize(BlobTransfer& transfer);

  const MirrorOptions& options_;
  BlobStore& store_;
  BlobProvider& provider_;
  MirrorStats& stats_;
  const std::atomic<bool>& stopping_;
};

}  // namespace shoal
