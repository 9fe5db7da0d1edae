// The parts of OCI registry authentication that are plain text handling, kept apart
// from libcurl so they are tested directly:
//  - parsing `WWW-Authenticate: Basic realm=...` / `Bearer realm=...,service=...,scope=...`
//  - parsing a token endpoint's JSON answer ({"token"|"access_token", "expires_in"})
//  - a thread-safe cache of bearer tokens per (registry, scope) until they expire,
//    and of which scheme each registry asked for, so later requests authenticate
//    up front instead of paying an anonymous 401 round trip each time.
//  - Retry-After (delta-seconds or HTTP-date).
// Tokens and passwords are never logged; nothing here logs at all.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/origin_client.h"

namespace shoal {

struct AuthChallenge {
  enum class Scheme { kUnknown, kBasic, kBearer };
  Scheme scheme = Scheme::kUnknown;
  std::string realm;
  std::string service;
  std::string scope;
};

// Parses one WWW-Authenticate header value; kUnknown when it is neither Basic nor Bearer.
AuthChallenge ParseAuthChallenge(absl::string_view header);

// "Basic <base64(user:password)>".
std::string BasicAuthorization(const RegistryCredentials& creds);

// The scope a pull of repository needs: "repository:<repo>:pull".
std::string PullScope(absl::string_view repository);

struct BearerToken {
  std::string token;   // never logged
  absl::Time expires;  // already shortened by a safety margin
};

// Parses the token endpoint's JSON answer received at `now`. expires_in defaults to
// 60 s (distribution spec); the token is treated as expired a little early.
absl::StatusOr<BearerToken> ParseTokenResponse(absl::string_view body, absl::Time now);

// Parses a Retry-After value: delta-seconds or an HTTP-date (relative to now).
// nullopt when absent or unparsable; a date in the past gives zero.
std::optional<absl::Duration> ParseRetryAfter(absl::string_view value, absl::Time now);

class RegistryAuthCache {
 public:
  // The Authorization header value to send up front for (registry, scope), or empty.
  std::string HeaderFor(const std::string& registry, const std::string& scope,
                        const RegistryCredentials& creds, absl::Time now);
  // The bearer challenge a registry last answered with, to fetch a token for a new scope
  // without an anonymous round trip first.
  std::optional<AuthChallenge> BearerChallenge(const std::string& registry);

  void RememberBasic(const std::string& registry);
  void RememberBearer(const std::string& registry, const AuthChallenge& challenge);
  void StoreToken(const std::string& registry, const std::string& scope, BearerToken token);
  void DropToken(const std::string& registry, const std::string& scope);

 private:
  absl::Mutex mu_;
  std::map<std::string, AuthChallenge> scheme_ ABSL_GUARDED_BY(mu_);
  std::map<std::pair<std::string, std::string>, BearerToken> tokens_ ABSL_GUARDED_BY(mu_);
};

}  // namespace shoal
