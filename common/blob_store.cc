#include "common/blob_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "common/file_util.h"

namespace shoal {
namespace fs = std::filesystem;

absl::StatusOr<std::unique_ptr<BlobStore>> BlobStore::Open(const std::string& root) {
  std::error_code ec;
  fs::create_directories(fs::path(root) / "blobs" / "sha256", ec);
  if (ec) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create data dir ", root, "/blobs/sha256: ", ec.message(), " (check --data-dir)"));
  }
  auto store = std::unique_ptr<BlobStore>(new BlobStore(root));
  for (const auto& entry : fs::directory_iterator(fs::path(root) / "blobs" / "sha256", ec)) {
    auto digest = BlobDigest::Parse(absl::StrCat("sha256:", entry.path().filename().string()));
    if (!digest.ok()) continue;
    auto meta = store->LoadMeta(*digest);
    if (!meta.ok() && absl::IsFailedPrecondition(meta.status())) {
      fs::remove_all(entry.path(), ec);
      store->dropped_incompatible_++;
    }
  }
  return store;
}

std::string BlobStore::BlobDir(const BlobDigest& d) const {
  return absl::StrCat(root_, "/blobs/sha256/", d.hex());
}

std::string BlobStore::SegmentFileName(SegmentIndex k) { return absl::StrFormat("seg-%05u", k); }

std::string BlobStore::SegmentPath(const BlobDigest& d, SegmentIndex k) const {
  return absl::StrCat(BlobDir(d), "/", SegmentFileName(k));
}

absl::StatusOr<BlobMeta> BlobStore::LoadMeta(const BlobDigest& d) const {
  std::string path = absl::StrCat(BlobDir(d), "/meta.json");
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("no cache entry for ", d.str()));
  nlohmann::json j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return absl::FailedPreconditionError(absl::StrCat("cache entry ", path, " is unreadable"));
  }
  BlobMeta m;
  m.format_version = j.value("format_version", 0);
  if (m.format_version != kBlobMetaFormatVersion) {
    return absl::FailedPreconditionError(
        absl::StrCat("cache entry ", path, " has format version ", m.format_version));
  }
  m.size = j.value("size", uint64_t{0});
  m.segment_size = j.value("segment_size", uint64_t{0});
  m.piece_size = j.value("piece_size", uint32_t{0});
  m.verified = j.value("verified", false);
  m.last_use_unix_ms = j.value("last_use_unix_ms", int64_t{0});
  return m;
}

absl::Status BlobStore::SaveMeta(const BlobDigest& d, const BlobMeta& m) const {
  nlohmann::json j = {{"format_version", m.format_version}, {"size", m.size},
                      {"segment_size", m.segment_size},     {"piece_size", m.piece_size},
                      {"verified", m.verified},             {"last_use_unix_ms", m.last_use_unix_ms}};
  return WriteFileAtomically(absl::StrCat(BlobDir(d), "/meta.json"), j.dump());
}

absl::Status BlobStore::Prepare(const BlobDigest& d, const SegmentPlan& plan, bool create_segment_files) const {
  auto existing = LoadMeta(d);
  bool same = existing.ok() && existing->size == plan.blob_size() &&
              existing->segment_size == plan.segment_size() && existing->piece_size == plan.piece_size();
  std::error_code ec;
  if (!same) {
    fs::remove_all(BlobDir(d), ec);
    fs::create_directories(BlobDir(d), ec);
    if (ec) return absl::InternalError(absl::StrCat("cannot create ", BlobDir(d), ": ", ec.message()));
  }
  for (SegmentIndex k = 0; create_segment_files && k < plan.segment_count(); ++k) {
    std::string path = SegmentPath(d, k);
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return absl::InternalError(absl::StrCat("cannot create ", path, ": ", strerror(errno)));
    struct stat st;
    int rc = ::fstat(fd, &st);
    // Sparse: sizing the file allocates nothing; existing data is kept.
    if (rc == 0 && static_cast<uint64_t>(st.st_size) != plan.SegmentLength(k)) {
      rc = ::ftruncate(fd, static_cast<off_t>(plan.SegmentLength(k)));
    }
    ::close(fd);
    if (rc != 0) return absl::InternalError(absl::StrCat("cannot size ", path, ": ", strerror(errno)));
  }
  if (same) return absl::OkStatus();
  BlobMeta m;
  m.size = plan.blob_size();
  m.segment_size = plan.segment_size();
  m.piece_size = plan.piece_size();
  m.last_use_unix_ms = absl::ToUnixMillis(absl::Now());
  return SaveMeta(d, m);
}

bool BlobStore::IsVerified(const BlobDigest& d) const {
  auto m = LoadMeta(d);
  return m.ok() && m->verified;
}

absl::Status BlobStore::MarkVerified(const BlobDigest& d) const {
  auto m = LoadMeta(d);
  if (!m.ok()) return m.status();
  m->verified = true;
  m->last_use_unix_ms = absl::ToUnixMillis(absl::Now());
  return SaveMeta(d, *m);
}

absl::Status BlobStore::Discard(const BlobDigest& d) const {
  std::error_code ec;
  fs::remove_all(BlobDir(d), ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot remove ", BlobDir(d), ": ", ec.message()));
  return absl::OkStatus();
}

void BlobStore::Touch(const BlobDigest& d) const {
  auto m = LoadMeta(d);
  if (!m.ok()) return;
  m->last_use_unix_ms = absl::ToUnixMillis(absl::Now());
  (void)SaveMeta(d, *m);
}

std::vector<std::pair<BlobDigest, BlobMeta>> BlobStore::List() const {
  std::vector<std::pair<BlobDigest, BlobMeta>> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(fs::path(root_) / "blobs" / "sha256", ec)) {
    auto digest = BlobDigest::Parse(absl::StrCat("sha256:", entry.path().filename().string()));
    if (!digest.ok()) continue;
    auto meta = LoadMeta(*digest);
    if (meta.ok() && meta->verified) out.emplace_back(*digest, *meta);
  }
  return out;
}

}  // namespace shoal
