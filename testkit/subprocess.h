// A real child process for integration tests, the demo and benchmarks: its
// stdout and stderr go to a log file, tests wait for a line in that log, and the
// child never outlives its owner (destructor stops it; PR_SET_PDEATHSIG kills it
// if the test process itself dies, e.g. on a ctest timeout).
//
// Start() must be called from a thread that lives as long as the child should:
// the kernel sends the death signal when the spawning *thread* exits.
#pragma once

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace shoal::testkit {

struct SubprocessOptions {
  std::vector<std::string> argv;  // argv[0]: a path, or a name looked up in $PATH
  std::vector<std::string> env;   // "KEY=VALUE" added to (or replacing in) our environment
  std::string log_path;           // stdout+stderr, appended; required. Log lines are
                                  // looked for only in what this process appends.
  std::string working_dir;        // optional
};

class Subprocess {
 public:
  static absl::StatusOr<std::unique_ptr<Subprocess>> Start(SubprocessOptions options);
  ~Subprocess();  // Stop()
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  pid_t pid() const { return pid_; }
  const std::string& log_path() const { return options_.log_path; }
  const std::vector<std::string>& argv() const { return options_.argv; }
  std::string name() const;  // basename of argv[0]

  // Waits until the log holds `needle`. Fails at once (with the log tail) when the
  // process exits first, and with DeadlineExceeded after `timeout`.
  absl::Status WaitForLogLine(absl::string_view needle, absl::Duration timeout);

  bool Running();
  // Sends a signal unless the child has already been reaped.
  void Kill(int signal);
  // Exit code, or 128+signal when killed by a signal. DeadlineExceeded on timeout.
  absl::StatusOr<int> Wait(absl::Duration timeout = absl::InfiniteDuration());
  // SIGTERM, then SIGKILL after `grace`; reaps. Returns the exit code as Wait().
  int Stop(absl::Duration grace = absl::Seconds(5));

  // What this process wrote (a log file shared with earlier runs keeps theirs before it).
  std::string ReadLog() const;
  std::string LogTail(size_t max_lines = 40) const;

 private:
  explicit Subprocess(SubprocessOptions options) : options_(std::move(options)) {}
  bool Reap(bool block);

  SubprocessOptions options_;
  pid_t pid_ = -1;
  size_t log_start_ = 0;  // size of the log file when this process started
  std::optional<int> exit_code_;
};

// Sends `signal` to every child started by Subprocess that has not been reaped.
// Async-signal-safe: a SIGINT handler calls it so blocking waits end, the caller
// unwinds and destructors clean up.
void SignalAllSubprocesses(int signal);

struct CommandResult {
  int exit_code = -1;  // 128+signal when killed
  std::string output;  // stdout and stderr interleaved
  absl::Duration elapsed;
};

// Runs a command to completion. Killed (SIGKILL) and DeadlineExceeded after timeout.
absl::StatusOr<CommandResult> RunCommand(const std::vector<std::string>& argv,
                                         absl::Duration timeout,
                                         const std::vector<std::string>& env = {});

// Reads a whole file; empty when missing.
std::string ReadFileOrEmpty(const std::string& path);
// The last max_lines lines of text.
std::string TailLines(absl::string_view text, size_t max_lines);

}  // namespace shoal::testkit
