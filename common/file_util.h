// Small durable-file helpers.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace shoal {

// Writes to path.tmp, fsyncs, renames over path: readers see old or new, never half.
absl::Status WriteFileAtomically(const std::string& path, const std::string& content);
absl::StatusOr<std::string> ReadFile(const std::string& path);
// Free bytes on the filesystem holding path.
absl::StatusOr<uint64_t> FreeDiskBytes(const std::string& path);

}  // namespace shoal
