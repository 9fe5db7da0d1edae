#include "common/registry_auth.h"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace shoal {

AuthChallenge ParseAuthChallenge(absl::string_view header) {
  AuthChallenge c;
  header = absl::StripAsciiWhitespace(header);
  size_t sp = header.find(' ');
  std::string scheme = absl::AsciiStrToLower(header.substr(0, sp));
  if (scheme == "basic") {
    c.scheme = AuthChallenge::Scheme::kBasic;
  } else if (scheme == "bearer") {
    c.scheme = AuthChallenge::Scheme::kBearer;
  } else {
    return c;
  }
  if (sp == absl::string_view::npos) return c;
  absl::string_view rest = header.substr(sp + 1);
  // key=value or key="quoted, value" pairs separated by commas.
  size_t i = 0;
  while (i < rest.size()) {
    while (i < rest.size() && (rest[i] == ' ' || rest[i] == ',' || rest[i] == '\t')) ++i;
    size_t eq = rest.find('=', i);
    if (eq == absl::string_view::npos) break;
    std::string key = absl::AsciiStrToLower(absl::StripAsciiWhitespace(rest.substr(i, eq - i)));
    i = eq + 1;
    std::string value;
    if (i < rest.size() && rest[i] == '"') {
      ++i;
      while (i < rest.size() && rest[i] != '"') {
        if (rest[i] == '\\' && i + 1 < rest.size()) ++i;
        value.push_back(rest[i++]);
      }
      ++i;  // closing quote
    } else {
      size_t end = rest.find(',', i);
      if (end == absl::string_view::npos) end = rest.size();
      value = std::string(absl::StripAsciiWhitespace(rest.substr(i, end - i)));
      i = end;
    }
    if (key == "realm") c.realm = value;
    if (key == "service") c.service = value;
    if (key == "scope") c.scope = value;
  }
  return c;
}

std::string BasicAuthorization(const RegistryCredentials& creds) {
  return absl::StrCat("Basic ",
                      absl::Base64Escape(absl::StrCat(creds.username, ":", creds.password)));
}

std::string PullScope(absl::string_view repository) {
  return absl::StrCat("repository:", repository, ":pull");
}

absl::StatusOr<BearerToken> ParseTokenResponse(absl::string_view body, absl::Time now) {
  nlohmann::json j = nlohmann::json::parse(body.begin(), body.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return absl::UnavailableError("token endpoint answered with something that is not JSON");
  }
  BearerToken t;
  for (const char* key : {"token", "access_token"}) {
    auto it = j.find(key);
    if (it != j.end() && it->is_string() && !it->get<std::string>().empty()) {
      t.token = it->get<std::string>();
      break;
    }
  }
  if (t.token.empty()) {
    return absl::UnavailableError("token endpoint answered without a token");
  }
  int64_t expires_in = 60;
  auto it = j.find("expires_in");
  if (it != j.end() && it->is_number_integer() && it->get<int64_t>() > 0) {
    expires_in = it->get<int64_t>();
  }
  // Renew a little early so a token never expires between cache lookup and use.
  absl::Duration life = absl::Seconds(expires_in);
  t.expires = now + life - std::min(absl::Seconds(10), life / 4);
  return t;
}

std::optional<absl::Duration> ParseRetryAfter(absl::string_view value, absl::Time now) {
  value = absl::StripAsciiWhitespace(value);
  if (value.empty()) return std::nullopt;
  int64_t seconds = 0;
  if (absl::SimpleAtoi(value, &seconds)) {
    return seconds < 0 ? absl::ZeroDuration() : absl::Seconds(seconds);
  }
  absl::Time when;
  std::string err;
  // IMF-fixdate, the form HTTP/1.1 senders must use: "Sun, 06 Nov 1994 08:49:37 GMT".
  if (!absl::ParseTime("%a, %d %b %Y %H:%M:%S GMT", std::string(value), absl::UTCTimeZone(), &when,
                       &err)) {
    return std::nullopt;
  }
  return std::max(absl::ZeroDuration(), when - now);
}

std::string RegistryAuthCache::HeaderFor(const std::string& registry, const std::string& scope,
                                         const RegistryCredentials& creds, absl::Time now) {
  absl::MutexLock l(&mu_);
  auto s = scheme_.find(registry);
  if (s == scheme_.end()) return "";
  if (s->second.scheme == AuthChallenge::Scheme::kBasic) {
    return creds.empty() ? "" : BasicAuthorization(creds);
  }
  auto t = tokens_.find({registry, scope});
  if (t == tokens_.end()) return "";
  if (t->second.expires <= now) {
    tokens_.erase(t);
    return "";
  }
  return absl::StrCat("Bearer ", t->second.token);
}

std::optional<AuthChallenge> RegistryAuthCache::BearerChallenge(const std::string& registry) {
  absl::MutexLock l(&mu_);
  auto s = scheme_.find(registry);
  if (s == scheme_.end() || s->second.scheme != AuthChallenge::Scheme::kBearer) return std::nullopt;
  return s->second;
}

void RegistryAuthCache::RememberBasic(const std::string& registry) {
  absl::MutexLock l(&mu_);
  AuthChallenge c;
  c.scheme = AuthChallenge::Scheme::kBasic;
  scheme_[registry] = c;
}

void RegistryAuthCache::RememberBearer(const std::string& registry,
                                       const AuthChallenge& challenge) {
  absl::MutexLock l(&mu_);
  AuthChallenge c = challenge;
  c.scope.clear();  // the scope belongs to one request; realm and service to the registry
  scheme_[registry] = c;
}

void RegistryAuthCache::StoreToken(const std::string& registry, const std::string& scope,
                                   BearerToken token) {
  absl::MutexLock l(&mu_);
  tokens_[{registry, scope}] = std::move(token);
}

void RegistryAuthCache::DropToken(const std::string& registry, const std::string& scope) {
  absl::MutexLock l(&mu_);
  tokens_.erase({registry, scope});
}

}  // namespace shoal
