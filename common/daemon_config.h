// Configuration shared by shoal-seed and shoal-peer: where the scheduler is,
// which address the data plane binds and advertises, where data lives, how the
// origin is reached, and the one transfer/timeout model.
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "common/blob_store.h"
#include "common/metrics.h"
#include "common/options.h"
#include "common/origin_client.h"
#include "common/transfer_config.h"
#include "shoal/v1/scheduler.pb.h"

namespace shoal {

struct DaemonConfig {
  std::string scheduler = "127.0.0.1:65003";
  std::string ip = "127.0.0.1";
  uint32_t data_port = 0;
  std::string data_dir;
  std::vector<std::string> insecure_registries;
  std::string host_id;              // default: <role>-<hostname>-<ip>
  std::vector<std::string> labels;  // k=v
  std::string registry_username;
  std::string registry_password_file;  // file holding the password (never on the command line)
  std::string log_level = "info";
  std::string log_format = "text";
  std::string disk_io = "mmap";  // libtorrent storage: mmap | posix
  // Prometheus endpoint (/metrics, /healthz, /readyz): "" off, "HOST:PORT", or ":PORT" on --ip.
  std::string metrics_listen;
  TransferConfig transfer;
};

void AddDaemonOptions(OptionSet& options, DaemonConfig& config);
// The timeout model's flags (stall-timeout, deadline-base, min-rate, backoff-max):
// the same keys on every daemon, so one config file sets one model.
void AddTransferTimeoutOptions(OptionSet& options, TransferConfig& transfer);
// Validates and fills derived defaults (host id). Messages name the key.
absl::Status FinishDaemonConfig(DaemonConfig& config, const std::string& role);
OriginClientOptions MakeOriginClientOptions(const DaemonConfig& config);
absl::StatusOr<RegistryCredentials> LoadDefaultCredentials(const DaemonConfig& config);
v1::HostInfo MakeHostInfo(const DaemonConfig& config, v1::HostRole role, int data_port);

// The daemon's metrics endpoint per metrics_listen (nullptr when off), with cache
// gauges read from store at scrape time. The bound address is logged and written to
// <data-dir>/metrics.address, so a port picked at random (":0") can be found.
inline constexpr char kMetricsAddressFile[] = "metrics.address";
absl::StatusOr<std::unique_ptr<MetricsServer>> StartDaemonMetrics(
    const DaemonConfig& config, const BlobStore* store, std::function<bool()> ready,
    std::vector<MetricsRegistry::Computed> extra = {});

}  // namespace shoal
