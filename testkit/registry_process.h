// A real OCI registry (docker-registry, distribution 2.8) on loopback: the origin
// in integration tests, demo and benchmarks. Storage lives in a temp dir; optional
// htpasswd Basic auth; optional pull-through cache mode (proxy.remoteurl). Its log
// feeds RegistryAccessLog, which tells how many bytes of each blob it served.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "testkit/registry_log.h"
#include "testkit/subprocess.h"
#include "testkit/temp_dir.h"

namespace shoal::testkit {

struct RegistryOptions {
  std::string ip = "127.0.0.1";
  int port = 0;          // 0: a free port
  std::string username;  // Basic auth (htpasswd, bcrypt) when non-empty
  std::string password;
  std::string proxy_remote_url;  // pull-through cache of this upstream when non-empty
  std::string proxy_username;
  std::string proxy_password;
  std::string work_dir;  // storage, config and log; a fresh temp dir when empty
};

class RegistryProcess {
 public:
  static absl::StatusOr<std::unique_ptr<RegistryProcess>> Start(RegistryOptions options);
  ~RegistryProcess();

  std::string host_port() const;  // "127.0.0.1:5123": what image references name
  std::string url() const;        // "http://127.0.0.1:5123"
  const std::string& log_path() const { return log_path_; }
  const RegistryOptions& options() const { return options_; }

  // What the registry served since the last MarkAccessLog() (or since start).
  RegistryAccessLog ReadAccessLog() const;
  // Forget what was served so far (e.g. the pushes that set a test up).
  void MarkAccessLog();

  // Stops the process; storage stays. Restart() serves the same content on the same port.
  void Stop();
  absl::Status Restart();
  bool Running() const { return process_ != nullptr && process_->Running(); }

 private:
  explicit RegistryProcess(RegistryOptions options) : options_(std::move(options)) {}
  absl::Status WriteConfig();
  absl::Status Launch();

  RegistryOptions options_;
  std::unique_ptr<TempDir> owned_dir_;
  std::string config_path_;
  std::string log_path_;
  size_t log_mark_ = 0;
  std::unique_ptr<Subprocess> process_;
};

// "user:$2y$..." for an htpasswd file, via `htpasswd -Bbn` (apache2-utils).
absl::StatusOr<std::string> HtpasswdLine(const std::string& user, const std::string& password);

}  // namespace shoal::testkit
