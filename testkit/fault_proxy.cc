#include "testkit/fault_proxy.h"

#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/logging.h"

namespace shoal {
namespace {

constexpr size_t kMaxBuffered = 4 << 20;  // per body in flight: backpressure on upstream
constexpr auto kStopPoll = std::chrono::milliseconds(100);

bool IsHopByHop(const std::string& name) {
  std::string n = absl::AsciiStrToLower(name);
  return n == "connection" || n == "keep-alive" || n == "transfer-encoding" || n == "te" ||
         n == "upgrade" || n == "proxy-connection" || n == "content-length" || n == "host" ||
         // cpp-httplib puts the peer's address among the request headers.
         n == "remote_addr" || n == "remote_port" || n == "local_addr" || n == "local_port";
}

std::string Describe(const FaultRule& r) {
  switch (r.action) {
    case FaultRule::Action::kDelay:
      return absl::StrCat("delay ", absl::FormatDuration(r.delay));
    case FaultRule::Action::kStallMidBody:
      return absl::StrCat("stall for ", absl::FormatDuration(r.delay), " after ", r.after_bytes,
                          " body bytes");
    case FaultRule::Action::kResetMidBody:
      return absl::StrCat("drop the connection after ", r.after_bytes, " body bytes");
    case FaultRule::Action::kTruncateBody:
      return absl::StrCat("end the body after ", r.after_bytes, " bytes");
    case FaultRule::Action::kStatus:
      return absl::StrCat(
          "answer ", r.status,
          r.retry_after > absl::ZeroDuration()
              ? absl::StrCat(" with Retry-After ", absl::FormatDuration(r.retry_after))
              : "");
  }
  return "?";
}

// One answer's body on its way from the upstream to one client. The upstream side
// runs on its own thread; the client side is pulled by cpp-httplib's content provider.
struct BodyPipe {
  std::mutex mu;
  std::condition_variable cv;
  bool headers_ready = false;
  bool upstream_failed = false;  // no answer at all
  std::string upstream_error;
  int status = 0;
  httplib::Headers headers;
  std::deque<std::string> chunks;
  size_t buffered = 0;
  bool upstream_done = false;
  bool consumer_gone = false;
  std::thread upstream;

  void Finish() {
    {
      std::lock_guard<std::mutex> l(mu);
      consumer_gone = true;
    }
    cv.notify_all();
    if (upstream.joinable()) upstream.join();
  }
};

}  // namespace

struct FaultProxy::Impl {
  httplib::Server server;
  std::thread listener;
};

absl::StatusOr<std::unique_ptr<FaultProxy>> FaultProxy::Start(const Options& options) {
  std::unique_ptr<FaultProxy> p(new FaultProxy());
  size_t colon = options.upstream.rfind(':');
  if (colon == std::string::npos ||
      !absl::SimpleAtoi(options.upstream.substr(colon + 1), &p->upstream_port_)) {
    return absl::InvalidArgumentError(
        absl::StrCat("fault proxy upstream '", options.upstream, "' is not host:port"));
  }
  p->upstream_host_ = options.upstream.substr(0, colon);
  {
    absl::MutexLock l(&p->mu_);
    p->rng_.seed(options.seed);
    p->rate_per_connection_ = options.rate_per_connection;
    p->rate_total_ = options.rate_total;
  }
  p->impl_ = std::make_unique<Impl>();
  httplib::Server& svr = p->impl_->server;
  int threads = std::max(options.threads, 2);
  svr.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  FaultProxy* self = p.get();
  auto log = Logger("fault-proxy");

  svr.Get(".*", [self, log](const httplib::Request& req, httplib::Response& res) {
    // The upstream answers the Range (it is forwarded among the headers); cpp-httplib
    // must not apply it again - to a body we pass through, or to an injected error
    // body, which it would turn into a 416.
    const_cast<httplib::Request&>(req).ranges.clear();
    const uint64_t index = self->requests_++;
    {
      absl::MutexLock l(&self->mu_);
      self->counts_[req.path].requests++;
    }
    std::optional<FaultRule> rule = self->Pick(req.method, req.path, index);
    using Action = FaultRule::Action;
    if (rule) {
      self->faults_++;
      {
        absl::MutexLock l(&self->mu_);
        self->faults_by_action_[rule->action]++;
      }
      log->info("request {} {} {}: injecting fault: {}", index, req.method, req.path,
                Describe(*rule));
    }
    if (rule && rule->action == Action::kStatus) {
      res.status = rule->status;
      if (rule->retry_after > absl::ZeroDuration()) {
        res.set_header("Retry-After",
                       absl::StrCat(std::ceil(absl::ToDoubleSeconds(rule->retry_after))));
      }
      res.set_content(R"({"errors":[{"code":"UNAVAILABLE","message":"injected by fault proxy"}]})",
                      "application/json");
      return;
    }
    if (rule && rule->action == Action::kDelay && !self->SleepUnlessStopped(rule->delay)) {
      res.status = 503;
      return;
    }
    httplib::Headers forward;
    for (const auto& [name, value] : req.headers) {
      if (!IsHopByHop(name)) forward.emplace(name, value);
    }
    // Bytes pass through exactly as the upstream sent them.
    if (!req.has_header("Accept-Encoding")) forward.emplace("Accept-Encoding", "identity");

    if (req.method == "HEAD") {
      httplib::Client cli(self->upstream_host_, self->upstream_port_);
      cli.set_url_encode(false);
      cli.set_follow_location(false);
      auto r = cli.Head(req.target, forward);
      if (!r) {
        res.status = 502;
        return;
      }
      res.status = r->status;
      for (const auto& [name, value] : r->headers) {
        if (!IsHopByHop(name)) res.set_header(name, value);
      }
      if (r->has_header("Content-Length")) {
        res.set_header("Content-Length", r->get_header_value("Content-Length"));
      }
      return;
    }

    auto pipe = std::make_shared<BodyPipe>();
    pipe->upstream = std::thread([pipe, self, target = req.target, forward] {
      httplib::Client cli(self->upstream_host_, self->upstream_port_);
      cli.set_url_encode(false);
      cli.set_follow_location(false);
      cli.set_decompress(false);
      cli.set_keep_alive(false);
      cli.set_connection_timeout(5);
      cli.set_read_timeout(60);
      auto result = cli.Get(
          target, forward,
          [pipe](const httplib::Response& r) {
            std::lock_guard<std::mutex> l(pipe->mu);
            pipe->status = r.status;
            pipe->headers = r.headers;
            pipe->headers_ready = true;
            pipe->cv.notify_all();
            return !pipe->consumer_gone;
          },
          [pipe](const char* data, size_t n) {
            std::unique_lock<std::mutex> l(pipe->mu);
            pipe->cv.wait(l, [&] { return pipe->buffered < kMaxBuffered || pipe->consumer_gone; });
            if (pipe->consumer_gone) return false;
            pipe->chunks.emplace_back(data, n);
            pipe->buffered += n;
            pipe->cv.notify_all();
            return true;
          });
      std::lock_guard<std::mutex> l(pipe->mu);
      pipe->upstream_done = true;
      if (!result && !pipe->headers_ready) {
        pipe->upstream_failed = true;
        pipe->upstream_error = httplib::to_string(result.error());
        pipe->headers_ready = true;
      }
      pipe->cv.notify_all();
    });
    {
      std::unique_lock<std::mutex> l(pipe->mu);
      pipe->cv.wait(l, [&] { return pipe->headers_ready; });
    }
    if (pipe->upstream_failed) {
      pipe->Finish();
      res.status = 502;
      res.set_content(absl::StrCat("fault proxy: upstream ", self->upstream_host_, ":",
                                   self->upstream_port_, " failed: ", pipe->upstream_error),
                      "text/plain");
      return;
    }
    res.status = pipe->status;
    std::string content_type = "application/octet-stream";
    uint64_t length = 0;
    bool length_known = false;
    for (const auto& [name, value] : pipe->headers) {
      std::string lower = absl::AsciiStrToLower(name);
      if (lower == "content-type") {
        content_type = value;
      } else if (lower == "content-length") {
        length_known = absl::SimpleAtoi(value, &length);
      } else if (!IsHopByHop(name)) {
        res.set_header(name, value);
      }
    }

    std::optional<FaultRule> mid;
    if (rule && rule->action != Action::kDelay) mid = rule;
    struct PumpState {
      uint64_t sent = 0;
      bool fired = false;
      absl::Time start = absl::Now();
      uint64_t rate = 0;
    };
    auto state = std::make_shared<PumpState>();
    {
      absl::MutexLock l(&self->mu_);
      state->rate = self->rate_per_connection_;
    }
    std::string path = req.path;
    // Moves the next upstream chunk to the client, firing the mid-body fault on the way.
    auto pump = [pipe, self, mid, state, path](httplib::DataSink& sink, bool chunked) {
      std::string chunk;
      {
        std::unique_lock<std::mutex> l(pipe->mu);
        while (pipe->chunks.empty() && !pipe->upstream_done) {
          if (self->Stopping()) return false;
          pipe->cv.wait_for(l, kStopPoll);
        }
        if (pipe->chunks.empty()) {
          if (!chunked) return false;  // the upstream ended before its Content-Length
          sink.done();
          return true;
        }
        chunk = std::move(pipe->chunks.front());
        pipe->chunks.pop_front();
        pipe->buffered -= chunk.size();
      }
      pipe->cv.notify_all();
      auto write = [&](const char* d, size_t n) {
        if (n == 0) return true;
        if (!self->Pace(state->start, state->sent, n, state->rate)) return false;
        if (!sink.write(d, n)) return false;
        state->sent += n;
        self->CountBytes(path, n);
        return true;
      };
      size_t pos = 0;
      if (mid && !state->fired && state->sent + chunk.size() >= mid->after_bytes) {
        pos = static_cast<size_t>(mid->after_bytes - state->sent);
        if (!write(chunk.data(), pos)) return false;
        state->fired = true;
        switch (mid->action) {
          case FaultRule::Action::kStallMidBody:
            if (!self->SleepUnlessStopped(mid->delay)) return false;
            break;
          case FaultRule::Action::kResetMidBody:
            return false;  // cpp-httplib drops the connection
          case FaultRule::Action::kTruncateBody:
            sink.done();
            return true;
          default:
            break;
        }
      }
      return write(chunk.data() + pos, chunk.size() - pos);
    };
    auto release = [pipe](bool) { pipe->Finish(); };
    bool truncating = mid && mid->action == Action::kTruncateBody;
    if (length_known && !truncating) {
      res.set_content_provider(
          static_cast<size_t>(length), content_type,
          [pump](size_t, size_t, httplib::DataSink& sink) { return pump(sink, false); }, release);
    } else {
      res.set_chunked_content_provider(
          content_type, [pump](size_t, httplib::DataSink& sink) { return pump(sink, true); },
          release);
    }
  });

  p->port_ = svr.bind_to_any_port("127.0.0.1");
  if (p->port_ <= 0) {
    return absl::UnavailableError("fault proxy cannot bind a port on 127.0.0.1");
  }
  p->impl_->listener = std::thread([self] { self->impl_->server.listen_after_bind(); });
  while (!svr.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  log->info("fault proxy on {} forwarding to {}", p->address(), options.upstream);
  return p;
}

FaultProxy::~FaultProxy() { Stop(); }

void FaultProxy::Stop() {
  {
    absl::MutexLock l(&mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  if (!impl_) return;
  impl_->server.stop();
  if (impl_->listener.joinable()) impl_->listener.join();
}

std::string FaultProxy::address() const { return absl::StrCat("127.0.0.1:", port_); }

void FaultProxy::AddRule(FaultRule rule) {
  absl::MutexLock l(&mu_);
  std::regex re(rule.path_regex.empty() ? std::string(".*") : rule.path_regex);
  rules_.push_back(ArmedRule{std::move(rule), std::move(re), 0});
}

void FaultProxy::ClearRules() {
  absl::MutexLock l(&mu_);
  rules_.clear();
}

std::optional<FaultRule> FaultProxy::Pick(const std::string& method, const std::string& path,
                                          uint64_t index) {
  absl::MutexLock l(&mu_);
  for (ArmedRule& armed : rules_) {
    const FaultRule& r = armed.rule;
    if (!r.method.empty() && r.method != method) continue;
    bool mid_body = r.action == FaultRule::Action::kStallMidBody ||
                    r.action == FaultRule::Action::kResetMidBody ||
                    r.action == FaultRule::Action::kTruncateBody;
    if (mid_body && method == "HEAD") continue;  // no body to misbehave in
    if (!r.path_regex.empty() && !std::regex_search(path, armed.path)) continue;
    if (!r.request_indexes.empty() && std::find(r.request_indexes.begin(), r.request_indexes.end(),
                                                index) == r.request_indexes.end()) {
      continue;
    }
    if (r.times >= 0 && armed.fired >= r.times) continue;
    if (r.probability < 1.0 &&
        std::uniform_real_distribution<double>(0.0, 1.0)(rng_) >= r.probability) {
      continue;
    }
    armed.fired++;
    return r;
  }
  return std::nullopt;
}

void FaultProxy::CountBytes(const std::string& path, uint64_t n) {
  absl::MutexLock l(&mu_);
  counts_[path].body_bytes += n;
}

FaultProxy::PathCounts FaultProxy::Counts(const std::string& path) const {
  absl::MutexLock l(&mu_);
  auto it = counts_.find(path);
  return it == counts_.end() ? PathCounts{} : it->second;
}

std::map<std::string, FaultProxy::PathCounts> FaultProxy::AllCounts() const {
  absl::MutexLock l(&mu_);
  return counts_;
}

uint64_t FaultProxy::faults_injected(FaultRule::Action action) const {
  absl::MutexLock l(&mu_);
  auto it = faults_by_action_.find(action);
  return it == faults_by_action_.end() ? 0 : it->second;
}

void FaultProxy::SetRateLimits(uint64_t per_connection, uint64_t total) {
  absl::MutexLock l(&mu_);
  rate_per_connection_ = per_connection;
  rate_total_ = total;
}

bool FaultProxy::Pace(absl::Time start, uint64_t sent, uint64_t n, uint64_t rate_per_connection) {
  // Sleeping below a couple of milliseconds costs more than it shapes: let small
  // debts accumulate and pay them in one sleep.
  constexpr absl::Duration kSlack = absl::Milliseconds(2);
  absl::Time until = absl::InfinitePast();
  if (rate_per_connection > 0) {
    until = start + absl::Seconds(static_cast<double>(sent + n) /
                                  static_cast<double>(rate_per_connection));
  }
  {
    absl::MutexLock l(&mu_);
    if (rate_total_ > 0) {
      // A shared virtual clock: every byte anyone sends pushes it forward.
      absl::Time now = absl::Now();
      total_next_free_ = std::max(total_next_free_, now - kSlack) +
                         absl::Seconds(static_cast<double>(n) / static_cast<double>(rate_total_));
      until = std::max(until, total_next_free_);
    }
  }
  absl::Duration wait = until - absl::Now();
  if (wait <= kSlack) return !Stopping();
  return SleepUnlessStopped(wait);
}

bool FaultProxy::Stopping() const {
  absl::MutexLock l(&mu_);
  return stopping_;
}

bool FaultProxy::SleepUnlessStopped(absl::Duration d) {
  // Real time on purpose: the proxy misbehaves towards real clients over real sockets.
  absl::Time until = absl::Now() + d;
  absl::MutexLock l(&mu_);
  while (!stopping_) {
    absl::Duration left = until - absl::Now();
    if (left <= absl::ZeroDuration()) return true;
    mu_.AwaitWithTimeout(absl::Condition(&stopping_), left);
  }
  return false;
}

}  // namespace shoal
