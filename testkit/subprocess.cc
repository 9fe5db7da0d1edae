#include "testkit/subprocess.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

extern char** environ;

namespace shoal::testkit {
namespace {

constexpr absl::Duration kPollInterval = absl::Milliseconds(20);

// Live children, lock-free so a signal handler can read them.
constexpr int kMaxTracked = 512;
std::atomic<pid_t> g_live_children[kMaxTracked];

void TrackChild(pid_t pid) {
  for (auto& slot : g_live_children) {
    pid_t empty = 0;
    if (slot.compare_exchange_strong(empty, pid)) return;
  }
}

void UntrackChild(pid_t pid) {
  for (auto& slot : g_live_children) {
    pid_t expected = pid;
    if (slot.compare_exchange_strong(expected, 0)) return;
  }
}

// Resolves argv[0] against $PATH in the parent, so the child only calls execve.
std::string ResolveExecutable(const std::string& name) {
  if (name.find('/') != std::string::npos) return name;
  const char* path = getenv("PATH");
  for (absl::string_view dir : absl::StrSplit(path ? path : "/usr/bin:/bin", ':')) {
    std::string candidate = absl::StrCat(dir, "/", name);
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return name;
}

std::vector<std::string> MergedEnvironment(const std::vector<std::string>& overrides) {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    absl::string_view entry(*e);
    bool replaced = false;
    for (const std::string& o : overrides) {
      absl::string_view key = absl::string_view(o).substr(0, o.find('=') + 1);
      if (absl::StartsWith(entry, key)) replaced = true;
    }
    if (!replaced) env.emplace_back(entry);
  }
  env.insert(env.end(), overrides.begin(), overrides.end());
  return env;
}

std::vector<char*> CStrings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (std::string& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

}  // namespace

void SignalAllSubprocesses(int signal) {
  for (auto& slot : g_live_children) {
    pid_t pid = slot.load();
    if (pid > 0) kill(pid, signal);
  }
}

std::string ReadFileOrEmpty(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string TailLines(absl::string_view text, size_t max_lines) {
  size_t pos = text.size();
  if (pos > 0 && text[pos - 1] == '\n') --pos;
  size_t lines = 0;
  while (pos > 0) {
    size_t nl = text.rfind('\n', pos - 1);
    if (nl == absl::string_view::npos) return std::string(text);
    if (++lines == max_lines) return std::string(text.substr(nl + 1));
    pos = nl;
  }
  return std::string(text);
}

absl::StatusOr<std::unique_ptr<Subprocess>> Subprocess::Start(SubprocessOptions options) {
  if (options.argv.empty()) return absl::InvalidArgumentError("Subprocess: empty argv");
  if (options.log_path.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("Subprocess ", options.argv[0], ": log_path is required"));
  }
  std::unique_ptr<Subprocess> child(new Subprocess(std::move(options)));
  const SubprocessOptions& opts = child->options_;

  // Everything the child needs is prepared here: between fork and exec only
  // async-signal-safe system calls are allowed (the test process has threads).
  std::string exe = ResolveExecutable(opts.argv[0]);
  std::vector<std::string> args = opts.argv;
  std::vector<std::string> env = MergedEnvironment(opts.env);
  std::vector<char*> c_args = CStrings(args);
  std::vector<char*> c_env = CStrings(env);
  int log_fd = open(opts.log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) {
    return absl::InternalError(
        absl::StrCat("cannot open log ", opts.log_path, ": ", strerror(errno)));
  }
  int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  struct stat st {};
  if (fstat(log_fd, &st) == 0) child->log_start_ = static_cast<size_t>(st.st_size);
  const char* workdir = opts.working_dir.empty() ? nullptr : opts.working_dir.c_str();
  pid_t parent = getpid();

  pid_t pid = fork();
  if (pid == 0) {
    dup2(null_fd, 0);
    dup2(log_fd, 1);
    dup2(log_fd, 2);
    close_range(3, ~0U, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);  // the parent died before prctl
    setpgid(0, 0);  // Ctrl-C at a terminal reaches the owner, which stops us in order
    if (workdir != nullptr && chdir(workdir) != 0) _exit(126);
    execve(exe.c_str(), c_args.data(), c_env.data());
    const char msg[] = "Subprocess: execve failed\n";
    (void)!write(2, msg, sizeof(msg) - 1);
    _exit(127);
  }
  int fork_errno = errno;
  close(log_fd);
  if (null_fd >= 0) close(null_fd);
  if (pid < 0) {
    return absl::InternalError(absl::StrCat("fork for ", exe, " failed: ", strerror(fork_errno)));
  }
  child->pid_ = pid;
  TrackChild(pid);
  return child;
}

Subprocess::~Subprocess() { Stop(); }

std::string Subprocess::name() const {
  const std::string& a0 = options_.argv[0];
  size_t slash = a0.rfind('/');
  return slash == std::string::npos ? a0 : a0.substr(slash + 1);
}

bool Subprocess::Reap(bool block) {
  if (exit_code_.has_value()) return true;
  if (pid_ <= 0) return true;
  int status = 0;
  pid_t r;
  do {
    r = waitpid(pid_, &status, block ? 0 : WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r == 0) return false;
  UntrackChild(pid_);
  if (r < 0) {
    exit_code_ = -1;  // not our child any more (reaped elsewhere)
    return true;
  }
  exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return true;
}

bool Subprocess::Running() { return !Reap(false); }

void Subprocess::Kill(int signal) {
  if (!Reap(false)) kill(pid_, signal);
}

absl::StatusOr<int> Subprocess::Wait(absl::Duration timeout) {
  if (timeout == absl::InfiniteDuration()) {
    Reap(true);
    return *exit_code_;
  }
  absl::Time deadline = absl::Now() + timeout;
  while (!Reap(false)) {
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError(absl::StrCat(
          name(), " (pid ", pid_, ") still running after ", absl::FormatDuration(timeout)));
    }
    absl::SleepFor(kPollInterval);
  }
  return *exit_code_;
}

int Subprocess::Stop(absl::Duration grace) {
  if (Reap(false)) return exit_code_.value_or(-1);
  kill(pid_, SIGTERM);
  if (!Wait(grace).ok()) {
    kill(pid_, SIGKILL);
    Reap(true);
  }
  return *exit_code_;
}

absl::Status Subprocess::WaitForLogLine(absl::string_view needle, absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  while (true) {
    // Check exit before reading, so a line written just before exiting is still seen.
    bool exited = !Running();
    std::string log = ReadLog();
    if (absl::StrContains(log, needle)) return absl::OkStatus();
    if (exited) {
      return absl::FailedPreconditionError(
          absl::StrCat(name(), " exited with code ", *exit_code_, " before logging '", needle,
                       "'; command: ", absl::StrJoin(options_.argv, " "), "\nlog ",
                       options_.log_path, " ends with:\n", TailLines(log, 40)));
    }
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat(name(), " did not log '", needle, "' within ", absl::FormatDuration(timeout),
                       "; log ", options_.log_path, " ends with:\n", TailLines(log, 40)));
    }
    absl::SleepFor(kPollInterval);
  }
}

std::string Subprocess::ReadLog() const {
  std::string log = ReadFileOrEmpty(options_.log_path);
  return log_start_ <= log.size() ? log.substr(log_start_) : log;
}

std::string Subprocess::LogTail(size_t max_lines) const { return TailLines(ReadLog(), max_lines); }

absl::StatusOr<CommandResult> RunCommand(const std::vector<std::string>& argv,
                                         absl::Duration timeout,
                                         const std::vector<std::string>& env) {
  const char* tmp = getenv("TMPDIR");
  std::string pattern = absl::StrCat(tmp && *tmp ? tmp : "/tmp", "/shoal-cmd-XXXXXX");
  std::vector<char> name(pattern.begin(), pattern.end());
  name.push_back('\0');
  int fd = mkstemp(name.data());
  if (fd < 0) {
    return absl::InternalError(absl::StrCat("cannot create ", pattern, ": ", strerror(errno)));
  }
  close(fd);
  std::string output_path(name.data());
  struct Unlinker {
    std::string path;
    ~Unlinker() { unlink(path.c_str()); }
  } unlinker{output_path};
  SubprocessOptions options;
  options.argv = argv;
  options.env = env;
  options.log_path = output_path;
  absl::Time start = absl::Now();
  auto child = Subprocess::Start(std::move(options));
  if (!child.ok()) return child.status();
  CommandResult result;
  auto code = (*child)->Wait(timeout);
  result.elapsed = absl::Now() - start;
  if (!code.ok()) {
    (*child)->Stop(absl::ZeroDuration());
    return absl::DeadlineExceededError(
        absl::StrCat(absl::StrJoin(argv, " "), " did not finish within ",
                     absl::FormatDuration(timeout), "; output:\n", (*child)->LogTail(40)));
  }
  result.exit_code = *code;
  result.output = (*child)->ReadLog();
  return result;
}

}  // namespace shoal::testkit
