#include "scheduler/job_store.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"

namespace shoal {
namespace {

constexpr int kSchemaVersion = 1;

constexpr char kSchema[] = R"sql(
CREATE TABLE IF NOT EXISTS jobs(
  id TEXT PRIMARY KEY, image TEXT NOT NULL, reference TEXT, registry TEXT, repository TEXT,
  platform TEXT, scope TEXT, seeds_only INTEGER, target_hosts TEXT,
  layer_concurrency INTEGER, host_concurrency INTEGER, idempotency_key TEXT,
  resolved_digest TEXT, state TEXT, error TEXT, username TEXT, password TEXT,
  created_ms INTEGER, finished_ms INTEGER);
CREATE TABLE IF NOT EXISTS job_blobs(
  job_id TEXT NOT NULL, position INTEGER, digest TEXT NOT NULL, size INTEGER, media_type TEXT,
  PRIMARY KEY(job_id, digest));
CREATE TABLE IF NOT EXISTS job_targets(
  job_id TEXT NOT NULL, digest TEXT NOT NULL, host_id TEXT NOT NULL, position INTEGER,
  role TEXT, goal INTEGER, state TEXT, bytes_done INTEGER, error TEXT, requested_ms INTEGER, started_ms INTEGER,
  finished_ms INTEGER, PRIMARY KEY(job_id, digest, host_id));
CREATE TABLE IF NOT EXISTS hosts(host_id TEXT PRIMARY KEY, role TEXT, last_seen_ms INTEGER);
)sql";

// One prepared statement; binds by 1-based index, reads by 0-based column.
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) : db_(db) {
    rc_ = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr);
  }
  ~Stmt() { sqlite3_finalize(stmt_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  Stmt& Bind(int i, const std::string& v) {
    if (rc_ == SQLITE_OK)
      rc_ = sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& Bind(int i, int64_t v) {
    if (rc_ == SQLITE_OK) rc_ = sqlite3_bind_int64(stmt_, i, v);
    return *this;
  }
  // SQLITE_ROW, SQLITE_DONE, or an error code.
  int Step() { return rc_ == SQLITE_OK ? sqlite3_step(stmt_) : rc_; }
  absl::Status Run(const std::string& path, absl::string_view what) {
    int rc = Step();
    if (rc == SQLITE_DONE || rc == SQLITE_ROW) return absl::OkStatus();
    return absl::InternalError(absl::StrCat("job store ", path, ": ", what, ": ",
                                            sqlite3_errmsg(db_),
                                            " (check disk space and permissions)"));
  }
  std::string Text(int col) {
    const unsigned char* t = sqlite3_column_text(stmt_, col);
    return t == nullptr ? std::string()
                        : std::string(reinterpret_cast<const char*>(t),
                                      static_cast<size_t>(sqlite3_column_bytes(stmt_, col)));
  }
  int64_t Int(int col) { return sqlite3_column_int64(stmt_, col); }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  int rc_;
};

std::string JoinHosts(const std::vector<std::string>& hosts) {
  return nlohmann::json(hosts).dump();
}

std::vector<std::string> SplitHosts(const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  std::vector<std::string> out;
  if (!j.is_array()) return out;
  for (const auto& h : j) {
    if (h.is_string()) out.push_back(h.get<std::string>());
  }
  return out;
}

}  // namespace

absl::StatusOr<std::unique_ptr<JobStore>> JobStore::Open(const std::string& data_dir) {
  std::error_code ec;
  std::filesystem::create_directories(data_dir, ec);
  if (ec) {
    return absl::FailedPreconditionError(absl::StrCat("cannot create data dir ", data_dir, ": ",
                                                      ec.message(), "; pick another --data-dir"));
  }
  std::string path = absl::StrCat(data_dir, "/", kFileName);
  // Created (or narrowed) to 0600 before SQLite opens it: it holds credentials
  // of running jobs, and SQLite creates its journal with the database's mode.
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0 || ::fchmod(fd, 0600) != 0) {
    std::string err = std::strerror(errno);
    if (fd >= 0) ::close(fd);
    return absl::FailedPreconditionError(
        absl::StrCat("cannot open job store ", path, ": ", err, "; check --data-dir"));
  }
  ::close(fd);
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX, nullptr) !=
      SQLITE_OK) {
    std::string err = db != nullptr ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return absl::FailedPreconditionError(absl::StrCat("cannot open job store ", path, ": ", err));
  }
  sqlite3_busy_timeout(db, 5000);
  std::unique_ptr<JobStore> store(new JobStore(db, path));
  absl::MutexLock l(&store->mu_);
  int version = 0;
  {
    Stmt v(db, "PRAGMA user_version");
    if (v.Step() == SQLITE_ROW) version = static_cast<int>(v.Int(0));
  }
  if (version > kSchemaVersion) {
    return absl::FailedPreconditionError(absl::StrCat(
        "job store ", path, " has schema version ", version, " but this shoal-scheduler knows ",
        kSchemaVersion, "; run a newer shoal-scheduler or point --data-dir elsewhere"));
  }
  for (const char* sql : {"PRAGMA journal_mode=DELETE", "PRAGMA synchronous=FULL",
                          "PRAGMA secure_delete=ON", kSchema, "PRAGMA user_version=1"}) {
    if (auto s = store->Exec(sql); !s.ok()) return s;
  }
  return store;
}

JobStore::~JobStore() {
  absl::MutexLock l(&mu_);
  sqlite3_close(db_);
}

absl::Status JobStore::Exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) == SQLITE_OK) return absl::OkStatus();
  std::string msg = err != nullptr ? err : sqlite3_errmsg(db_);
  sqlite3_free(err);
  return absl::InternalError(
      absl::StrCat("job store ", path_, ": ", msg, " (check disk space and permissions)"));
}

absl::Status JobStore::InTransaction(const std::function<absl::Status()>& body) {
  if (auto s = Exec("BEGIN IMMEDIATE"); !s.ok()) return s;
  absl::Status s = body();
  if (!s.ok()) {
    (void)Exec("ROLLBACK");
    return s;
  }
  return Exec("COMMIT");
}

absl::Status JobStore::WriteJobRow(const Job& job) {
  const bool ended = IsTerminal(job.state);
  const JobSpec& sp = job.spec;
  Stmt st(db_,
          "INSERT OR REPLACE INTO jobs(id, image, reference, registry, repository, platform, "
          "scope, seeds_only, target_hosts, layer_concurrency, host_concurrency, "
          "idempotency_key, resolved_digest, state, error, username, password, created_ms, "
          "finished_ms) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
  st.Bind(1, job.id).Bind(2, sp.image).Bind(3, sp.reference).Bind(4, sp.registry);
  st.Bind(5, sp.repository).Bind(6, sp.platform).Bind(7, sp.scope);
  st.Bind(8, int64_t{sp.seeds_only}).Bind(9, JoinHosts(sp.target_hosts));
  st.Bind(10, int64_t{sp.layer_concurrency}).Bind(11, int64_t{sp.host_concurrency});
  st.Bind(12, sp.idempotency_key).Bind(13, job.resolved_digest);
  st.Bind(14, std::string(JobStateName(job.state))).Bind(15, job.error);
  st.Bind(16, ended ? std::string() : sp.credentials.username);
  st.Bind(17, ended ? std::string() : sp.credentials.password);
  st.Bind(18, absl::ToUnixMillis(job.created_at)).Bind(19, ToUnixMillisOrZero(job.finished_at));
  return st.Run(path_, absl::StrCat("saving job ", job.id));
}

absl::Status JobStore::UpsertTarget(const std::string& job_id, const std::string& digest,
                                    size_t position, const JobTarget& t) {
  Stmt st(db_,
          "INSERT OR REPLACE INTO job_targets(job_id, digest, host_id, position, role, goal, "
          "state, bytes_done, error, requested_ms, started_ms, finished_ms) "
          "VALUES(?,?,?,?,?,?,?,?,?,?,?,?)");
  st.Bind(1, job_id).Bind(2, digest).Bind(3, t.host_id).Bind(4, static_cast<int64_t>(position));
  st.Bind(5, std::string(TargetRoleName(t.role))).Bind(6, int64_t{t.goal});
  st.Bind(7, std::string(JobStateName(t.state))).Bind(8, static_cast<int64_t>(t.bytes_done));
  st.Bind(9, t.error).Bind(10, ToUnixMillisOrZero(t.requested_at));
  st.Bind(11, ToUnixMillisOrZero(t.started_at)).Bind(12, ToUnixMillisOrZero(t.finished_at));
  return st.Run(path_, absl::StrCat("saving job ", job_id, " target ", t.host_id));
}

absl::Status JobStore::Insert(const Job& job) {
  absl::MutexLock l(&mu_);
  return InTransaction([&]() -> absl::Status {
    if (auto s = WriteJobRow(job); !s.ok()) return s;
    for (size_t i = 0; i < job.blobs.size(); ++i) {
      const JobBlob& b = job.blobs[i];
      Stmt st(db_,
              "INSERT OR REPLACE INTO job_blobs(job_id, position, digest, size, media_type) "
              "VALUES(?,?,?,?,?)");
      st.Bind(1, job.id).Bind(2, static_cast<int64_t>(i)).Bind(3, b.digest);
      st.Bind(4, static_cast<int64_t>(b.size)).Bind(5, b.media_type);
      if (auto s = st.Run(path_, absl::StrCat("saving job ", job.id, " blobs")); !s.ok()) return s;
      for (size_t ti = 0; ti < b.targets.size(); ++ti) {
        if (auto s = UpsertTarget(job.id, b.digest, ti, b.targets[ti]); !s.ok()) return s;
      }
    }
    return absl::OkStatus();
  });
}

absl::Status JobStore::Save(const Job& job, const std::vector<std::pair<size_t, size_t>>& targets) {
  absl::MutexLock l(&mu_);
  return InTransaction([&]() -> absl::Status {
    if (auto s = WriteJobRow(job); !s.ok()) return s;
    for (const auto& [bi, ti] : targets) {
      if (bi >= job.blobs.size() || ti >= job.blobs[bi].targets.size()) continue;
      if (auto s = UpsertTarget(job.id, job.blobs[bi].digest, ti, job.blobs[bi].targets[ti]);
          !s.ok()) {
        return s;
      }
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<std::vector<Job>> JobStore::LoadAll() {
  absl::MutexLock l(&mu_);
  std::vector<Job> jobs;
  std::map<std::string, size_t> index;
  {
    Stmt st(db_,
            "SELECT id, image, reference, registry, repository, platform, scope, seeds_only, "
            "target_hosts, layer_concurrency, host_concurrency, idempotency_key, "
            "resolved_digest, state, error, username, password, created_ms, finished_ms "
            "FROM jobs ORDER BY created_ms, id");
    int rc;
    while ((rc = st.Step()) == SQLITE_ROW) {
      Job j;
      j.id = st.Text(0);
      JobSpec& sp = j.spec;
      sp.image = st.Text(1);
      sp.reference = st.Text(2);
      sp.registry = st.Text(3);
      sp.repository = st.Text(4);
      sp.platform = st.Text(5);
      sp.scope = st.Text(6);
      sp.seeds_only = st.Int(7) != 0;
      sp.target_hosts = SplitHosts(st.Text(8));
      sp.layer_concurrency = static_cast<uint32_t>(st.Int(9));
      sp.host_concurrency = static_cast<uint32_t>(st.Int(10));
      sp.idempotency_key = st.Text(11);
      j.resolved_digest = st.Text(12);
      j.state = ParseJobState(st.Text(13)).value_or(JobState::kFailed);
      j.error = st.Text(14);
      sp.credentials = RegistryCredentials{st.Text(15), st.Text(16)};
      j.created_at = absl::FromUnixMillis(st.Int(17));
      j.finished_at = FromUnixMillisOrPast(st.Int(18));
      index[j.id] = jobs.size();
      jobs.push_back(std::move(j));
    }
    if (rc != SQLITE_DONE) {
      return absl::InternalError(
          absl::StrCat("job store ", path_, ": reading jobs: ", sqlite3_errmsg(db_)));
    }
  }
  {
    Stmt st(db_,
            "SELECT job_id, digest, size, media_type FROM job_blobs ORDER BY job_id, position");
    while (st.Step() == SQLITE_ROW) {
      auto it = index.find(st.Text(0));
      if (it == index.end()) continue;
      JobBlob b;
      b.digest = st.Text(1);
      b.size = static_cast<uint64_t>(st.Int(2));
      b.media_type = st.Text(3);
      jobs[it->second].blobs.push_back(std::move(b));
    }
  }
  {
    Stmt st(db_,
            "SELECT job_id, digest, host_id, role, goal, state, bytes_done, error, requested_ms, "
            "started_ms, finished_ms FROM job_targets ORDER BY job_id, digest, position");
    while (st.Step() == SQLITE_ROW) {
      auto it = index.find(st.Text(0));
      if (it == index.end()) continue;
      JobBlob* b = jobs[it->second].FindBlob(st.Text(1));
      if (b == nullptr) continue;
      JobTarget t;
      t.host_id = st.Text(2);
      t.role = st.Text(3) == "seed" ? TargetRole::kSeed : TargetRole::kPeer;
      t.goal = st.Int(4) != 0;
      t.state = ParseJobState(st.Text(5)).value_or(JobState::kPending);
      t.bytes_done = static_cast<uint64_t>(st.Int(6));
      t.error = st.Text(7);
      t.requested_at = FromUnixMillisOrPast(st.Int(8));
      t.started_at = FromUnixMillisOrPast(st.Int(9));
      t.finished_at = FromUnixMillisOrPast(st.Int(10));
      b->targets.push_back(std::move(t));
    }
  }
  return jobs;
}

absl::StatusOr<int> JobStore::DeleteFinishedBefore(absl::Time cutoff) {
  absl::MutexLock l(&mu_);
  int deleted = 0;
  absl::Status s = InTransaction([&]() -> absl::Status {
    const int64_t ms = absl::ToUnixMillis(cutoff);
    for (const char* sql :
         {"DELETE FROM job_targets WHERE job_id IN (SELECT id FROM jobs WHERE finished_ms > 0 "
          "AND finished_ms < ?)",
          "DELETE FROM job_blobs WHERE job_id IN (SELECT id FROM jobs WHERE finished_ms > 0 AND "
          "finished_ms < ?)",
          "DELETE FROM jobs WHERE finished_ms > 0 AND finished_ms < ?"}) {
      Stmt st(db_, sql);
      st.Bind(1, ms);
      if (auto r = st.Run(path_, "deleting old jobs"); !r.ok()) return r;
    }
    deleted = sqlite3_changes(db_);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return deleted;
}

absl::Status JobStore::RememberHost(const std::string& host_id, TargetRole role, absl::Time seen) {
  absl::MutexLock l(&mu_);
  Stmt st(db_, "INSERT OR REPLACE INTO hosts(host_id, role, last_seen_ms) VALUES(?,?,?)");
  st.Bind(1, host_id).Bind(2, std::string(TargetRoleName(role))).Bind(3, absl::ToUnixMillis(seen));
  return st.Run(path_, absl::StrCat("saving host ", host_id));
}

absl::StatusOr<std::vector<std::string>> JobStore::SeedsSeenSince(absl::Time since) {
  absl::MutexLock l(&mu_);
  Stmt st(db_,
          "SELECT host_id FROM hosts WHERE role = 'seed' AND last_seen_ms >= ? ORDER BY host_id");
  st.Bind(1, absl::ToUnixMillis(since));
  std::vector<std::string> out;
  while (st.Step() == SQLITE_ROW) out.push_back(st.Text(0));
  return out;
}

}  // namespace shoal
