// One HTTP request/response over libcurl, with what the origin client needs and
// nothing registry-specific: response headers of the final answer (after redirects),
// a body that is either streamed to a sink or buffered (the caller decides when the
// first body byte arrives, knowing the status and headers), a stall/deadline
// watchdog on real time, cancellation, and transport errors mapped to absl codes.
// Easy handles are pooled so keep-alive connections and TLS sessions are reused.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace shoal {

struct HttpRequest {
  std::string method = "GET";  // GET or HEAD
  std::string url;
  std::vector<std::string> headers;  // "Name: value"; never logged
  std::string range;                 // "first-last" for a Range request, or empty
  bool follow_redirects = true;
  absl::Duration connect_timeout = absl::Seconds(10);
  absl::Duration stall_timeout = absl::Seconds(30);
  absl::Duration deadline = absl::Minutes(10);
  std::string user_agent = "shoal";
  const std::atomic<bool>* cancel = nullptr;
};

struct HttpResponse {
  int status = 0;                              // final status; 0 when no answer arrived
  std::map<std::string, std::string> headers;  // final answer's, names in lower case
  std::string body;                            // buffered body (capped)
  uint64_t streamed = 0;                       // body bytes the sink accepted
  uint64_t received = 0;                       // body bytes that arrived in all
  // OK, or why the exchange broke: Unavailable (connection failed, reset, closed early),
  // DeadlineExceeded (stall/deadline), Cancelled (cancel flag or sink refused),
  // FailedPrecondition (TLS verification, bad URL: retrying will not help).
  absl::Status transport;
  bool sink_refused = false;

  // The header's value, or an empty string.
  const std::string& Header(const std::string& lower_name) const {
    static const std::string kNone;
    auto it = headers.find(lower_name);
    return it == headers.end() ? kNone : it->second;
  }
};

// Called once, when the first body byte of the final answer arrives: true streams the
// body to the sink, false buffers it (error bodies); an error aborts the exchange
// with that status as its transport error.
using BodyRoute = std::function<absl::StatusOr<bool>(const HttpResponse& so_far)>;
// Takes streamed bytes in order; false stops the exchange (sink_refused).
using BodySink = std::function<bool(const char* data, size_t len)>;

class HttpExchanger {
 public:
  HttpExchanger();
  ~HttpExchanger();
  HttpExchanger(const HttpExchanger&) = delete;
  HttpExchanger& operator=(const HttpExchanger&) = delete;

  // Thread-safe; each call uses its own pooled handle.
  HttpResponse Perform(const HttpRequest& request, const BodyRoute& route, const BodySink& sink,
                       size_t buffer_cap = 64 << 10);

 private:
  void* Acquire();
  void Release(void* handle);

  absl::Mutex mu_;
  std::vector<void*> idle_ ABSL_GUARDED_BY(mu_);
};

// "first-last" for a Range header covering [offset, offset + length).
std::string RangeSpec(uint64_t offset, uint64_t length);

}  // namespace shoal
