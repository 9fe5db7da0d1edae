// OriginClient over libcurl: OCI distribution API calls with anonymous, Basic and
// Bearer-token authentication (tokens cached per registry and scope), ranged blob
// GETs streamed to the caller with exact byte accounting, and HTTP answers mapped
// to absl codes whose messages name the registry, repository, digest and status.
#include <algorithm>
#include <memory>
#include <nlohmann/json.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "common/clock.h"
#include "common/hashing.h"
#include "common/http_exchange.h"
#include "common/logging.h"
#include "common/origin_client.h"
#include "common/registry_auth.h"
#include "common/retry_policy.h"

namespace shoal {
namespace {

constexpr size_t kErrorBodyCap = 64 << 10;
constexpr size_t kManifestCap = 4 << 20;  // the distribution spec's own limit

std::string ShortDigest(absl::string_view digest) {
  size_t colon = digest.find(':');
  if (colon == absl::string_view::npos || digest.size() <= colon + 13) return std::string(digest);
  return absl::StrCat(digest.substr(0, colon + 13), "…");
}

std::string PercentEncode(absl::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (absl::ascii_isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

absl::Status WithContext(const absl::Status& s, absl::string_view context) {
  return absl::Status(s.code(), absl::StrCat(context, ": ", s.message()));
}

// The registry's own explanation from an error body ({"errors":[{"code","message"}]}).
std::string RegistryErrorDetail(const std::string& body) {
  nlohmann::json j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("errors") || !j["errors"].is_array() ||
      j["errors"].empty() || !j["errors"][0].is_object()) {
    return "";
  }
  const auto& e = j["errors"][0];
  std::string code = e.value("code", "");
  std::string msg = e.value("message", "");
  return absl::StrCat(code, code.empty() || msg.empty() ? "" : " ", msg);
}

class HttpOriginClient : public OriginClient {
 public:
  HttpOriginClient(OriginClientOptions options, RegistryCredentials creds)
      : opts_(std::move(options)),
        creds_(creds.empty() ? opts_.default_credentials : std::move(creds)),
        log_(Logger("origin")) {}

  absl::StatusOr<uint64_t> BlobSize(const OriginRepo& repo, absl::string_view digest) override;
  RangeResult FetchRange(const OriginRepo& repo, absl::string_view digest, uint64_t offset,
                         uint64_t length, const ByteSink& sink,
                         const std::atomic<bool>* cancel) override;
  absl::StatusOr<ManifestResponse> GetManifest(const OriginRepo& repo, absl::string_view reference,
                                               const std::vector<std::string>& accept,
                                               bool head_only) override;

 private:
  std::string Url(const OriginRepo& repo, absl::string_view kind, absl::string_view ref) const {
    bool insecure = std::find(opts_.insecure_registries.begin(), opts_.insecure_registries.end(),
                              repo.registry) != opts_.insecure_registries.end();
    return absl::StrCat(insecure ? "http://" : "https://", repo.registry, "/v2/", repo.repository,
                        "/", kind, "/", ref);
  }
  HttpRequest BaseRequest(uint64_t expected_bytes) const {
    HttpRequest r;
    r.connect_timeout = opts_.connect_timeout;
    r.stall_timeout = opts_.stall_timeout;
    r.deadline = opts_.deadline_base +
                 absl::Seconds(static_cast<double>(expected_bytes) /
                               static_cast<double>(std::max<uint64_t>(opts_.min_rate, 1)));
    r.user_agent = opts_.user_agent;
    return r;
  }
  HttpResponse Authenticated(const OriginRepo& repo, const HttpRequest& req, const BodyRoute& route,
                             const BodySink& sink, size_t cap);
  absl::Status FetchToken(const std::string& registry, const AuthChallenge& challenge,
                          const std::string& scope);
  absl::Status HttpError(const HttpResponse& resp, const OriginRepo& repo,
                         absl::string_view what) const;

  const OriginClientOptions opts_;
  const RegistryCredentials creds_;  // never logged
  std::shared_ptr<spdlog::logger> log_;
  HttpExchanger http_;
  RegistryAuthCache auth_;
};

HttpResponse HttpOriginClient::Authenticated(const OriginRepo& repo, const HttpRequest& req,
                                             const BodyRoute& route, const BodySink& sink,
                                             size_t cap) {
  const std::string scope = PullScope(repo.repository);
  Clock& clock = Clock::Real();
  if (auth_.HeaderFor(repo.registry, scope, creds_, clock.Now()).empty()) {
    // A token registry we have met before: get this scope's token up front.
    if (auto challenge = auth_.BearerChallenge(repo.registry)) {
      (void)FetchToken(repo.registry, *challenge, scope);
    }
  }
  for (int round = 0;; ++round) {
    HttpRequest r = req;
    std::string authorization = auth_.HeaderFor(repo.registry, scope, creds_, clock.Now());
    if (!authorization.empty()) r.headers.push_back(absl::StrCat("Authorization: ", authorization));
    absl::Time start = clock.Now();
    HttpResponse resp = http_.Perform(r, route, sink, cap);
    log_->debug("{} {}/v2/{}/… range={} -> {} ({} bytes in {})", r.method, repo.registry,
                repo.repository, r.range.empty() ? "-" : r.range, resp.status, resp.received,
                absl::FormatDuration(clock.Now() - start));
    // A 401 body is buffered, never streamed, so asking again cannot duplicate bytes.
    if (resp.status != 401 || round > 0 || resp.streamed > 0) return resp;
    AuthChallenge challenge = ParseAuthChallenge(resp.Header("www-authenticate"));
    if (challenge.scheme == AuthChallenge::Scheme::kBasic) {
      if (creds_.empty() || !authorization.empty()) return resp;
      auth_.RememberBasic(repo.registry);
    } else if (challenge.scheme == AuthChallenge::Scheme::kBearer && !challenge.realm.empty()) {
      auth_.RememberBearer(repo.registry, challenge);
      auth_.DropToken(repo.registry, scope);
      challenge.scope = challenge.scope.empty() ? scope : challenge.scope;
      absl::Status st = FetchToken(repo.registry, challenge, scope);
      if (!st.ok()) {
        resp.transport = st;
        return resp;
      }
    } else {
      return resp;
    }
  }
}

absl::Status HttpOriginClient::FetchToken(const std::string& registry,
                                          const AuthChallenge& challenge,
                                          const std::string& scope) {
  const std::string& want_scope = challenge.scope.empty() ? scope : challenge.scope;
  HttpRequest r = BaseRequest(1 << 20);
  r.url = absl::StrCat(challenge.realm, absl::StrContains(challenge.realm, '?') ? "&" : "?",
                       "service=", PercentEncode(challenge.service),
                       "&scope=", PercentEncode(want_scope));
  if (!creds_.empty())
    r.headers.push_back(absl::StrCat("Authorization: ", BasicAuthorization(creds_)));
  HttpResponse resp = http_.Perform(r, nullptr, nullptr, 1 << 20);
  std::string realm = challenge.realm.substr(0, challenge.realm.find('?'));
  if (!resp.transport.ok()) {
    return WithContext(resp.transport,
                       absl::StrCat("cannot get a token for ", registry, " from ", realm));
  }
  if (resp.status == 401 || resp.status == 403) {
    std::string msg = absl::StrCat(
        "token endpoint ", realm, " answered ", resp.status, " for ", registry, " scope ",
        want_scope, "; ",
        creds_.empty() ? "the registry needs credentials" : "check the registry credentials");
    return resp.status == 401 ? absl::UnauthenticatedError(msg) : absl::PermissionDeniedError(msg);
  }
  if (resp.status != 200) {
    return absl::UnavailableError(
        absl::StrCat("token endpoint ", realm, " answered ", resp.status, " for ", registry));
  }
  auto token = ParseTokenResponse(resp.body, Clock::Real().Now());
  if (!token.ok()) {
    return WithContext(token.status(), absl::StrCat("token for ", registry, " from ", realm));
  }
  auth_.StoreToken(registry, scope, *std::move(token));
  return absl::OkStatus();
}

absl::Status HttpOriginClient::HttpError(const HttpResponse& resp, const OriginRepo& repo,
                                         absl::string_view what) const {
  std::string msg = absl::StrCat("origin ", repo.registry, " answered ", resp.status, " for ", what,
                                 " in ", repo.repository);
  std::string detail = RegistryErrorDetail(resp.body);
  if (!detail.empty()) absl::StrAppend(&msg, " (", detail, ")");
  int s = resp.status;
  if (s == 401) {
    return absl::UnauthenticatedError(absl::StrCat(
        msg, creds_.empty() ? "; the registry needs credentials: pass them with the request"
                            : "; the registry refused the credentials"));
  }
  if (s == 403) return absl::PermissionDeniedError(absl::StrCat(msg, "; no pull access"));
  if (s == 404) return absl::NotFoundError(msg);
  if (s == 416) return absl::OutOfRangeError(msg);
  if (s == 408 || s == 425 || s == 429 || (s >= 500 && s != 501 && s != 505)) {
    absl::Status st = absl::UnavailableError(msg);
    if (auto ra = ParseRetryAfter(resp.Header("retry-after"), Clock::Real().Now())) {
      SetRetryAfter(st, *ra);
    }
    return st;
  }
  if (s == 501 || s == 505) return absl::UnimplementedError(msg);
  return absl::FailedPreconditionError(msg);
}

absl::StatusOr<uint64_t> HttpOriginClient::BlobSize(const OriginRepo& repo,
                                                    absl::string_view digest) {
  std::string what = ShortDigest(digest);
  HttpRequest r = BaseRequest(0);
  r.method = "HEAD";
  r.url = Url(repo, "blobs", digest);
  HttpResponse resp = Authenticated(repo, r, nullptr, nullptr, kErrorBodyCap);
  uint64_t size = 0;
  if (resp.transport.ok() && resp.status == 200 &&
      absl::SimpleAtoi(resp.Header("content-length"), &size)) {
    return size;
  }
  if (resp.transport.ok() && (resp.status == 200 || resp.status == 405)) {
    // No usable HEAD: ask for the first byte and read the total from Content-Range.
    r.method = "GET";
    r.range = "0-0";
    resp = Authenticated(repo, r, nullptr, nullptr, 1);
    absl::string_view range = resp.Header("content-range");
    size_t slash = range.rfind('/');
    if (resp.transport.ok() && resp.status == 206 && slash != absl::string_view::npos &&
        absl::SimpleAtoi(range.substr(slash + 1), &size)) {
      return size;
    }
  }
  if (!resp.transport.ok()) {
    return WithContext(resp.transport,
                       absl::StrCat("size of ", what, " in ", repo.registry, "/", repo.repository));
  }
  if (resp.status >= 200 && resp.status < 300) {
    return absl::UnavailableError(absl::StrCat(
        "origin ", repo.registry, " did not say the size of ", what, " in ", repo.repository));
  }
  return HttpError(resp, repo, what);
}

OriginClient::RangeResult HttpOriginClient::FetchRange(const OriginRepo& repo,
                                                       absl::string_view digest, uint64_t offset,
                                                       uint64_t length, const ByteSink& sink,
                                                       const std::atomic<bool>* cancel) {
  RangeResult result;
  if (length == 0) return result;
  const std::string what = absl::StrCat(ShortDigest(digest), " bytes ", RangeSpec(offset, length));
  HttpRequest r = BaseRequest(length);
  r.url = Url(repo, "blobs", digest);
  r.range = RangeSpec(offset, length);
  r.cancel = cancel;
  uint64_t delivered = 0;
  bool got_all_early = false;  // the origin sent more than asked; we stopped it
  bool receiver_stopped = false;
  BodyRoute route = [&](const HttpResponse& so_far) -> absl::StatusOr<bool> {
    if (so_far.status == 206) {
      absl::string_view cr = so_far.Header("content-range");  // "bytes first-last/total"
      uint64_t first = 0;
      absl::string_view spec = absl::StripPrefix(cr, "bytes ");
      if (!absl::SimpleAtoi(spec.substr(0, spec.find('-')), &first) || first != offset) {
        return absl::UnavailableError(absl::StrCat("origin ", repo.registry, " answered range '",
                                                   cr, "' when asked for ", what));
      }
      return true;
    }
    if (so_far.status == 200) {
      uint64_t whole = 0;
      bool known = absl::SimpleAtoi(so_far.Header("content-length"), &whole);
      if (offset != 0 || (known && whole != length)) {
        return absl::FailedPreconditionError(
            absl::StrCat("origin ", repo.registry, " ignored the Range request for ", what, " in ",
                         repo.repository, " and sent the whole blob; shoal needs ranged GETs"));
      }
      return true;
    }
    return false;  // an error answer: keep its body for the message
  };
  BodySink body = [&](const char* data, size_t n) {
    uint64_t take = std::min<uint64_t>(n, length - delivered);
    if (take > 0 && !sink(offset + delivered, data, static_cast<size_t>(take))) {
      receiver_stopped = true;
      return false;
    }
    delivered += take;
    if (take < n) got_all_early = true;
    return take == n;
  };
  HttpResponse resp = Authenticated(repo, r, route, body, kErrorBodyCap);
  result.bytes = delivered;
  result.http_status = resp.status;
  if (got_all_early) return result;
  if (receiver_stopped) {
    result.status = absl::CancelledError(absl::StrCat("receiver stopped the transfer of ", what));
  } else if (!resp.transport.ok() && delivered == 0 &&
             (absl::IsUnauthenticated(resp.transport) ||
              absl::IsPermissionDenied(resp.transport))) {
    result.status = resp.transport;  // the token endpoint refused: nothing broke mid-body
  } else if (!resp.transport.ok()) {
    result.status = WithContext(
        resp.transport, absl::StrCat("origin ", repo.registry, " ", what, " in ", repo.repository,
                                     " broke after ", delivered, " of ", length, " bytes"));
  } else if (resp.status == 206 || resp.status == 200) {
    if (delivered < length) {
      result.status = absl::UnavailableError(
          absl::StrCat("origin ", repo.registry, " sent ", delivered, " of ", length, " bytes for ",
                       what, " in ", repo.repository, " and ended the answer"));
    }
  } else {
    result.status = HttpError(resp, repo, what);
    result.retry_after = RetryAfterOf(result.status);
  }
  return result;
}

absl::StatusOr<ManifestResponse> HttpOriginClient::GetManifest(
    const OriginRepo& repo, absl::string_view reference, const std::vector<std::string>& accept,
    bool head_only) {
  HttpRequest r = BaseRequest(kManifestCap);
  r.method = head_only ? "HEAD" : "GET";
  r.url = Url(repo, "manifests", reference);
  if (!accept.empty()) r.headers.push_back(absl::StrCat("Accept: ", absl::StrJoin(accept, ", ")));
  HttpResponse resp = Authenticated(repo, r, nullptr, nullptr, kManifestCap + 1);
  std::string what = absl::StrCat("manifest ", reference);
  if (!resp.transport.ok()) {
    return WithContext(resp.transport,
                       absl::StrCat(what, " in ", repo.registry, "/", repo.repository));
  }
  if (resp.status != 200) return HttpError(resp, repo, what);
  if (resp.body.size() > kManifestCap) {
    return absl::FailedPreconditionError(
        absl::StrCat(what, " in ", repo.registry, "/", repo.repository, " is larger than 4 MiB"));
  }
  ManifestResponse m;
  m.body = std::move(resp.body);
  std::string type = resp.Header("content-type");
  m.media_type = std::string(absl::StripAsciiWhitespace(type.substr(0, type.find(';'))));
  m.digest = resp.Header("docker-content-digest");
  bool by_digest = absl::StartsWith(reference, "sha256:");
  if (!head_only) {
    std::string computed = absl::StrCat("sha256:", Sha256Hex(m.body));
    // A manifest asked for by digest must be exactly those bytes, whatever headers say.
    if (by_digest && computed != reference) {
      return absl::DataLossError(absl::StrCat("origin ", repo.registry, " sent ", what, " in ",
                                              repo.repository, " whose bytes hash to ", computed));
    }
    if (m.digest.empty()) m.digest = computed;
  } else if (m.digest.empty() && by_digest) {
    m.digest = std::string(reference);
  }
  return m;
}

}  // namespace

std::unique_ptr<OriginClient> MakeHttpOriginClient(const OriginClientOptions& options,
                                                   RegistryCredentials credentials) {
  return std::make_unique<HttpOriginClient>(options, std::move(credentials));
}

}  // namespace shoal
