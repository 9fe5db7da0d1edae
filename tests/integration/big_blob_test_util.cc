#include "tests/integration/big_blob_test_util.h"

#include <curl/curl.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "common/daemon_config.h"
#include "common/hashing.h"
#include "common/metrics.h"
#include "testkit/image_pusher.h"
#include "testkit/net_util.h"
#include "testkit/subprocess.h"

namespace shoal::testkit {

absl::StatusOr<std::unique_ptr<BigBlobOrigin>> BigBlobOrigin::Create(uint64_t size, uint64_t seed) {
  auto o = std::make_unique<BigBlobOrigin>();
  auto dir = TempDir::Create("bigblob");
  if (!dir.ok()) return dir.status();
  o->dir = std::make_unique<TempDir>(std::move(*dir));
  RegistryOptions ro;
  ro.work_dir = o->dir->path() + "/registry";
  auto reg = RegistryProcess::Start(ro);
  if (!reg.ok()) return reg.status();
  o->registry = std::move(*reg);
  auto blob = WriteRandomBlob(o->dir->path() + "/src", size, seed,
                              "application/vnd.oci.image.layer.v1.tar");
  if (!blob.ok()) return blob.status();
  o->blob = *blob;
  if (auto s = PushBlob({o->registry->url()}, o->repository, o->blob); !s.ok()) return s;
  std::filesystem::remove(o->blob.path);
  o->registry->MarkAccessLog();  // count only what the test costs the origin
  return o;
}

ClusterOptions BigBlobClusterOptions(const std::string& origin, int peers,
                                     const std::vector<std::string>& extra_flags) {
  ClusterOptions co;
  co.seeds = 1;
  co.peers = peers;
  const char* level = std::getenv("SHOAL_BIG_LOG_LEVEL");
  co.log_level = level != nullptr && *level != '\0' ? level : "info";
  co.insecure_registries = {origin};
  co.seed_flags = {"--metrics-listen", ":0"};
  co.seed_flags.insert(co.seed_flags.end(), extra_flags.begin(), extra_flags.end());
  co.peer_flags = co.seed_flags;
  return co;
}

StoredBlob ReadStoredBlob(const std::string& data_dir, const std::string& digest, bool hash) {
  StoredBlob out;
  std::string hex = digest.substr(digest.find(':') + 1);
  std::string dir = absl::StrCat(data_dir, "/blobs/sha256/", hex);
  std::ifstream meta_in(dir + "/meta.json");
  if (!meta_in) return out;
  out.exists = true;
  nlohmann::json meta = nlohmann::json::parse(meta_in, nullptr, /*allow_exceptions=*/false);
  if (meta.is_object()) out.verified = meta.value("verified", false);
  Hasher sha(Hasher::Kind::kSha256);
  std::vector<char> buf(4 << 20);
  for (int k = 0;; ++k) {
    std::string path = absl::StrFormat("%s/seg-%05d", dir, k);
    struct stat sb;
    if (::stat(path.c_str(), &sb) != 0) break;
    out.bytes_on_disk += static_cast<uint64_t>(sb.st_blocks) * 512;
    if (!hash) continue;
    std::ifstream in(path, std::ios::binary);
    while (in) {
      in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
      sha.Update(buf.data(), static_cast<size_t>(in.gcount()));
    }
  }
  if (hash) out.sha256 = absl::StrCat("sha256:", sha.FinalHex());
  return out;
}

PiecesOnDisk ComparePiecesOnDisk(const std::string& data_dir, const std::string& digest,
                                 uint64_t size, uint64_t seed, uint64_t segment_size,
                                 uint64_t piece_size) {
  PiecesOnDisk out;
  std::string dir = absl::StrCat(data_dir, "/blobs/sha256/", digest.substr(digest.find(':') + 1));
  RandomBytes expected_bytes(seed);
  std::vector<char> want(piece_size), got(piece_size);
  for (uint64_t seg_off = 0; seg_off < size; seg_off += segment_size) {
    const uint64_t seg_len = std::min(segment_size, size - seg_off);
    std::ifstream in(absl::StrFormat("%s/seg-%05d", dir, seg_off / segment_size), std::ios::binary);
    for (uint64_t off = 0; off < seg_len; off += piece_size) {
      const size_t len = static_cast<size_t>(std::min(piece_size, seg_len - off));
      expected_bytes.Fill(want.data(), len);
      std::fill(got.begin(), got.end(), 0);
      if (in) {
        in.seekg(static_cast<std::streamoff>(off));
        in.read(got.data(), static_cast<std::streamsize>(len));
        in.clear();  // a short (sparse, never extended) file reads as zeros past its end
      }
      if (std::memcmp(want.data(), got.data(), len) == 0) {
        out.complete++;
        out.complete_bytes += len;
      } else if (std::all_of(got.begin(), got.begin() + len, [](char c) { return c == 0; })) {
        out.missing++;
      } else {
        out.partial++;
      }
    }
  }
  return out;
}

std::string Bytes(uint64_t n) {
  if (n >= kGiB) return absl::StrFormat("%.2f GiB", static_cast<double>(n) / kGiB);
  if (n >= kMiB) return absl::StrFormat("%.1f MiB", static_cast<double>(n) / kMiB);
  return absl::StrCat(n, " B");
}

}  // namespace shoal::testkit
