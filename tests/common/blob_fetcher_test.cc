#include "common/blob_fetcher.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/chunk_journal.h"
#include "common/hashing.h"
#include "common/segment_reader.h"
#include "tests/common/fake_origin.h"

namespace shoal {
namespace {

namespace fs = std::filesystem;

constexpr uint64_t kChunk = 64 << 10;
constexpr uint64_t kSegment = 256 << 10;
constexpr uint32_t kPiece = 16 << 10;
constexpr uint64_t kBlobSize = 4 * kSegment + 3 * kChunk + 1234;  // 5 segments, last short

std::string RandomBytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

TransferConfig Config(uint32_t concurrency = 4) {
  TransferConfig cfg;
  cfg.chunk_size = kChunk;
  cfg.segment_size = kSegment;
  cfg.piece_size = kPiece;
  cfg.origin_concurrency = concurrency;
  cfg.max_attempts = 5;
  cfg.backoff_initial = absl::Milliseconds(100);
  cfg.backoff_max = absl::Seconds(2);
  return cfg;
}

// What a fetch reported through its events.
struct Recorded {
  std::optional<SegmentPlan> layout;
  std::vector<SegmentIndex> segment_order;
  std::map<SegmentIndex, std::vector<std::string>> pieces;
  uint64_t last_contiguous = 0;
  BlobFetchEvents Events() {
    BlobFetchEvents ev;
    ev.on_layout = [this](const SegmentPlan& p) { layout = p; };
    ev.on_segment = [this](const HashedSegment& s) {
      segment_order.push_back(s.index);
      pieces[s.index] = s.piece_sha1_raw;
    };
    ev.on_progress = [this](uint64_t, uint64_t contiguous) {
      EXPECT_GE(contiguous, last_contiguous) << "contiguous prefix went backwards";
      last_contiguous = contiguous;
    };
    return ev;
  }
};

class BlobFetcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = absl::StrCat(::testing::TempDir(), "/blob_fetcher_", ::getpid(), "_",
                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    store_ = *BlobStore::Open(root_);
    blob_ = RandomBytes(kBlobSize, 7);
    digest_ = *BlobDigest::Parse("sha256:" + Sha256Hex(blob_));
    origin_.AddBlob(digest_.str(), blob_);
  }
  void TearDown() override { fs::remove_all(root_); }

  std::string StoredBytes() {
    auto meta = store_->LoadMeta(digest_);
    EXPECT_TRUE(meta.ok()) << meta.status();
    std::string out(meta->size, '\0');
    auto n = SegmentReader(*store_, digest_, *meta).ReadAt(0, out.data(), out.size());
    EXPECT_TRUE(n.ok());
    return out;
  }
  // The piece hashes a torrent of each segment must carry, computed straight from the bytes.
  std::vector<std::string> ExpectedPieces(SegmentIndex k) {
    std::vector<std::string> out;
    uint64_t seg_off = k * kSegment;
    uint64_t seg_len = std::min<uint64_t>(kSegment, blob_.size() - seg_off);
    for (uint64_t p = 0; p < seg_len; p += kPiece) {
      Hasher h(Hasher::Kind::kSha1);
      h.Update(
          absl::string_view(blob_).substr(seg_off + p, std::min<uint64_t>(kPiece, seg_len - p)));
      out.push_back(h.FinalRaw());
    }
    return out;
  }
  void ExpectComplete(const Recorded& rec) {
    EXPECT_TRUE(store_->IsVerified(digest_));
    EXPECT_TRUE(StoredBytes() == blob_) << "stored bytes differ from the blob";
    ASSERT_TRUE(rec.layout.has_value());
    EXPECT_EQ(rec.layout->blob_size(), blob_.size());
    EXPECT_EQ(rec.segment_order, (std::vector<SegmentIndex>{0, 1, 2, 3, 4}));
    for (SegmentIndex k = 0; k < 5; ++k) EXPECT_EQ(rec.pieces.at(k), ExpectedPieces(k)) << k;
    EXPECT_EQ(rec.last_contiguous, blob_.size());
  }
  std::string JournalPath() {
    return absl::StrCat(store_->BlobDir(digest_), "/", ChunkJournal::kFileName);
  }

  std::string root_;
  std::unique_ptr<BlobStore> store_;
  std::string blob_;
  BlobDigest digest_ = *BlobDigest::Parse("sha256:" + std::string(64, '0'));
  FakeOrigin origin_;
  SimulatedClock clock_;
  OriginRepo repo_{"origin.test:5000", "test/img"};
};

TEST_F(BlobFetcherTest, FetchesVerifiesAndReportsEverySegment) {
  BlobFetcher fetcher(origin_, *store_, Config(), clock_);
  Recorded rec;
  ASSERT_TRUE(fetcher.Fetch(digest_, repo_, rec.Events(), nullptr).ok());
  ExpectComplete(rec);
  EXPECT_EQ(fetcher.stats().origin_bytes, blob_.size());
  EXPECT_EQ(origin_.bytes_served(), blob_.size()) << "a byte was fetched twice";
  EXPECT_FALSE(fs::exists(JournalPath())) << "journal left behind after verification";
}

TEST_F(BlobFetcherTest, OutOfOrderCompletionsStillGiveTheRightHashes) {
  // Each chunk request waits until the test releases it; the test always releases the
  // highest offset waiting, so chunks complete out of order.
  std::mutex mu;
  std::condition_variable cv;
  std::set<uint64_t> waiting, released;
  origin_.set_before_fetch([&](uint64_t offset, uint64_t) {
    std::unique_lock<std::mutex> l(mu);
    waiting.insert(offset);
    cv.notify_all();
    cv.wait(l, [&] { return released.count(offset) > 0; });
  });
  BlobFetcher fetcher(origin_, *store_, Config(4), clock_);
  Recorded rec;
  absl::Status st;
  std::thread t([&] { st = fetcher.Fetch(digest_, repo_, rec.Events(), nullptr); });
  const uint64_t chunks = (kBlobSize + kChunk - 1) / kChunk;
  std::vector<uint64_t> release_order;
  for (uint64_t done = 0; done < chunks; ++done) {
    std::unique_lock<std::mutex> l(mu);
    uint64_t expect_waiting = std::min<uint64_t>(4, chunks - done);
    cv.wait(l, [&] { return waiting.size() >= expect_waiting; });
    uint64_t pick = *waiting.rbegin();
    waiting.erase(pick);
    released.insert(pick);
    release_order.push_back(pick);
    cv.notify_all();
  }
  t.join();
  ASSERT_TRUE(st.ok()) << st;
  EXPECT_FALSE(std::is_sorted(release_order.begin(), release_order.end()));
  ExpectComplete(rec);
}

TEST_F(BlobFetcherTest, FirstSegmentIsReportedBeforeTheLastChunkArrives) {
  std::mutex mu;
  std::condition_variable cv;
  bool segment0 = false;
  bool last_chunk_waited_for_segment0 = false;
  const uint64_t last_chunk_offset = (kBlobSize - 1) / kChunk * kChunk;
  origin_.set_before_fetch([&](uint64_t offset, uint64_t) {
    if (offset != last_chunk_offset) return;
    std::unique_lock<std::mutex> l(mu);
    last_chunk_waited_for_segment0 =
        cv.wait_for(l, std::chrono::seconds(10), [&] { return segment0; });
  });
  BlobFetcher fetcher(origin_, *store_, Config(1), clock_);
  Recorded rec;
  BlobFetchEvents ev = rec.Events();
  auto record_segment = ev.on_segment;
  ev.on_segment = [&](const HashedSegment& s) {
    record_segment(s);
    std::lock_guard<std::mutex> l(mu);
    if (s.index == 0) segment0 = true;
    cv.notify_all();
  };
  ASSERT_TRUE(fetcher.Fetch(digest_, repo_, ev, nullptr).ok());
  EXPECT_TRUE(last_chunk_waited_for_segment0);
  ExpectComplete(rec);
}

TEST_F(BlobFetcherTest, ResumeAfterCrashFetchesOnlyUnjournaledChunks) {
  // First run: "killed" when chunk 6 is requested; chunks 0-5 are durable.
  std::atomic<bool> kill{false};
  origin_.set_before_fetch([&](uint64_t offset, uint64_t) {
    if (offset == 6 * kChunk) kill = true;
  });
  {
    BlobFetcher fetcher(origin_, *store_, Config(1), clock_);
    Recorded rec;
    absl::Status st = fetcher.Fetch(digest_, repo_, rec.Events(), &kill);
    EXPECT_EQ(st.code(), absl::StatusCode::kCancelled) << st;
    EXPECT_EQ(rec.segment_order, (std::vector<SegmentIndex>{0}));
  }
  // The crash also left half-written garbage in chunk 7, never journaled.
  {
    std::string seg1 = store_->SegmentPath(digest_, 1);
    std::FILE* f = std::fopen(seg1.c_str(), "r+b");
    ASSERT_NE(f, nullptr);
    std::fseek(f, static_cast<long>(7 * kChunk - kSegment), SEEK_SET);
    std::string junk(1000, 'x');
    std::fwrite(junk.data(), 1, junk.size(), f);
    std::fclose(f);
  }
  origin_.set_before_fetch(nullptr);
  uint64_t served_before = origin_.bytes_served();
  size_t calls_before = origin_.ranges().size();
  BlobFetcher fetcher(origin_, *store_, Config(4), clock_);
  Recorded rec;
  ASSERT_TRUE(fetcher.Fetch(digest_, repo_, rec.Events(), nullptr).ok());
  ExpectComplete(rec);
  EXPECT_EQ(fetcher.stats().resumed_bytes, 6 * kChunk);
  EXPECT_EQ(fetcher.stats().origin_bytes, kBlobSize - 6 * kChunk);
  EXPECT_EQ(origin_.bytes_served() - served_before, kBlobSize - 6 * kChunk);
  auto ranges = origin_.ranges();
  for (size_t i = calls_before; i < ranges.size(); ++i) {
    EXPECT_GE(ranges[i].first, 6 * kChunk) << "journaled chunk fetched again";
  }
}

TEST_F(BlobFetcherTest, TruncatedBodyResumesAtTheExactByte) {
  const uint64_t chunk2 = 2 * kChunk;
  std::atomic<int> cuts{0};
  origin_.set_fault([&](uint64_t offset, uint64_t, int) -> std::optional<FakeOrigin::Fault> {
    if (offset == chunk2 && cuts++ == 0) {
      FakeOrigin::Fault f;
      f.deliver = 10000;
      f.status = absl::UnavailableError("connection reset by peer");
      return f;
    }
    return std::nullopt;
  });
  BlobFetcher fetcher(origin_, *store_, Config(2), clock_);
  Recorded rec;
  ASSERT_TRUE(fetcher.Fetch(digest_, repo_, rec.Events(), nullptr).ok());
  ExpectComplete(rec);
  auto ranges = origin_.ranges();
  EXPECT_NE(std::find(ranges.begin(), ranges.end(), std::make_pair(chunk2 + 10000, kChunk - 10000)),
            ranges.end())
      << "the cut chunk was not resumed at byte " << chunk2 + 10000;
  EXPECT_EQ(origin_.bytes_served(), kBlobSize) << "bytes fetched twice";
  EXPECT_EQ(fetcher.stats().retries, 1u);
}

TEST_F(BlobFetcherTest, RetryAfterIsHonoured) {
  origin_.set_fault([&](uint64_t, uint64_t, int call) -> std::optional<FakeOrigin::Fault> {
    if (call != 0) return std::nullopt;
    FakeOrigin::Fault f;
    f.deliver = 0;
    f.status = absl::UnavailableError("origin answered 429");
    f.http_status = 429;
    f.retry_after = absl::Seconds(8);
    return f;
  });
  BlobFetcher fetcher(origin_, *store_, Config(1), clock_);
  Recorded rec;
  absl::Time start = clock_.Now();
  ASSERT_TRUE(fetcher.Fetch(digest_, repo_, rec.Events(), nullptr).ok());
  EXPECT_GE(clock_.Now() - start, absl::Seconds(8));
  ExpectComplete(rec);
}

TEST_F(BlobFetcherTest, PermanentErrorIsNotRetried) {
  origin_.set_fault([&](uint64_t, uint64_t, int) -> std::optional<FakeOrigin::Fault> {
    FakeOrigin::Fault f;
    f.deliver = 0;
    f.status = absl::PermissionDeniedError("origin answered 403");
    f.http_status = 403;
    return f;
  });
  BlobFetcher fetcher(origin_, *store_, Config(1), clock_);
  absl::Status st = fetcher.Fetch(digest_, repo_, {}, nullptr);
  EXPECT_EQ(st.code(), absl::StatusCode::kPermissionDenied) << st;
  EXPECT_EQ(origin_.ranges().size(), 1u);
  EXPECT_FALSE(store_->IsVerified(digest_));
}

TEST_F(BlobFetcherTest, MissingBlobIsNotFoundWithoutRetries) {
  BlobDigest other = *BlobDigest::Parse("sha256:" + std::string(64, 'a'));
  BlobFetcher fetcher(origin_, *store_, Config(), clock_);
  absl::Status st = fetcher.Fetch(other, repo_, {}, nullptr);
  EXPECT_EQ(st.code(), absl::StatusCode::kNotFound) << st;
  EXPECT_EQ(origin_.size_calls(), 1);
}

TEST_F(BlobFetcherTest, GivesUpAfterMaxAttemptsWithoutProgress) {
  origin_.set_fault([&](uint64_t, uint64_t, int) -> std::optional<FakeOrigin::Fault> {
    FakeOrigin::Fault f;
    f.deliver = 0;
    f.status = absl::UnavailableError("origin answered 503");
    f.http_status = 503;
    return f;
  });
  BlobFetcher fetcher(origin_, *store_, Config(1), clock_);
  absl::Status st = fetcher.Fetch(digest_, repo_, {}, nullptr);
  EXPECT_EQ(st.code(), absl::StatusCode::kUnavailable) << st;
  EXPECT_TRUE(absl::StrContains(st.message(), "gave up after 5 attempts")) << st;
  EXPECT_EQ(origin_.ranges().size(), 5u);
}

TEST_F(BlobFetcherTest, WrongBytesAreDataLossAndTheEntryIsGone) {
  origin_.set_fault([&](uint64_t offset, uint64_t, int) -> std::optional<FakeOrigin::Fault> {
    if (offset != 5 * kChunk) return std::nullopt;
    FakeOrigin::Fault f;
    f.corrupt = true;
    return f;
  });
  BlobFetcher fetcher(origin_, *store_, Config(), clock_);
  Recorded rec;
  absl::Status st = fetcher.Fetch(digest_, repo_, rec.Events(), nullptr);
  EXPECT_EQ(st.code(), absl::StatusCode::kDataLoss) << st;
  EXPECT_TRUE(absl::StrContains(st.message(), digest_.str())) << st;
  EXPECT_TRUE(absl::StrContains(st.message(), "hashed to sha256:")) << st;
  EXPECT_FALSE(fs::exists(store_->BlobDir(digest_)));
  EXPECT_FALSE(store_->IsVerified(digest_));
  // The last segment (which would complete the blob) is never announced.
  EXPECT_EQ(std::count(rec.segment_order.begin(), rec.segment_order.end(), 4), 0);
}

TEST_F(BlobFetcherTest, FullDiskIsAClearErrorAndKeepsWhatWasFetched) {
  std::atomic<bool> stop{false};
  origin_.set_before_fetch([&](uint64_t offset, uint64_t) {
    if (offset == 3 * kChunk) stop = true;
  });
  {
    BlobFetcher fetcher(origin_, *store_, Config(1), clock_);
    EXPECT_EQ(fetcher.Fetch(digest_, repo_, {}, &stop).code(), absl::StatusCode::kCancelled);
  }
  origin_.set_before_fetch(nullptr);
  BlobFetcher fetcher(origin_, *store_, Config(), clock_);
  fetcher.set_free_space_probe([](const std::string&) -> absl::StatusOr<uint64_t> { return 1000; });
  absl::Status st = fetcher.Fetch(digest_, repo_, {}, nullptr);
  EXPECT_EQ(st.code(), absl::StatusCode::kResourceExhausted) << st;
  EXPECT_TRUE(absl::StrContains(st.message(), store_->BlobDir(digest_))) << st;
  EXPECT_TRUE(absl::StrContains(st.message(), absl::StrCat(kBlobSize - 3 * kChunk))) << st;
  EXPECT_TRUE(absl::StrContains(st.message(), "1000 bytes free")) << st;
  // Space freed: the retry resumes from the kept chunks.
  BlobFetcher retry(origin_, *store_, Config(), clock_);
  Recorded rec;
  ASSERT_TRUE(retry.Fetch(digest_, repo_, rec.Events(), nullptr).ok());
  EXPECT_EQ(retry.stats().resumed_bytes, 3 * kChunk);
  ExpectComplete(rec);
}

TEST_F(BlobFetcherTest, VerifiedBlobIsNotFetchedAgainButStillReported) {
  BlobFetcher fetcher(origin_, *store_, Config(), clock_);
  ASSERT_TRUE(fetcher.Fetch(digest_, repo_, {}, nullptr).ok());
  uint64_t served = origin_.bytes_served();
  Recorded rec;
  ASSERT_TRUE(fetcher.Fetch(digest_, repo_, rec.Events(), nullptr, kBlobSize).ok());
  EXPECT_EQ(origin_.bytes_served(), served);
  EXPECT_EQ(fetcher.stats().origin_bytes, 0u);
  ExpectComplete(rec);
}

TEST_F(BlobFetcherTest, EmptyBlob) {
  std::string empty_digest = "sha256:" + Sha256Hex("");
  origin_.AddBlob(empty_digest, "");
  BlobDigest d = *BlobDigest::Parse(empty_digest);
  BlobFetcher fetcher(origin_, *store_, Config(), clock_);
  std::vector<SegmentIndex> segments;
  BlobFetchEvents ev;
  ev.on_segment = [&](const HashedSegment& s) {
    segments.push_back(s.index);
    EXPECT_TRUE(s.piece_sha1_raw.empty());
    EXPECT_TRUE(s.piece_states.empty()) << "an empty blob has no pieces, so no states";
  };
  ASSERT_TRUE(fetcher.Fetch(d, repo_, ev, nullptr).ok());
  EXPECT_EQ(segments, (std::vector<SegmentIndex>{0}));
  EXPECT_TRUE(store_->IsVerified(d));
}

TEST_F(BlobFetcherTest, ChunkSizeMustDivideSegmentSize) {
  TransferConfig cfg = Config();
  cfg.chunk_size = 48 << 10;
  BlobFetcher fetcher(origin_, *store_, cfg, clock_);
  absl::Status st = fetcher.Fetch(digest_, repo_, {}, nullptr);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(st.message(), "chunk_size")) << st;
}

}  // namespace
}  // namespace shoal
