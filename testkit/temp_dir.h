// Scratch directories for tests, benchmarks and the demo. Removed when the
// TempDir goes away unless SHOAL_KEEP_TMP=1, so a failing run can be inspected.
#pragma once

#include <string>

#include "absl/status/statusor.h"

namespace shoal::testkit {

class TempDir {
 public:
  // Makes a fresh directory under $TMPDIR (or /tmp) named shoal-<prefix>-XXXXXX.
  static absl::StatusOr<TempDir> Create(const std::string& prefix);

  TempDir(TempDir&& other) noexcept;
  TempDir& operator=(TempDir&& other) noexcept;
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir();

  const std::string& path() const { return path_; }
  // path()/name, with the directory created.
  absl::StatusOr<std::string> Subdir(const std::string& name) const;
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  explicit TempDir(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

// True when SHOAL_KEEP_TMP=1: keep temp dirs and logs after the run.
bool KeepTempFiles();

}  // namespace shoal::testkit
