#include "common/blob_fetcher.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <deque>
#include <thread>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/blob_hasher.h"
#include "common/chunk_journal.h"
#include "common/file_util.h"
#include "common/logging.h"
#include "common/metrics.h"
#include "common/options.h"
#include "common/retry_policy.h"

namespace shoal {

namespace {

constexpr absl::Duration kProgressInterval = absl::Milliseconds(250);
constexpr absl::Duration kSleepSlice = absl::Milliseconds(100);
constexpr size_t kReadBuffer = 1 << 20;

// Returns 0 or the errno of the failed write.
int PWriteAll(int fd, const char* data, size_t len, uint64_t offset) {
  while (len > 0) {
    ssize_t n = ::pwrite(fd, data, len, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno;
    data += n;
    len -= static_cast<size_t>(n);
    offset += static_cast<uint64_t>(n);
  }
  return 0;
}

// "128.0 MiB": for messages people read (FormatByteSize is exact, for configs).
std::string ApproxBytes(uint64_t b) {
  if (b >= (1ull << 30)) return absl::StrFormat("%.2f GiB", static_cast<double>(b) / (1ull << 30));
  if (b >= (1ull << 20)) return absl::StrFormat("%.1f MiB", static_cast<double>(b) / (1ull << 20));
  if (b >= (1ull << 10)) return absl::StrFormat("%.1f KiB", static_cast<double>(b) / (1ull << 10));
  return absl::StrCat(b, " B");
}

double MegabytesPerSecond(uint64_t bytes, absl::Duration d) {
  double s = absl::ToDoubleSeconds(d);
  return s > 0 ? static_cast<double>(bytes) / 1e6 / s : 0.0;
}

}  // namespace

// The state of one Fetch call: workers fetch chunks, the calling thread hashes the
// contiguous prefix and raises the events.
class BlobFetchRun {
 public:
  BlobFetchRun(BlobFetcher& f, const BlobDigest& digest, const OriginRepo& repo,
               const BlobFetchEvents& events, const std::atomic<bool>* cancel)
      : f_(f),
        digest_(digest),
        repo_(repo),
        events_(events),
        cancel_(cancel),
        policy_(f.cfg_),
        log_(Logger("fetch")) {}

  absl::Status Run(std::optional<uint64_t> known_size);
  BlobFetcher::Stats stats() const;

 private:
  bool Stopping() const { return stop_.load() || (cancel_ != nullptr && cancel_->load()); }
  void Fail(absl::Status s);
  bool SleepUnlessStopped(absl::Duration d);
  absl::StatusOr<uint64_t> ResolveSize(std::optional<uint64_t> known_size);
  uint64_t ChunkOffset(uint32_t i) const { return uint64_t{i} * f_.cfg_.chunk_size; }
  uint64_t ChunkLength(uint32_t i) const {
    return std::min(f_.cfg_.chunk_size, plan_->blob_size() - ChunkOffset(i));
  }
  absl::Status DiskFull(const std::string& path) const;
  void Worker();
  absl::Status FetchChunk(uint32_t i);
  void MarkWritten(uint32_t i);
  void MarkDurable(uint32_t i);
  absl::Status HashPrefix();
  absl::Status HashChunk(uint32_t i, std::vector<char>& buf);
  // Chunks that must be durable before segment k is announced.
  uint32_t ChunksThrough(SegmentIndex k) const {
    uint64_t end = plan_->SegmentOffset(k) + plan_->SegmentLength(k);
    return static_cast<uint32_t>((end + f_.cfg_.chunk_size - 1) / f_.cfg_.chunk_size);
  }
  void QueueHashedSegments();
  void EmitDurableSegments(uint32_t durable_prefix);
  void ReportProgress(uint32_t durable_prefix, bool force);
  std::string Where() const {
    return absl::StrCat("sha256:", digest_.Short(), "… from ", repo_.registry, "/",
                        repo_.repository);
  }

  BlobFetcher& f_;
  const BlobDigest& digest_;
  const OriginRepo& repo_;
  const BlobFetchEvents& events_;
  const std::atomic<bool>* cancel_;
  RetryPolicy policy_;
  std::shared_ptr<spdlog::logger> log_;

  std::optional<SegmentPlan> plan_;
  std::optional<BlobHasher> hasher_;
  std::deque<HashedSegment> hashed_segments_;  // hashed, waiting for their chunks' durability
  std::optional<HashedSegment> last_segment_;  // held back until the digest matched
  uint64_t reported_origin_ = UINT64_MAX;
  uint64_t reported_prefix_ = UINT64_MAX;
  std::unique_ptr<ChunkJournal> journal_;
  std::vector<uint32_t> pending_;  // chunks to fetch, ascending so the prefix grows early
  std::atomic<size_t> next_pending_{0};
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> origin_bytes_{0};
  std::atomic<uint32_t> retries_{0};
  uint64_t resumed_bytes_ = 0;
  absl::Duration last_byte_to_verified_ = absl::ZeroDuration();

  mutable absl::Mutex mu_;
  absl::CondVar cv_;
  // Hashing follows chunks as soon as their bytes are written (page cache); segment
  // events follow durability (fdatasync + journal), so both overlap with the fetch.
  std::vector<bool> chunk_written_ ABSL_GUARDED_BY(mu_);
  std::vector<bool> chunk_done_ ABSL_GUARDED_BY(mu_);  // durable and journaled
  uint32_t durable_prefix_ ABSL_GUARDED_BY(mu_) = 0;   // leading chunks all durable
  uint64_t durable_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Status failure_ ABSL_GUARDED_BY(mu_);
  int workers_running_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Time last_byte_at_ ABSL_GUARDED_BY(mu_);
};

void BlobFetchRun::Fail(absl::Status s) {
  absl::MutexLock l(&mu_);
  if (failure_.ok()) failure_ = std::move(s);
  stop_ = true;
  cv_.SignalAll();
}

bool BlobFetchRun::SleepUnlessStopped(absl::Duration d) {
  absl::Time until = f_.clock_.Now() + d;
  while (!Stopping()) {
    absl::Duration left = until - f_.clock_.Now();
    if (left <= absl::ZeroDuration()) return true;
    f_.clock_.SleepFor(std::min(left, kSleepSlice));
  }
  return false;
}

BlobFetcher::Stats BlobFetchRun::stats() const {
  BlobFetcher::Stats s;
  s.origin_bytes = origin_bytes_.load();
  s.resumed_bytes = resumed_bytes_;
  s.retries = retries_.load();
  s.last_byte_to_verified = last_byte_to_verified_;
  return s;
}

absl::StatusOr<uint64_t> BlobFetchRun::ResolveSize(std::optional<uint64_t> known_size) {
  if (known_size.has_value()) return *known_size;
  for (uint32_t failures = 1;; ++failures) {
    absl::StatusOr<uint64_t> size = f_.origin_.BlobSize(repo_, digest_.str());
    if (size.ok()) return size;
    if (Stopping()) return absl::CancelledError(absl::StrCat("fetch of ", Where(), " cancelled"));
    auto decision = policy_.OnFailure(size.status(), 0, absl::ZeroDuration(), failures);
    if (!decision.retry) return size.status();
    retries_++;
    Metrics().origin_retries_total.Add();
    log_->warn("{}; retrying in {} ({}, attempt {})", size.status().message(),
               absl::FormatDuration(decision.delay),
               decision.delay_from_retry_after ? "Retry-After" : "backoff", failures + 1);
    if (!SleepUnlessStopped(decision.delay)) {
      return absl::CancelledError(absl::StrCat("fetch of ", Where(), " cancelled"));
    }
  }
}

absl::Status BlobFetchRun::DiskFull(const std::string& path) const {
  uint64_t needed;
  {
    absl::MutexLock l(&mu_);
    needed = plan_->blob_size() - durable_bytes_;
  }
  auto free = f_.free_space_(path);
  return absl::ResourceExhaustedError(absl::StrCat(
      "disk full writing ", path, ": ", Where(), " needs ", needed, " more bytes (",
      ApproxBytes(needed), "), ",
      free.ok() ? absl::StrCat(*free, " bytes free (", ApproxBytes(*free), ")")
                : "free space unknown",
      "; free space or lower the cache quota and retry (fetched chunks are kept)"));
}

absl::Status BlobFetchRun::Run(std::optional<uint64_t> known_size) {
  const TransferConfig& cfg = f_.cfg_;
  absl::Time start = f_.clock_.Now();
  if (cfg.chunk_size == 0 || cfg.segment_size % cfg.chunk_size != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "chunk_size (", cfg.chunk_size, ") must divide segment_size (", cfg.segment_size, ")"));
  }
  absl::StatusOr<uint64_t> size = ResolveSize(known_size);
  if (!size.ok()) return size.status();
  absl::StatusOr<SegmentPlan> plan = SegmentPlan::Create(*size, cfg.segment_size, cfg.piece_size);
  if (!plan.ok()) return plan.status();
  plan_ = *plan;
  hasher_.emplace(*plan_);
  if (absl::Status st = f_.store_.Prepare(digest_, *plan_); !st.ok()) return st;
  const bool already_verified = f_.store_.IsVerified(digest_);
  if (events_.on_layout) events_.on_layout(*plan_);
  std::string journal_path = absl::StrCat(f_.store_.BlobDir(digest_), "/", ChunkJournal::kFileName);
  auto journal = ChunkJournal::Open(journal_path, *size, cfg.chunk_size);
  if (!journal.ok()) return journal.status();
  journal_ = std::move(*journal);

  const uint32_t chunks = journal_->chunk_count();
  {
    absl::MutexLock l(&mu_);
    chunk_done_.assign(chunks, already_verified);
    for (uint32_t c : journal_->Completed()) chunk_done_[c] = true;
    for (uint32_t c = 0; c < chunks; ++c) {
      if (chunk_done_[c]) {
        resumed_bytes_ += ChunkLength(c);
      } else {
        pending_.push_back(c);
      }
    }
    chunk_written_ = chunk_done_;
    while (durable_prefix_ < chunks && chunk_done_[durable_prefix_]) ++durable_prefix_;
    durable_bytes_ = resumed_bytes_;
    last_byte_at_ = f_.clock_.Now();
  }
  if (!pending_.empty()) {
    auto free = f_.free_space_(f_.store_.BlobDir(digest_));
    if (free.ok() && *free < *size - resumed_bytes_) return DiskFull(f_.store_.BlobDir(digest_));
  }
  log_->info("fetching {} ({}): {} chunks, {} already on disk", Where(), FormatByteSize(*size),
             chunks, chunks - pending_.size());

  std::vector<std::thread> workers;
  size_t n_workers =
      std::min<size_t>(std::max<uint32_t>(cfg.origin_concurrency, 1), pending_.size());
  {
    absl::MutexLock l(&mu_);
    workers_running_ = static_cast<int>(n_workers);
  }
  for (size_t w = 0; w < n_workers; ++w) workers.emplace_back([this] { Worker(); });
  absl::Status hashed = HashPrefix();
  if (!hashed.ok()) Fail(hashed);
  const absl::Time hashed_at = f_.clock_.Now();
  for (auto& t : workers) t.join();
  absl::Status failure;
  absl::Time last_chunk_at;
  {
    absl::MutexLock l(&mu_);
    failure = failure_;
    last_chunk_at = last_byte_at_;
  }
  if (!failure.ok()) {
    if (failure.code() == absl::StatusCode::kCancelled) {
      log_->info("fetch of {} cancelled; {} chunks kept for a resume", Where(),
                 journal_->completed_count());
    } else {
      log_->warn("fetch of {} failed: {}", Where(), failure.message());
    }
    return failure;
  }

  std::string actual = hasher_->Sha256Digest();
  if (actual != digest_.str()) {
    journal_.reset();
    (void)f_.store_.Discard(digest_);
    return absl::DataLossError(
        absl::StrCat("blob ", digest_.str(), " from ", repo_.registry, "/", repo_.repository,
                     " hashed to ", actual,
                     "; the cache entry was discarded (the origin sent other bytes "
                     "than the digest names)"));
  }
  if (!already_verified) {
    if (absl::Status st = f_.store_.MarkVerified(digest_); !st.ok()) return st;
    Metrics().blobs_verified_total.Add();
  }
  const absl::Time verified_at = f_.clock_.Now();
  last_byte_to_verified_ = verified_at - last_chunk_at;
  if (last_segment_.has_value()) {
    Metrics().segments_ready_total.Add();
    if (events_.on_segment) events_.on_segment(*last_segment_);
  }
  ReportProgress(journal_->chunk_count(), true);
  journal_.reset();
  ::unlink(journal_path.c_str());  // the verified flag now says it all
  absl::Duration took = f_.clock_.Now() - start;
  log_->info(
      "fetched {} ({}) in {}: {} from origin at {:.1f} MB/s, {} resumed, {} retries; last byte "
      "to verified {} (hashing and syncing {}, marking {})",
      Where(), FormatByteSize(*size), absl::FormatDuration(took),
      FormatByteSize(origin_bytes_.load()), MegabytesPerSecond(origin_bytes_.load(), took),
      FormatByteSize(resumed_bytes_), retries_.load(), absl::FormatDuration(last_byte_to_verified_),
      absl::FormatDuration(std::max(absl::ZeroDuration(), hashed_at - last_chunk_at)),
      absl::FormatDuration(verified_at - hashed_at));
  return absl::OkStatus();
}

void BlobFetchRun::Worker() {
  while (!Stopping()) {
    size_t slot = next_pending_.fetch_add(1);
    if (slot >= pending_.size()) break;
    uint32_t chunk = pending_[slot];
    absl::Status st = FetchChunk(chunk);
    if (!st.ok()) {
      Fail(std::move(st));
      break;
    }
    MarkDurable(chunk);
  }
  absl::MutexLock l(&mu_);
  --workers_running_;
  cv_.SignalAll();
}

absl::Status BlobFetchRun::FetchChunk(uint32_t i) {
  const uint64_t off = ChunkOffset(i), len = ChunkLength(i);
  const SegmentIndex k = plan_->SegmentOf(off);
  const uint64_t seg_off = off - plan_->SegmentOffset(k);
  const std::string path = f_.store_.SegmentPath(digest_, k);
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    return absl::InternalError(absl::StrCat("cannot open segment file ", path, ": ",
                                            std::strerror(errno),
                                            " (was the cache entry removed?)"));
  }
  absl::Cleanup closer = [fd] { ::close(fd); };
  const auto cancelled = [&] {
    return absl::CancelledError(absl::StrCat("fetch of ", Where(), " cancelled"));
  };
  uint64_t done = 0;
  uint32_t failures = 0;
  while (done < len) {
    if (Stopping()) return cancelled();
    int write_errno = 0;
    uint64_t accepted = 0;
    ByteSink sink = [&](uint64_t at, const char* data, size_t n) {
      if (Stopping()) return false;
      if (at != off + done + accepted) {
        write_errno = -1;
        return false;
      }
      write_errno = PWriteAll(fd, data, n, seg_off + done + accepted);
      if (write_errno != 0) return false;
      accepted += n;
      origin_bytes_ += n;
      Metrics().bytes_from_origin_total.Add(n);
      return true;
    };
    OriginClient::RangeResult r =
        f_.origin_.FetchRange(repo_, digest_.str(), off + done, len - done, sink, &stop_);
    done += accepted;
    if (write_errno == ENOSPC || write_errno == EDQUOT) return DiskFull(path);
    if (write_errno > 0) {
      return absl::InternalError(
          absl::StrCat("cannot write ", path, ": ", std::strerror(write_errno)));
    }
    if (write_errno < 0) {
      return absl::InternalError(
          absl::StrCat("origin client delivered bytes out of order for ", Where()));
    }
    if (done == len) break;
    if (Stopping()) return cancelled();
    absl::Status st = r.status.ok() ? absl::UnavailableError(absl::StrCat(
                                          "origin ", repo_.registry, " ended chunk ", i, " of ",
                                          Where(), " after ", done, " of ", len, " bytes"))
                                    : r.status;
    if (accepted > 0) failures = 0;  // progress: a flaky link is not a dead one
    ++failures;
    auto decision = policy_.OnFailure(st, r.http_status, r.retry_after, failures);
    if (!decision.retry) {
      if (!IsRetryable(st, r.http_status)) return st;
      return absl::Status(st.code(), absl::StrCat(st.message(), "; gave up after ", failures,
                                                  " attempts without progress"));
    }
    retries_++;
    Metrics().origin_retries_total.Add();
    log_->warn("{}; retrying in {} ({}, attempt {} of {}, resuming at byte {})", st.message(),
               absl::FormatDuration(decision.delay),
               decision.delay_from_retry_after ? "Retry-After" : "backoff", failures + 1,
               policy_.max_attempts(), off + done);
    if (!SleepUnlessStopped(decision.delay)) return cancelled();
  }
  MarkWritten(i);
  if (::fdatasync(fd) != 0) {
    int err = errno;
    if (err == ENOSPC || err == EDQUOT) return DiskFull(path);
    return absl::InternalError(absl::StrCat("cannot sync ", path, ": ", std::strerror(err)));
  }
  if (absl::Status st = journal_->MarkComplete(i); !st.ok()) return st;
  log_->debug("{} chunk {} ({} bytes at {}) durable", Where(), i, len, off);
  return absl::OkStatus();
}

void BlobFetchRun::MarkWritten(uint32_t i) {
  absl::MutexLock l(&mu_);
  chunk_written_[i] = true;
  last_byte_at_ = f_.clock_.Now();
  cv_.SignalAll();
}

void BlobFetchRun::MarkDurable(uint32_t i) {
  absl::MutexLock l(&mu_);
  chunk_done_[i] = true;
  durable_bytes_ += ChunkLength(i);
  while (durable_prefix_ < chunk_done_.size() && chunk_done_[durable_prefix_]) ++durable_prefix_;
  cv_.SignalAll();
}

absl::Status BlobFetchRun::HashPrefix() {
  std::vector<char> buf(kReadBuffer);
  const uint32_t chunks = journal_->chunk_count();
  uint32_t next = 0;      // the next chunk to hash
  QueueHashedSegments();  // an empty blob's one segment
  while (true) {
    const uint32_t need_durable =
        hashed_segments_.empty() ? UINT32_MAX : ChunksThrough(hashed_segments_.front().index);
    bool can_hash, failed;
    uint32_t durable;
    int running;
    {
      absl::MutexLock l(&mu_);
      auto moved = [&] {
        return (next < chunks && chunk_written_[next]) || durable_prefix_ >= need_durable;
      };
      if (!moved() && failure_.ok() && workers_running_ > 0) {
        cv_.WaitWithTimeout(&mu_, kProgressInterval);
      }
      can_hash = next < chunks && chunk_written_[next];
      failed = !failure_.ok();
      durable = durable_prefix_;
      running = workers_running_;
    }
    if (failed) return absl::OkStatus();  // the worker's failure is what Run reports
    EmitDurableSegments(durable);
    if (can_hash) {
      if (absl::Status st = HashChunk(next, buf); !st.ok()) return st;
      ++next;
      QueueHashedSegments();
      EmitDurableSegments(durable);
      ReportProgress(durable, false);
      continue;
    }
    if (next == chunks && hashed_segments_.empty()) return absl::OkStatus();
    if (cancel_ != nullptr && cancel_->load()) {
      return absl::CancelledError(absl::StrCat("fetch of ", Where(), " cancelled"));
    }
    if (running == 0 && durable < chunks) {
      return absl::InternalError(
          absl::StrCat("chunk ", durable, " of ", Where(), " was never fetched"));
    }
    ReportProgress(durable, false);
  }
}

void BlobFetchRun::QueueHashedSegments() {
  HashedSegment seg;
  while (hasher_->PopSegment(&seg)) {
    if (seg.index + 1 == plan_->segment_count()) {
      last_segment_ = std::move(seg);
    } else {
      hashed_segments_.push_back(std::move(seg));
    }
  }
}

void BlobFetchRun::EmitDurableSegments(uint32_t durable_prefix) {
  while (!hashed_segments_.empty() &&
         durable_prefix >= ChunksThrough(hashed_segments_.front().index)) {
    Metrics().segments_ready_total.Add();
    if (events_.on_segment) {
      events_.on_segment(hashed_segments_.front());
    }
    hashed_segments_.pop_front();
  }
}

void BlobFetchRun::ReportProgress(uint32_t durable_prefix, bool force) {
  if (!events_.on_progress) return;
  uint64_t prefix = std::min<uint64_t>(
      hasher_->hashed(),
      std::min(plan_->blob_size(), uint64_t{durable_prefix} * f_.cfg_.chunk_size));
  uint64_t origin = origin_bytes_.load();
  if (!force && prefix == reported_prefix_ && origin == reported_origin_) return;
  reported_prefix_ = prefix;
  reported_origin_ = origin;
  events_.on_progress(origin, prefix);
}

absl::Status BlobFetchRun::HashChunk(uint32_t i, std::vector<char>& buf) {
  const uint64_t off = ChunkOffset(i), len = ChunkLength(i);
  const SegmentIndex k = plan_->SegmentOf(off);
  const std::string path = f_.store_.SegmentPath(digest_, k);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return absl::DataLossError(absl::StrCat("segment file ", path, " vanished while fetching"));
  }
  absl::Cleanup closer = [fd] { ::close(fd); };
  uint64_t seg_off = off - plan_->SegmentOffset(k);
  for (uint64_t got = 0; got < len;) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(buf.size(), len - got));
    ssize_t n = ::pread(fd, buf.data(), want, static_cast<off_t>(seg_off + got));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      return absl::DataLossError(absl::StrCat("cannot read back ", path, " at ", seg_off + got,
                                              ": ",
                                              n < 0 ? std::strerror(errno) : "file too short"));
    }
    hasher_->Update(buf.data(), static_cast<size_t>(n));
    got += static_cast<uint64_t>(n);
  }
  return absl::OkStatus();
}

BlobFetcher::BlobFetcher(OriginClient& origin, BlobStore& store, const TransferConfig& cfg,
                         Clock& clock)
    : origin_(origin), store_(store), cfg_(cfg), clock_(clock), free_space_(&FreeDiskBytes) {}

absl::Status BlobFetcher::Fetch(const BlobDigest& digest, const OriginRepo& repo,
                                const BlobFetchEvents& events, const std::atomic<bool>* cancel,
                                std::optional<uint64_t> known_size) {
  BlobFetchRun run(*this, digest, repo, events, cancel);
  absl::Status st = run.Run(known_size);
  absl::MutexLock l(&mu_);
  stats_ = run.stats();
  return st;
}

BlobFetcher::Stats BlobFetcher::stats() const {
  absl::MutexLock l(&mu_);
  return stats_;
}

}  // namespace shoal
