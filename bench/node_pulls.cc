#include "bench/node_pulls.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "bench/netns.h"
#include "common/hashing.h"
#include "common/http_exchange.h"

namespace shoal::bench {
namespace {

struct BlobPull {
  bool ok = false;
  uint64_t bytes = 0;
  double seconds = 0;  // since the common start
  std::string error;
};

BlobPull PullOne(HttpExchanger& http, const std::string& url, const ImageInfo::Blob& blob,
                 const PullOptions& options, absl::Time start) {
  BlobPull out;
  Hasher sha(Hasher::Kind::kSha256);
  HttpRequest req;
  req.url = url;
  req.stall_timeout = options.stall_timeout;
  req.deadline = options.deadline;
  req.user_agent = options.user_agent;
  req.cancel = options.cancel;
  auto route = [](const HttpResponse& r) -> absl::StatusOr<bool> { return r.status == 200; };
  auto sink = [&](const char* data, size_t len) {
    sha.Update(data, len);
    out.bytes += len;
    if (options.meter != nullptr) options.meter->AddBytes(len);
    return true;
  };
  HttpResponse resp = http.Perform(req, route, sink);
  out.seconds = absl::ToDoubleSeconds(absl::Now() - start);
  const std::string digest = "sha256:" + sha.FinalHex();
  if (!resp.transport.ok()) {
    out.error = absl::StrCat("GET ", url, ": ", resp.transport.message(), " after ", out.bytes,
                             " of ", blob.size, " bytes");
  } else if (resp.status != 200) {
    out.error =
        absl::StrCat("GET ", url, " answered ", resp.status, ": ", resp.body.substr(0, 300));
  } else if (out.bytes != blob.size) {
    out.error = absl::StrCat("GET ", url, " returned ", out.bytes, " bytes, want ", blob.size);
  } else if (digest != blob.digest) {
    out.error = absl::StrCat("GET ", url, " returned bytes with digest ", digest);
  } else {
    out.ok = true;
  }
  return out;
}

}  // namespace

std::vector<NodeOutcome> PullOnAllNodes(const std::vector<NodePullPlan>& plans,
                                        const std::vector<ImageInfo::Blob>& blobs,
                                        const PullOptions& options) {
  const size_t n = plans.size(), b = blobs.size();
  std::vector<std::unique_ptr<HttpExchanger>> http;  // per node: pooled connections never
  for (size_t i = 0; i < n; ++i) {                   // cross namespaces
    http.push_back(std::make_unique<HttpExchanger>());
  }
  std::vector<BlobPull> results(n * b);
  std::vector<std::atomic<int>> remaining(n);
  for (auto& r : remaining) r.store(static_cast<int>(b));
  std::vector<std::atomic<bool>> failed(n);  // value-initialised: false
  absl::Notification go;
  std::atomic<int> entered{0};
  absl::Time start;
  std::vector<std::thread> threads;
  for (size_t node = 0; node < n; ++node) {
    for (size_t blob = 0; blob < b; ++blob) {
      threads.emplace_back([&, node, blob] {
        BlobPull& out = results[node * b + blob];
        auto guard = NetnsGuard::Enter(plans[node].netns);
        entered.fetch_add(1);
        go.WaitForNotification();
        if (!guard.ok()) {
          out.error = std::string(guard.status().message());
          return;
        }
        out = PullOne(*http[node], plans[node].urls[blob], blobs[blob], options, start);
        if (!out.ok) failed[node].store(true);
        if (remaining[node].fetch_sub(1) == 1 && !failed[node].load() && options.meter != nullptr) {
          options.meter->NodeDone();
        }
      });
    }
  }
  // Every thread is in its namespace before the clock starts.
  while (entered.load() < static_cast<int>(n * b)) absl::SleepFor(absl::Milliseconds(5));
  start = absl::Now();
  if (options.started != nullptr) *options.started = start;
  go.Notify();
  for (auto& t : threads) t.join();

  std::vector<NodeOutcome> outcomes;
  for (size_t node = 0; node < n; ++node) {
    NodeOutcome o;
    o.name = plans[node].node_name;
    double last = 0;
    for (size_t blob = 0; blob < b; ++blob) {
      const BlobPull& r = results[node * b + blob];
      if (r.ok) {
        ++o.blobs_verified;
        o.bytes += r.bytes;
        last = std::max(last, r.seconds);
      } else {
        o.errors.push_back(r.error);
      }
    }
    if (o.blobs_verified == static_cast<int>(b)) o.seconds = last;
    outcomes.push_back(std::move(o));
  }
  return outcomes;
}

}  // namespace shoal::bench
