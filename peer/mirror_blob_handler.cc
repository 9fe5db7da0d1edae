#include "peer/mirror_blob_handler.h"

#include <httplib.h>

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/hashing.h"
#include "common/logging.h"
#include "common/segment_reader.h"
#include "peer/mirror_http.h"

namespace shoal {
namespace {

// Bytes moved per content-provider call: big enough to keep syscalls cheap, small
// enough that the first bytes of a streaming blob go out as soon as they land.
constexpr uint64_t kChunkBytes = 1ull << 20;
constexpr char kBlobContentType[] = "application/octet-stream";

}  // namespace

// Everything one response needs after the handler has returned: httplib calls the
// content provider and the releaser later, from the same worker thread.
struct MirrorBlobHandler::Stream {
  explicit Stream(BlobDigest d) : digest(std::move(d)) {}
  BlobDigest digest;
  bool head = false;
  bool from_cache = false;
  uint64_t size = 0;
  BlobMeta meta;                           // from_cache
  std::unique_ptr<SegmentReader> reader;   // from_cache
  std::shared_ptr<BlobTransfer> transfer;  // !from_cache
  uint64_t first = 0;                      // first byte sent
  uint64_t length = 0;                     // bytes promised in Content-Length
  bool partial = false;
  uint64_t sent = 0;
  absl::Status failure;
  absl::Time started;
  std::vector<char> buffer;
  // Whole-blob reads from the cache are re-hashed as they go out; the last chunk
  // is sent only when the digest still matches, so bytes that rotted or were
  // tampered with on disk never reach a client as a complete blob.
  std::unique_ptr<Hasher> verify;
};

void MirrorBlobHandler::Handle(const httplib::Request& req, httplib::Response& res,
                               const MirrorRoute& route, const std::string& registry) {
  const BlobDigest& digest = *route.digest;
  absl::StatusOr<BlobMeta> meta = store_.LoadMeta(digest);
  if (meta.ok() && meta->verified) {
    ServeFromCache(req, res, digest, *meta);
    return;
  }
  if (registry.empty()) {
    ReplyError(res,
               {404, oci_code::kBlobUnknown,
                absl::StrCat("blob ", digest.str(),
                             " is not cached here and the request names no registry; send "
                             "?ns=<registry host> (containerd does) or set a default registry"),
                ""},
               stats_);
    return;
  }
  ServeFromTransfer(req, res, route, registry);
}

void MirrorBlobHandler::ServeFromCache(const httplib::Request& req, httplib::Response& res,
                                       const BlobDigest& digest, const BlobMeta& meta) {
  auto stream = std::make_shared<Stream>(digest);
  stream->head = IsHead(req);
  stream->from_cache = true;
  stream->size = meta.size;
  stream->meta = meta;
  stream->reader = std::make_unique<SegmentReader>(store_, digest, meta);
  if (!stream->head) store_.Touch(digest);  // last use, for LRU garbage collection
  Respond(req, res, std::move(stream));
}

void MirrorBlobHandler::ServeFromTransfer(const httplib::Request& req, httplib::Response& res,
                                          const MirrorRoute& route, const std::string& registry) {
  const BlobDigest& digest = *route.digest;
  auto stream = std::make_shared<Stream>(digest);
  stream->head = IsHead(req);
  absl::StatusOr<std::shared_ptr<BlobTransfer>> transfer =
      provider_.Acquire(BlobRequest{digest, OriginRepo{registry, route.name}});
  absl::StatusOr<uint64_t> size =
      transfer.ok() ? WaitForSize(**transfer) : absl::StatusOr<uint64_t>(transfer.status());
  if (!size.ok()) {
    Logger("mirror")->warn("blob {} from {}/{}: cannot serve: {}", digest.Short(), registry,
                           route.name, size.status().ToString());
    ReplyError(res, OciErrorFromStatus(size.status(), oci_code::kBlobUnknown), stats_);
    return;
  }
  stream->transfer = std::move(*transfer);
  stream->size = *size;
  Respond(req, res, std::move(stream));
}

void MirrorBlobHandler::Respond(const httplib::Request& req, httplib::Response& res,
                                std::shared_ptr<Stream> stream) {
  res.set_header(kDigestHeader, stream->digest.str());
  res.set_header("Accept-Ranges", "bytes");
  RangeDecision range = DecideRange(req.get_header_value("Range"), stream->size);
  if (range.kind == RangeDecision::kUnsatisfiable) {
    res.set_header("Content-Range", range.ContentRange(stream->size));
    ReplyError(
        res,
        {416, oci_code::kRangeInvalid,
         absl::StrCat("range '", req.get_header_value("Range").substr(0, 100), "' is outside blob ",
                      stream->digest.str(), " of ", stream->size, " bytes"),
         ""},
        stats_);
    return;
  }
  stream->partial = range.kind == RangeDecision::kPartial;
  stream->first = stream->partial ? range.first : 0;
  stream->length = stream->partial ? range.length : stream->size;
  res.status = stream->partial ? 206 : 200;
  if (stream->partial) res.set_header("Content-Range", range.ContentRange(stream->size));
  stream->started = options_.clock->Now();

  if (stream->length == 0) {  // the empty blob: nothing to stream
    res.set_content("", kBlobContentType);
    if (!stream->head)
      (stream->from_cache ? stats_.blobs_served_from_cache : stats_.blobs_served_streaming)
          .fetch_add(1);
    return;
  }

  auto provide = [this, stream](size_t offset, size_t length, httplib::DataSink& sink) {
    Stream& s = *stream;
    uint64_t pos = s.first + offset;
    uint64_t end = pos + std::min<uint64_t>(length, kChunkBytes);
    if (!s.from_cache) {
      absl::StatusOr<uint64_t> readable = WaitPast(*s.transfer, pos, end);
      if (!readable.ok()) {
        s.failure = readable.status();
        return false;  // httplib closes the connection short of Content-Length
      }
      end = std::min(end, *readable);
    }
    s.buffer.resize(kChunkBytes);
    size_t want = static_cast<size_t>(end - pos);
    absl::StatusOr<size_t> got = s.from_cache ? s.reader->ReadAt(pos, s.buffer.data(), want)
                                              : s.transfer->Read(pos, s.buffer.data(), want);
    if (!got.ok() || *got == 0) {
      s.failure = got.ok()
                      ? absl::DataLossError(absl::StrCat("read of byte ", pos, " returned nothing"))
                      : got.status();
      return false;
    }
    if (s.from_cache && !s.partial) {
      if (!s.verify) s.verify = std::make_unique<Hasher>(Hasher::Kind::kSha256);
      s.verify->Update(s.buffer.data(), *got);
      if (s.sent + *got == s.length && s.verify->FinalHex() != s.digest.hex()) {
        s.failure = absl::DataLossError("cached bytes no longer match the digest; entry discarded");
        Logger("mirror")->error(
            "blob {}: cached bytes no longer match the digest; discarding the entry, "
            "the next request fetches it again",
            s.digest.Short());
        (void)store_.Discard(s.digest);
        return false;
      }
    }
    if (!sink.write(s.buffer.data(), *got)) {
      s.failure = absl::CancelledError("client stopped reading");
      return false;
    }
    s.sent += *got;
    stats_.blob_bytes_served.fetch_add(*got);
    return true;
  };
  auto release = [this, stream](bool /*httplib_success*/) {
    const Stream& s = *stream;
    if (s.head) return;
    int64_t ms = absl::ToInt64Milliseconds(options_.clock->Now() - s.started);
    std::string what = s.partial ? absl::StrCat(" (range ", s.first, "+", s.length, ")") : "";
    if (s.sent == s.length) {
      (s.from_cache ? stats_.blobs_served_from_cache : stats_.blobs_served_streaming).fetch_add(1);
      Logger("mirror")->info("blob {} served {} bytes{} {} in {} ms", s.digest.Short(), s.sent,
                             what, s.from_cache ? "from cache" : "streaming", ms);
      return;
    }
    stats_.errors.fetch_add(1);
    Logger("mirror")->warn("blob {} stream aborted after {} of {} bytes{} ({}, {} ms): {}",
                           s.digest.Short(), s.sent, s.length, what,
                           s.from_cache ? "from cache" : "streaming", ms,
                           s.failure.ok() ? "connection closed" : s.failure.ToString());
  };
  res.set_content_provider(stream->length, kBlobContentType, std::move(provide),
                           std::move(release));
}

absl::StatusOr<uint64_t> MirrorBlobHandler::WaitForSize(BlobTransfer& transfer) {
  Clock& clock = *options_.clock;
  absl::Time deadline = clock.Now() + options_.size_timeout;
  while (true) {
    if (stopping_.load()) return absl::CancelledError("the mirror is shutting down");
    absl::Duration left = deadline - clock.Now();
    if (left <= absl::ZeroDuration()) {
      return absl::DeadlineExceededError(absl::StrCat("the blob's size was not known within ",
                                                      absl::FormatDuration(options_.size_timeout),
                                                      " (is the scheduler reachable?)"));
    }
    absl::StatusOr<uint64_t> size = transfer.WaitForSize(std::min(left, options_.wait_slice));
    if (size.ok() || !absl::IsDeadlineExceeded(size.status())) return size;
  }
}

absl::StatusOr<uint64_t> MirrorBlobHandler::WaitPast(BlobTransfer& transfer, uint64_t pos,
                                                     uint64_t want_end) {
  Clock& clock = *options_.clock;
  absl::Time waiting_since = clock.Now();
  while (true) {
    if (stopping_.load()) return absl::CancelledError("the mirror is shutting down");
    absl::StatusOr<uint64_t> readable =
        transfer.WaitReadable(want_end, std::min(options_.wait_slice, options_.stall_timeout));
    if (!readable.ok() || *readable > pos) return readable;
    if (clock.Now() - waiting_since >= options_.stall_timeout) {
      return absl::DeadlineExceededError(
          absl::StrCat("no byte past offset ", pos, " became readable for ",
                       absl::FormatDuration(options_.stall_timeout)));
    }
  }
}

}  // namespace shoal
