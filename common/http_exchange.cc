#include "common/http_exchange.h"

#include <curl/curl.h>

#include <mutex>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "common/retry_policy.h"

namespace shoal {
namespace {

constexpr size_t kMaxIdleHandles = 16;

struct ExchangeState {
  ExchangeState(const HttpRequest& r, const BodyRoute& rt, const BodySink& s, size_t c)
      : req(r), route(rt), sink(s), cap(c), dog(Clock::Real(), r.stall_timeout, r.deadline) {}
  enum class Mode { kUndecided, kStream, kBuffer };
  const HttpRequest& req;
  const BodyRoute& route;
  const BodySink& sink;
  size_t cap;
  TransferWatchdog dog;
  HttpResponse resp;
  Mode mode = Mode::kUndecided;
  absl::Status abort;  // why a callback stopped the exchange
  bool buffer_full = false;
};

size_t OnHeader(char* buf, size_t size, size_t n, void* user) {
  auto* st = static_cast<ExchangeState*>(user);
  size_t len = size * n;
  absl::string_view line = absl::StripAsciiWhitespace(absl::string_view(buf, len));
  if (absl::StartsWith(line, "HTTP/")) {
    // A new answer (redirect hop, 100 Continue, final): only the last one's headers count.
    st->resp.headers.clear();
    st->mode = ExchangeState::Mode::kUndecided;
    size_t sp = line.find(' ');
    int code = 0;
    if (sp != absl::string_view::npos && absl::SimpleAtoi(line.substr(sp + 1, 3), &code)) {
      st->resp.status = code;
    }
    return len;
  }
  size_t colon = line.find(':');
  if (colon != absl::string_view::npos) {
    std::string name = absl::AsciiStrToLower(line.substr(0, colon));
    st->resp.headers.emplace(std::move(name),
                             std::string(absl::StripAsciiWhitespace(line.substr(colon + 1))));
  }
  return len;
}

size_t OnBody(char* data, size_t size, size_t n, void* user) {
  auto* st = static_cast<ExchangeState*>(user);
  size_t len = size * n;
  st->resp.received += len;
  st->dog.OnBytes(len);
  if (st->mode == ExchangeState::Mode::kUndecided) {
    absl::StatusOr<bool> stream = false;
    if (st->route) stream = st->route(st->resp);
    if (!stream.ok()) {
      st->abort = stream.status();
      return 0;
    }
    st->mode = *stream ? ExchangeState::Mode::kStream : ExchangeState::Mode::kBuffer;
  }
  if (st->mode == ExchangeState::Mode::kStream) {
    if (!st->sink(data, len)) {
      st->resp.sink_refused = true;
      return 0;
    }
    st->resp.streamed += len;
    return len;
  }
  size_t room = st->cap - std::min(st->cap, st->resp.body.size());
  st->resp.body.append(data, std::min(room, len));
  if (len > room) {
    st->buffer_full = true;  // enough to report; do not read a huge error page
    return 0;
  }
  return len;
}

int OnProgress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* st = static_cast<ExchangeState*>(user);
  if (st->req.cancel != nullptr && st->req.cancel->load()) {
    st->abort = absl::CancelledError("transfer cancelled");
    return 1;
  }
  if (auto expired = st->dog.Expired()) {
    st->abort = *expired;
    return 1;
  }
  return 0;
}

std::string WithoutQuery(const std::string& url) { return url.substr(0, url.find('?')); }

absl::Status MapCurlError(CURLcode rc, const char* errbuf, const HttpRequest& req) {
  std::string what = absl::StrCat(req.method, " ", WithoutQuery(req.url),
                                  " failed: ", errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc));
  switch (rc) {
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
    case CURLE_TOO_MANY_REDIRECTS:
      return absl::FailedPreconditionError(what);
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
      return absl::FailedPreconditionError(absl::StrCat(
          what,
          " (TLS verification failed: install the registry's CA certificate, or list the "
          "registry in insecure_registries if it speaks plain HTTP)"));
    default:
      return absl::UnavailableError(what);
  }
}

}  // namespace

std::string RangeSpec(uint64_t offset, uint64_t length) {
  return absl::StrCat(offset, "-", offset + length - 1);
}

HttpExchanger::HttpExchanger() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

HttpExchanger::~HttpExchanger() {
  absl::MutexLock l(&mu_);
  for (void* h : idle_) curl_easy_cleanup(static_cast<CURL*>(h));
}

void* HttpExchanger::Acquire() {
  {
    absl::MutexLock l(&mu_);
    if (!idle_.empty()) {
      void* h = idle_.back();
      idle_.pop_back();
      return h;
    }
  }
  return curl_easy_init();
}

void HttpExchanger::Release(void* handle) {
  // reset keeps the handle's connection cache, so the next request reuses the socket.
  curl_easy_reset(static_cast<CURL*>(handle));
  absl::MutexLock l(&mu_);
  if (idle_.size() < kMaxIdleHandles) {
    idle_.push_back(handle);
  } else {
    curl_easy_cleanup(static_cast<CURL*>(handle));
  }
}

HttpResponse HttpExchanger::Perform(const HttpRequest& req, const BodyRoute& route,
                                    const BodySink& sink, size_t buffer_cap) {
  ExchangeState st(req, route, sink, buffer_cap);
  CURL* h = static_cast<CURL*>(Acquire());
  if (h == nullptr) {
    st.resp.transport = absl::ResourceExhaustedError("libcurl could not create a handle");
    return std::move(st.resp);
  }
  char errbuf[CURL_ERROR_SIZE] = {0};
  curl_slist* headers = nullptr;
  for (const auto& hdr : req.headers) headers = curl_slist_append(headers, hdr.c_str());
  curl_easy_setopt(h, CURLOPT_URL, req.url.c_str());
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, req.follow_redirects ? 1L : 0L);
  curl_easy_setopt(h, CURLOPT_MAXREDIRS, 10L);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(absl::ToInt64Milliseconds(req.connect_timeout)));
  curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(h, CURLOPT_BUFFERSIZE, 256L << 10);
  curl_easy_setopt(h, CURLOPT_USERAGENT, req.user_agent.c_str());
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
  if (req.method == "HEAD") curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
  if (!req.range.empty()) curl_easy_setopt(h, CURLOPT_RANGE, req.range.c_str());
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &OnHeader);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &st);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &OnBody);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &st);
  curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, &OnProgress);
  curl_easy_setopt(h, CURLOPT_XFERINFODATA, &st);

  CURLcode rc = curl_easy_perform(h);
  long code = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
  if (code != 0) st.resp.status = static_cast<int>(code);
  curl_slist_free_all(headers);
  Release(h);

  if (rc == CURLE_OK || st.buffer_full) {
    st.resp.transport = absl::OkStatus();
  } else if (!st.abort.ok()) {
    st.resp.transport = st.abort;
  } else if (st.resp.sink_refused) {
    st.resp.transport = absl::CancelledError("the receiver stopped the transfer");
  } else {
    st.resp.transport = MapCurlError(rc, errbuf, req);
  }
  return std::move(st.resp);
}

}  // namespace shoal
