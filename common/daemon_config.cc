#include "common/daemon_config.h"

#include <unistd.h>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/file_util.h"
#include "common/logging.h"

namespace shoal {

void AddDaemonOptions(OptionSet& o, DaemonConfig& c) {
  o.AddString("scheduler", &c.scheduler, "scheduler gRPC address HOST:PORT");
  o.AddString("ip", &c.ip, "address the data plane (libtorrent) binds to and advertises");
  o.AddUint("data-port", &c.data_port, "data plane TCP port (0: any free port)");
  o.AddString("data-dir", &c.data_dir, "directory for the blob cache and resume data");
  o.AddStringList("insecure-registry", &c.insecure_registries,
                  "registry HOST:PORT reached over plain HTTP");
  o.AddString("host-id", &c.host_id, "stable id of this host (default <role>-<hostname>-<ip>)");
  o.AddStringList("label", &c.labels,
                  "host label k=v (zone, rack, ...) for scheduling and job scopes");
  o.AddString("registry-username", &c.registry_username, "default origin registry username");
  o.AddString("registry-password-file", &c.registry_password_file,
              "file holding the origin registry password");
  o.AddString("log-level", &c.log_level, "trace|debug|info|warn|error");
  o.AddString("log-format", &c.log_format, "text|json");
  o.AddString("disk-io", &c.disk_io,
              "libtorrent storage: mmap (fastest; page cache shows in RSS) or posix");
  o.AddString("metrics-listen", &c.metrics_listen,
              "Prometheus /metrics, /healthz, /readyz on HOST:PORT or :PORT (on --ip); empty: off");
  TransferConfig& t = c.transfer;
  o.AddBytes("segment-size", &t.segment_size, "blob segment size (one torrent each)");
  o.AddBytes("piece-size", &t.piece_size_bytes, "BitTorrent piece size (power of two >= 16KiB)");
  o.AddBytes("chunk-size", &t.chunk_size, "origin ranged-GET size; divides segment-size");
  o.AddUint("origin-concurrency", &t.origin_concurrency,
            "parallel ranged GETs per blob from the origin");
  AddTransferTimeoutOptions(o, t);
  o.AddUint("max-attempts", &t.max_attempts,
            "attempts per chunk before the blob fails (0: unlimited)");
  o.AddDuration("backoff-initial", &t.backoff_initial, "first retry delay (exponential, jittered)");
}

void AddTransferTimeoutOptions(OptionSet& o, TransferConfig& t) {
  o.AddDuration("stall-timeout", &t.stall_timeout,
                "a transfer with no byte for this long is cut and retried");
  o.AddDuration("deadline-base", &t.deadline_base,
                "chunk deadline = deadline-base + chunk-size / min-rate");
  o.AddBytes("min-rate", &t.min_rate, "slowest acceptable average rate per request, bytes/s");
  o.AddDuration("backoff-max", &t.backoff_max, "retry delay cap");
}

absl::Status FinishDaemonConfig(DaemonConfig& c, const std::string& role) {
  TransferConfig& t = c.transfer;
  if (t.piece_size_bytes > (1u << 30))
    return absl::InvalidArgumentError("piece-size must be at most 1GiB");
  t.piece_size = static_cast<uint32_t>(t.piece_size_bytes);
  if (t.piece_size < 16 * 1024 || (t.piece_size & (t.piece_size - 1)) != 0) {
    return absl::InvalidArgumentError("piece-size must be a power of two of at least 16KiB");
  }
  if (t.segment_size == 0 || t.segment_size % t.piece_size != 0) {
    return absl::InvalidArgumentError("segment-size must be a positive multiple of piece-size");
  }
  if (t.chunk_size == 0 || t.segment_size % t.chunk_size != 0) {
    return absl::InvalidArgumentError("chunk-size must divide segment-size");
  }
  if (t.origin_concurrency == 0)
    return absl::InvalidArgumentError("origin-concurrency must be at least 1");
  if (t.min_rate == 0) return absl::InvalidArgumentError("min-rate must be positive");
  if (c.disk_io != "mmap" && c.disk_io != "posix") {
    return absl::InvalidArgumentError(
        absl::StrCat("disk-io '", c.disk_io, "' is not mmap or posix"));
  }
  if (c.data_dir.empty())
    return absl::InvalidArgumentError("data-dir is required (e.g. --data-dir /var/lib/shoal)");
  if (c.data_port > 65535) return absl::InvalidArgumentError("data-port must be 0..65535");
  for (const auto& l : c.labels) {
    if (l.find('=') == std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat("label '", l, "' is not k=v"));
    }
  }
  if (c.host_id.empty()) {
    char name[256] = {0};
    ::gethostname(name, sizeof(name) - 1);
    c.host_id = absl::StrCat(role, "-", name, "-", c.ip);
  }
  return absl::OkStatus();
}

OriginClientOptions MakeOriginClientOptions(const DaemonConfig& c) {
  OriginClientOptions o;
  o.insecure_registries = c.insecure_registries;
  o.stall_timeout = c.transfer.stall_timeout;
  o.min_rate = c.transfer.min_rate;
  o.deadline_base = c.transfer.deadline_base;
  return o;
}

absl::StatusOr<RegistryCredentials> LoadDefaultCredentials(const DaemonConfig& c) {
  RegistryCredentials creds;
  creds.username = c.registry_username;
  if (!c.registry_password_file.empty()) {
    auto pw = ReadFile(c.registry_password_file);
    if (!pw.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("registry-password-file ", c.registry_password_file, " cannot be read"));
    }
    creds.password = std::string(absl::StripTrailingAsciiWhitespace(*pw));
  }
  return creds;
}

v1::HostInfo MakeHostInfo(const DaemonConfig& c, v1::HostRole role, int data_port) {
  v1::HostInfo h;
  h.set_id(c.host_id);
  h.set_ip(c.ip);
  h.set_data_port(static_cast<uint32_t>(data_port));
  h.set_role(role);
  for (const auto& l : c.labels) {
    std::pair<std::string, std::string> kv = absl::StrSplit(l, absl::MaxSplits('=', 1));
    (*h.mutable_labels())[kv.first] = kv.second;
  }
  return h;
}

absl::StatusOr<std::unique_ptr<MetricsServer>> StartDaemonMetrics(
    const DaemonConfig& c, const BlobStore* store, std::function<bool()> ready,
    std::vector<MetricsRegistry::Computed> extra) {
  if (c.metrics_listen.empty()) return std::unique_ptr<MetricsServer>();
  MetricsServer::Options o;
  o.listen = c.metrics_listen;
  o.default_host = c.ip;
  o.ready = std::move(ready);
  o.computed = std::move(extra);
  if (store != nullptr) {
    // Verified entries only: what the cache can serve. Read at scrape time.
    o.computed.push_back({"shoal_cache_bytes", "Bytes of verified blobs in the cache.", [store] {
                            double bytes = 0;
                            for (const auto& [d, meta] : store->List())
                              bytes += static_cast<double>(meta.size);
                            return bytes;
                          }});
    o.computed.push_back({"shoal_cache_entries", "Verified blobs in the cache.",
                          [store] { return static_cast<double>(store->List().size()); }});
  }
  auto server = MetricsServer::Start(std::move(o));
  if (!server.ok()) return server.status();
  std::string file = absl::StrCat(c.data_dir, "/", kMetricsAddressFile);
  if (auto s = WriteFileAtomically(file, (*server)->address() + "\n"); !s.ok()) {
    Logger("metrics")->warn("cannot write {}: {}", file, s.message());
  }
  Logger("metrics")->info("metrics on http://{}/metrics", (*server)->address());
  return server;
}

}  // namespace shoal
