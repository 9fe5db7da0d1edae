#include "common/segment_reader.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace shoal {

class SegmentReader::File {
 public:
  explicit File(int fd) : fd_(fd) {}
  ~File() { ::close(fd_); }
  File(const File&) = delete;
  File& operator=(const File&) = delete;
  int fd() const { return fd_; }

 private:
  int fd_;
};

SegmentReader::SegmentReader(const BlobStore& store, BlobDigest digest, BlobMeta meta)
    : store_(store), digest_(std::move(digest)), meta_(meta) {}

void SegmentReader::Reset() {
  absl::MutexLock l(&mu_);
  files_.clear();
}

absl::StatusOr<std::shared_ptr<SegmentReader::File>> SegmentReader::Open(SegmentIndex k) {
  absl::MutexLock l(&mu_);
  if (k < files_.size() && files_[k]) return files_[k];
  std::string path = store_.SegmentPath(digest_, k);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  // A file not there yet (libtorrent creates it on its first write) is not
  // remembered: the next read tries again.
  if (fd < 0) {
    return absl::DataLossError(
        absl::StrCat("segment file ", path, " cannot be opened: ", std::strerror(errno)));
  }
  if (files_.size() <= k) files_.resize(k + 1);
  files_[k] = std::make_shared<File>(fd);
  return files_[k];
}

absl::StatusOr<size_t> SegmentReader::ReadAt(uint64_t offset, char* buf, size_t len) {
  if (offset >= meta_.size) return 0;
  if (len > meta_.size - offset) len = static_cast<size_t>(meta_.size - offset);
  size_t done = 0;
  while (done < len) {
    uint64_t pos = offset + done;
    SegmentIndex k = static_cast<SegmentIndex>(pos / meta_.segment_size);
    uint64_t in_seg = pos - uint64_t{k} * meta_.segment_size;
    size_t want = static_cast<size_t>(std::min<uint64_t>(len - done, meta_.segment_size - in_seg));
    auto file = Open(k);
    if (!file.ok()) return file.status();
    ssize_t n = ::pread((*file)->fd(), buf + done, want, static_cast<off_t>(in_seg));
    if (n <= 0) {
      return absl::DataLossError(
          absl::StrCat("short read from ", store_.SegmentPath(digest_, k), " at ", in_seg));
    }
    done += static_cast<size_t>(n);
  }
  return done;
}

}  // namespace shoal
