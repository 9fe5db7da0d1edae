#include "common/chunk_journal.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/file_util.h"

namespace shoal {
namespace {

namespace fs = std::filesystem;

constexpr uint64_t kChunk = 8 << 20;
constexpr uint64_t kBlobSize = 10 * kChunk + 123;  // 11 chunks, the last one short

class ChunkJournalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = absl::StrCat(::testing::TempDir(), "/chunk_journal_", ::getpid(), "_",
                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    path_ = dir_ + "/" + ChunkJournal::kFileName;
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<ChunkJournal> OpenJournal(uint64_t size = kBlobSize, uint64_t chunk = kChunk) {
    auto j = ChunkJournal::Open(path_, size, chunk);
    EXPECT_TRUE(j.ok()) << j.status();
    return j.ok() ? std::move(*j) : nullptr;
  }
  void WriteRaw(const std::string& bytes) {
    std::ofstream out(path_, std::ios::binary | std::ios::trunc);
    out << bytes;
  }
  std::string ReadRaw() { return *ReadFile(path_); }

  std::string dir_;
  std::string path_;
};

std::set<uint32_t> AsSet(const std::vector<uint32_t>& v) { return {v.begin(), v.end()}; }

TEST_F(ChunkJournalTest, ReopenReturnsExactlyTheCompletedChunks) {
  {
    auto j = OpenJournal();
    EXPECT_EQ(j->chunk_count(), 11u);
    EXPECT_TRUE(j->Completed().empty());
    ASSERT_TRUE(j->MarkComplete(5).ok());
    ASSERT_TRUE(j->MarkComplete(0).ok());
    ASSERT_TRUE(j->MarkComplete(10).ok());
    ASSERT_TRUE(j->MarkComplete(5).ok());  // twice is harmless
    EXPECT_TRUE(j->IsComplete(10));
    EXPECT_FALSE(j->IsComplete(1));
  }
  auto j = OpenJournal();
  EXPECT_EQ(j->Completed(), (std::vector<uint32_t>{0, 5, 10}));
  EXPECT_EQ(j->completed_count(), 3u);
}

TEST_F(ChunkJournalTest, ChunkPastTheEndIsRejected) {
  auto j = OpenJournal();
  EXPECT_EQ(j->MarkComplete(11).code(), absl::StatusCode::kOutOfRange);
}

TEST_F(ChunkJournalTest, JournalOfAnotherLayoutStartsOver) {
  ASSERT_TRUE(OpenJournal()->MarkComplete(3).ok());
  EXPECT_TRUE(OpenJournal(kBlobSize, kChunk * 2)->Completed().empty());
  // And the old layout's records are gone for good.
  EXPECT_TRUE(OpenJournal()->Completed().empty());
  ASSERT_TRUE(OpenJournal()->MarkComplete(3).ok());
  EXPECT_TRUE(OpenJournal(kBlobSize + 1, kChunk)->Completed().empty());
}

TEST_F(ChunkJournalTest, CrashAtAnyByteLosesNoCompletedChunkAndInventsNone) {
  // Chunks complete out of order, as parallel fetches finish them.
  const std::vector<uint32_t> order = {3, 1, 4, 0, 9, 2, 6};
  {
    auto j = OpenJournal();
    for (uint32_t c : order) ASSERT_TRUE(j->MarkComplete(c).ok());
  }
  const std::string full = ReadRaw();
  const size_t header = full.size() - order.size() * 8;
  ASSERT_GT(header, 0u);
  for (size_t cut = 0; cut <= full.size(); ++cut) {
    SCOPED_TRACE(absl::StrCat("journal cut at byte ", cut));
    WriteRaw(full.substr(0, cut));
    std::set<uint32_t> expected;
    for (size_t r = 0; cut >= header && r < (cut - header) / 8; ++r) expected.insert(order[r]);
    auto j = OpenJournal();
    ASSERT_NE(j, nullptr);
    EXPECT_EQ(AsSet(j->Completed()), expected);
    // The writer goes on after the crash: a new record must survive the next reopen,
    // which it would not if it landed after a torn tail.
    ASSERT_TRUE(j->MarkComplete(7).ok());
    j.reset();
    expected.insert(7);
    EXPECT_EQ(AsSet(OpenJournal()->Completed()), expected);
  }
}

TEST_F(ChunkJournalTest, CorruptLastRecordIsIgnored) {
  {
    auto j = OpenJournal();
    for (uint32_t c : {2u, 8u, 5u}) ASSERT_TRUE(j->MarkComplete(c).ok());
  }
  const std::string full = ReadRaw();
  for (size_t i = full.size() - 8; i < full.size(); ++i) {
    for (unsigned char flip : {0x01, 0x80, 0xff}) {
      std::string bad = full;
      bad[i] = static_cast<char>(bad[i] ^ flip);
      WriteRaw(bad);
      EXPECT_EQ(AsSet(OpenJournal()->Completed()), (std::set<uint32_t>{2, 8}))
          << "byte " << i << " flipped with " << int{flip};
    }
  }
}

TEST_F(ChunkJournalTest, ZeroFilledTailIsNotAChunk) {
  {
    auto j = OpenJournal();
    ASSERT_TRUE(j->MarkComplete(4).ok());
  }
  WriteRaw(ReadRaw() + std::string(16, '\0'));
  EXPECT_EQ(AsSet(OpenJournal()->Completed()), (std::set<uint32_t>{4}));
}

TEST_F(ChunkJournalTest, GarbageFileStartsOver) {
  WriteRaw("this is not a journal at all, but it is long enough to hold a header");
  auto j = OpenJournal();
  EXPECT_TRUE(j->Completed().empty());
  ASSERT_TRUE(j->MarkComplete(1).ok());
  j.reset();
  EXPECT_EQ(OpenJournal()->Completed(), (std::vector<uint32_t>{1}));
}

TEST_F(ChunkJournalTest, ConcurrentWritersAllLand) {
  const uint64_t size = 400 * 1024;
  {
    auto j = OpenJournal(size, 1024);
    std::vector<std::thread> threads;
    for (uint32_t t = 0; t < 4; ++t) {
      threads.emplace_back([&, t] {
        for (uint32_t c = t; c < 400; c += 4) ASSERT_TRUE(j->MarkComplete(c).ok());
      });
    }
    for (auto& th : threads) th.join();
  }
  EXPECT_EQ(OpenJournal(size, 1024)->completed_count(), 400u);
}

TEST_F(ChunkJournalTest, EmptyBlobHasNoChunks) {
  auto j = OpenJournal(0, kChunk);
  EXPECT_EQ(j->chunk_count(), 0u);
  EXPECT_EQ(j->MarkComplete(0).code(), absl::StatusCode::kOutOfRange);
}

TEST_F(ChunkJournalTest, UnwritableDirectoryIsAClearError) {
  auto j = ChunkJournal::Open(dir_ + "/missing/dir/chunks.journal", kBlobSize, kChunk);
  ASSERT_FALSE(j.ok());
  EXPECT_NE(j.status().message().find("missing/dir"), absl::string_view::npos);
}

}  // namespace
}  // namespace shoal
