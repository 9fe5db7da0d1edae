#include "common/chunk_journal.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace shoal {
namespace {

constexpr char kMagic[8] = {'S', 'H', 'O', 'A', 'L', 'C', 'J', '1'};
constexpr size_t kHeaderSize = 8 + 8 + 8 + 4;
constexpr size_t kRecordSize = 4 + 4;
// Mixed into record checksums so a zero-filled tail (what some filesystems leave
// after a crash) never reads as "chunk 0 complete".
constexpr uint32_t kRecordSalt = 0x5a17c0de;

uint32_t Crc32(const unsigned char* data, size_t len, uint32_t crc = 0) {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  crc = ~crc;
  for (size_t i = 0; i < len; ++i) crc = table[(crc ^ data[i]) & 0xff] ^ (crc >> 8);
  return ~crc;
}

void PutU32(unsigned char* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<unsigned char>(v >> (8 * i));
}
void PutU64(unsigned char* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<unsigned char>(v >> (8 * i));
}
uint32_t GetU32(const unsigned char* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}
uint64_t GetU64(const unsigned char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

std::array<unsigned char, kHeaderSize> EncodeHeader(uint64_t blob_size, uint64_t chunk_size) {
  std::array<unsigned char, kHeaderSize> h{};
  std::memcpy(h.data(), kMagic, 8);
  PutU64(h.data() + 8, blob_size);
  PutU64(h.data() + 16, chunk_size);
  PutU32(h.data() + 24, Crc32(h.data(), 24));
  return h;
}

std::array<unsigned char, kRecordSize> EncodeRecord(uint32_t chunk) {
  std::array<unsigned char, kRecordSize> r{};
  PutU32(r.data(), chunk);
  PutU32(r.data() + 4, Crc32(r.data(), 4, kRecordSalt));
  return r;
}

absl::Status IoError(const std::string& what, const std::string& path, int err) {
  std::string msg =
      absl::StrCat("cannot ", what, " chunk journal ", path, ": ", std::strerror(err));
  if (err == ENOSPC) return absl::ResourceExhaustedError(absl::StrCat(msg, " (free disk space)"));
  return absl::InternalError(msg);
}

// Returns 0 or the errno of the failed write.
int WriteAll(int fd, const unsigned char* data, size_t len, uint64_t offset) {
  while (len > 0) {
    ssize_t n = ::pwrite(fd, data, len, static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    data += n;
    len -= static_cast<size_t>(n);
    offset += static_cast<uint64_t>(n);
  }
  return 0;
}

// A new file's directory entry is durable only once its directory is synced.
void SyncParentDir(const std::string& path) {
  auto slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : path.substr(0, slash);
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return;
  ::fsync(dfd);
  ::close(dfd);
}

}  // namespace

ChunkJournal::ChunkJournal(std::string path, int fd, uint64_t chunk_size, uint32_t chunk_count)
    : path_(std::move(path)),
      fd_(fd),
      chunk_size_(chunk_size),
      chunk_count_(chunk_count),
      done_(chunk_count, false) {}

ChunkJournal::~ChunkJournal() { ::close(fd_); }

absl::StatusOr<std::unique_ptr<ChunkJournal>> ChunkJournal::Open(const std::string& path,
                                                                 uint64_t blob_size,
                                                                 uint64_t chunk_size) {
  if (chunk_size == 0) return absl::InvalidArgumentError("chunk size must be positive");
  uint64_t count = (blob_size + chunk_size - 1) / chunk_size;
  if (count > UINT32_MAX) {
    return absl::InvalidArgumentError(absl::StrCat("blob of ", blob_size,
                                                   " bytes has too many chunks of ", chunk_size,
                                                   " bytes; raise chunk_size"));
  }
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return IoError("open", path, errno);
  std::unique_ptr<ChunkJournal> j(
      new ChunkJournal(path, fd, chunk_size, static_cast<uint32_t>(count)));
  absl::Status st = j->Load(blob_size);
  if (!st.ok()) return st;
  return j;
}

absl::Status ChunkJournal::Load(uint64_t blob_size) {
  struct stat sb;
  if (::fstat(fd_, &sb) != 0) return IoError("stat", path_, errno);
  std::string content(static_cast<size_t>(sb.st_size), '\0');
  size_t got = 0;
  while (got < content.size()) {
    ssize_t n = ::pread(fd_, content.data() + got, content.size() - got, static_cast<off_t>(got));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return IoError("read", path_, errno);
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  content.resize(got);
  const auto* p = reinterpret_cast<const unsigned char*>(content.data());
  auto header = EncodeHeader(blob_size, chunk_size_);
  if (content.size() < kHeaderSize || std::memcmp(p, header.data(), kHeaderSize) != 0) {
    // Absent, torn while being created, or for another layout: nothing in it can be trusted.
    return Reset(blob_size);
  }
  absl::MutexLock l(&mu_);
  size_t off = kHeaderSize;
  for (; off + kRecordSize <= content.size(); off += kRecordSize) {
    uint32_t chunk = GetU32(p + off);
    if (GetU32(p + off + 4) != Crc32(p + off, 4, kRecordSalt) || chunk >= chunk_count_) break;
    if (!done_[chunk]) {
      done_[chunk] = true;
      ++done_count_;
    }
  }
  end_offset_ = off;
  if (end_offset_ < content.size()) {
    // Drop the torn or corrupt tail so the next record lands right after the last good one.
    if (::ftruncate(fd_, static_cast<off_t>(end_offset_)) != 0)
      return IoError("trim", path_, errno);
    if (::fdatasync(fd_) != 0) return IoError("sync", path_, errno);
  }
  return absl::OkStatus();
}

absl::Status ChunkJournal::Reset(uint64_t blob_size) {
  auto header = EncodeHeader(blob_size, chunk_size_);
  if (::ftruncate(fd_, 0) != 0) return IoError("truncate", path_, errno);
  if (int err = WriteAll(fd_, header.data(), header.size(), 0); err != 0) {
    return IoError("write", path_, err);
  }
  if (::fdatasync(fd_) != 0) return IoError("sync", path_, errno);
  SyncParentDir(path_);
  absl::MutexLock l(&mu_);
  end_offset_ = kHeaderSize;
  return absl::OkStatus();
}

bool ChunkJournal::IsComplete(uint32_t chunk) const {
  absl::MutexLock l(&mu_);
  return chunk < done_.size() && done_[chunk];
}

std::vector<uint32_t> ChunkJournal::Completed() const {
  absl::MutexLock l(&mu_);
  std::vector<uint32_t> out;
  out.reserve(done_count_);
  for (uint32_t i = 0; i < done_.size(); ++i) {
    if (done_[i]) out.push_back(i);
  }
  return out;
}

uint32_t ChunkJournal::completed_count() const {
  absl::MutexLock l(&mu_);
  return done_count_;
}

absl::Status ChunkJournal::MarkComplete(uint32_t chunk) {
  absl::MutexLock l(&mu_);
  if (chunk >= chunk_count_) {
    return absl::OutOfRangeError(absl::StrCat("chunk ", chunk, " is past the last chunk (",
                                              chunk_count_, " chunks) of journal ", path_));
  }
  if (done_[chunk]) return absl::OkStatus();
  auto record = EncodeRecord(chunk);
  int err = WriteAll(fd_, record.data(), record.size(), end_offset_);
  if (err == 0 && ::fdatasync(fd_) != 0) err = errno;
  if (err != 0) {
    // Cut a half-written record so the next append stays aligned; the chunk stays unmarked
    // and is fetched again after a restart.
    (void)::ftruncate(fd_, static_cast<off_t>(end_offset_));
    return IoError("append to", path_, err);
  }
  end_offset_ += kRecordSize;
  done_[chunk] = true;
  ++done_count_;
  return absl::OkStatus();
}

}  // namespace shoal
