// The durable record of which chunks of one blob are already on disk, so a fetch
// that was killed resumes without fetching them again (DESIGN.md "Resumable chunk
// writes"). It lives beside the blob's segment files as `chunks.journal`.
//
// Contract with the writer: write a chunk's bytes, fdatasync them, then call
// MarkComplete(i), which appends a record and fdatasyncs the journal. A crash at
// any point therefore loses at most chunks in flight, and never marks a chunk
// whose bytes are not durable.
//
// Format: a 28-byte header ("SHOALCJ1", blob size, chunk size, CRC-32 of those),
// then 8-byte records (chunk index, CRC-32 of the index). Reading stops at the first
// torn or corrupt record and cuts the file there, so later appends stay aligned.
// A journal for another blob size or chunk size starts over empty.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace shoal {

class ChunkJournal {
 public:
  static constexpr char kFileName[] = "chunks.journal";

  // Opens the journal at path for a blob of blob_size cut into chunk_size chunks,
  // creating it (or starting it over) when absent, unreadable or of another layout.
  static absl::StatusOr<std::unique_ptr<ChunkJournal>> Open(const std::string& path,
                                                            uint64_t blob_size,
                                                            uint64_t chunk_size);
  ~ChunkJournal();
  ChunkJournal(const ChunkJournal&) = delete;
  ChunkJournal& operator=(const ChunkJournal&) = delete;

  uint32_t chunk_count() const { return chunk_count_; }
  uint64_t chunk_size() const { return chunk_size_; }
  bool IsComplete(uint32_t chunk) const;
  std::vector<uint32_t> Completed() const;  // ascending
  uint32_t completed_count() const;
  const std::string& path() const { return path_; }

  // Durably records that chunk's bytes are on disk (the caller fdatasynced them).
  // Thread-safe; marking a chunk twice is a no-op.
  absl::Status MarkComplete(uint32_t chunk);

 private:
  ChunkJournal(std::string path, int fd, uint64_t chunk_size, uint32_t chunk_count);
  absl::Status Load(uint64_t blob_size);
  absl::Status Reset(uint64_t blob_size);

  const std::string path_;
  const int fd_;
  const uint64_t chunk_size_;
  const uint32_t chunk_count_;
  mutable absl::Mutex mu_;
  std::vector<bool> done_ ABSL_GUARDED_BY(mu_);
  uint32_t done_count_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t end_offset_ ABSL_GUARDED_BY(mu_) = 0;  // where the next record goes
};

}  // namespace shoal
