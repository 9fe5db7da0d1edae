// Where jobs live across scheduler restarts: an embedded SQLite database,
// <data-dir>/jobs.sqlite. Rows: jobs (spec, state, error, times), their blobs,
// per blob per host targets (state, bytes, error, request/start/finish times),
// and the hosts seen (so a restarted scheduler knows which seeds to wait for).
//
// Registry credentials of a job are stored with it while it can still run (a
// restarted scheduler needs them to resume) and overwritten the moment it ends
// (secure_delete, rollback journal: no stale copy stays in the file). The file
// is created 0600; SQLite gives its journal the same mode.
//
// Thread-safe (one connection, one mutex). Every write is one transaction,
// synced before it returns.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "scheduler/job_model.h"

struct sqlite3;

namespace shoal {

class JobStore {
 public:
  static constexpr char kFileName[] = "jobs.sqlite";

  // Creates data_dir if needed. FailedPrecondition when the file was written by
  // a newer shoal (its schema version is higher than this build knows).
  static absl::StatusOr<std::unique_ptr<JobStore>> Open(const std::string& data_dir);
  ~JobStore();

  const std::string& path() const { return path_; }

  // A new job with its blobs and targets.
  absl::Status Insert(const Job& job);
  // The job's row (state, error, finished time; credentials wiped once terminal)
  // and the listed targets, as one transaction. `targets`: (blob index, target index).
  absl::Status Save(const Job& job, const std::vector<std::pair<size_t, size_t>>& targets);
  // Every job, oldest first, blobs in their stored order.
  absl::StatusOr<std::vector<Job>> LoadAll();
  // Drops terminal jobs that finished before `cutoff`; returns how many.
  absl::StatusOr<int> DeleteFinishedBefore(absl::Time cutoff);

  absl::Status RememberHost(const std::string& host_id, TargetRole role, absl::Time seen);
  // Seeds seen at or after `since`, sorted.
  absl::StatusOr<std::vector<std::string>> SeedsSeenSince(absl::Time since);

 private:
  JobStore(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  absl::Status Exec(const char* sql) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status UpsertTarget(const std::string& job_id, const std::string& digest, size_t position,
                            const JobTarget& t) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status WriteJobRow(const Job& job) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status InTransaction(const std::function<absl::Status()>& body)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  absl::Mutex mu_;
  sqlite3* db_ ABSL_GUARDED_BY(mu_);
  const std::string path_;
};

}  // namespace shoal
