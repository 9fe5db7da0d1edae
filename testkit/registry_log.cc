#include "testkit/registry_log.h"

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"

namespace shoal::testkit {
namespace {

// "/v2/<name>/blobs/<digest>" or "/v2/<name>/manifests/<ref>" -> kind and last part.
bool SplitRegistryPath(absl::string_view uri, absl::string_view* kind,
                       absl::string_view* reference) {
  absl::string_view path = uri.substr(0, uri.find('?'));
  if (!absl::StartsWith(path, "/v2/")) return false;
  size_t last = path.rfind('/');
  if (last == absl::string_view::npos || last < 4) return false;
  size_t before = path.rfind('/', last - 1);
  if (before == absl::string_view::npos || before < 3) return false;
  *kind = path.substr(before + 1, last - before - 1);
  *reference = path.substr(last + 1);
  // The name must be non-empty: /v2/<name>/<kind>/<ref>.
  return before > 4 && !reference->empty();
}

void Account(RegistryAccessLog& log, const RegistryRequest& r) {
  absl::string_view kind, reference;
  if (!SplitRegistryPath(r.uri, &kind, &reference)) return;
  RequestCounts* counts = nullptr;
  if (kind == "blobs" && absl::StartsWith(reference, "sha256:")) {
    counts = &log.blobs[std::string(reference)];
  } else if (kind == "manifests") {
    counts = &log.manifests[std::string(reference)];
  } else {
    return;  // uploads and everything else
  }
  if (r.method == "GET") {
    ++counts->get;
    if (r.status >= 200 && r.status < 300) counts->bytes_served += r.written;
  } else if (r.method == "HEAD") {
    ++counts->head;
  }
  if (r.status >= 400) ++counts->failed;
}

std::optional<RegistryRequest> RequestFromFields(
    const std::function<std::string(const char*)>& field) {
  // Answers >= 400 are logged only as "response completed with error".
  std::string msg = field("msg");
  if (msg != "response completed" && msg != "response completed with error") return std::nullopt;
  RegistryRequest r;
  r.method = field("http.request.method");
  r.uri = field("http.request.uri");
  r.user_agent = field("http.request.useragent");
  if (r.method.empty() || r.uri.empty()) return std::nullopt;
  (void)absl::SimpleAtoi(field("http.response.status"), &r.status);
  (void)absl::SimpleAtoi(field("http.response.written"), &r.written);
  return r;
}

std::optional<RegistryRequest> ParseJsonLine(absl::string_view line) {
  auto j = nlohmann::json::parse(line.begin(), line.end(), nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return std::nullopt;
  return RequestFromFields([&](const char* key) -> std::string {
    auto it = j.find(key);
    if (it == j.end()) return "";
    if (it->is_string()) return it->get<std::string>();
    if (it->is_number_integer()) return std::to_string(it->get<int64_t>());
    if (it->is_number()) return std::to_string(static_cast<int64_t>(it->get<double>()));
    return it->dump();
  });
}

}  // namespace

std::map<std::string, std::string> ParseLogfmt(absl::string_view line) {
  std::map<std::string, std::string> fields;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && line[i] == ' ') ++i;
    size_t eq = line.find('=', i);
    if (eq == absl::string_view::npos) break;
    std::string key(line.substr(i, eq - i));
    i = eq + 1;
    std::string value;
    if (i < line.size() && line[i] == '"') {
      ++i;
      while (i < line.size() && line[i] != '"') {
        if (line[i] == '\\' && i + 1 < line.size()) ++i;
        value.push_back(line[i++]);
      }
      ++i;  // closing quote
    } else {
      size_t end = line.find(' ', i);
      if (end == absl::string_view::npos) end = line.size();
      value = std::string(line.substr(i, end - i));
      i = end;
    }
    if (key.find(' ') == std::string::npos) fields[key] = std::move(value);
  }
  return fields;
}

RegistryAccessLog ParseRegistryLog(absl::string_view log_text) {
  RegistryAccessLog log;
  for (absl::string_view line : absl::StrSplit(log_text, '\n', absl::SkipEmpty())) {
    line = absl::StripAsciiWhitespace(line);
    if (!absl::StrContains(line, "response completed")) continue;
    std::optional<RegistryRequest> r;
    if (absl::StartsWith(line, "{")) {
      r = ParseJsonLine(line);
    } else {
      auto fields = ParseLogfmt(line);
      r = RequestFromFields([&](const char* key) -> std::string {
        auto it = fields.find(key);
        return it == fields.end() ? "" : it->second;
      });
    }
    if (!r.has_value()) continue;
    Account(log, *r);
    log.requests.push_back(std::move(*r));
  }
  return log;
}

uint64_t RegistryAccessLog::TotalBlobBytesServed() const {
  uint64_t total = 0;
  for (const auto& [digest, counts] : blobs) total += counts.bytes_served;
  return total;
}

uint64_t RegistryAccessLog::BlobBytesServedTo(absl::string_view agent_substr) const {
  uint64_t total = 0;
  for (const RegistryRequest& r : requests) {
    absl::string_view kind, reference;
    if (r.method == "GET" && r.status >= 200 && r.status < 300 &&
        SplitRegistryPath(r.uri, &kind, &reference) && kind == "blobs" &&
        absl::StrContains(r.user_agent, agent_substr)) {
      total += r.written;
    }
  }
  return total;
}

int RegistryAccessLog::TotalManifestRequests() const {
  int total = 0;
  for (const auto& [ref, counts] : manifests) total += counts.get + counts.head;
  return total;
}

RequestCounts RegistryAccessLog::Blob(const std::string& digest) const {
  auto it = blobs.find(digest);
  return it == blobs.end() ? RequestCounts{} : it->second;
}

std::string RegistryAccessLog::Summary() const {
  std::string out = "origin access (GET/HEAD/failed, bytes):\n";
  for (const auto& [digest, c] : blobs) {
    absl::StrAppendFormat(&out, "  blob %s  %d/%d/%d  %d bytes\n", digest.substr(0, 19), c.get,
                          c.head, c.failed, c.bytes_served);
  }
  for (const auto& [ref, c] : manifests) {
    absl::StrAppendFormat(&out, "  manifest %s  %d/%d/%d\n", ref.substr(0, 19), c.get, c.head,
                          c.failed);
  }
  return out;
}

}  // namespace shoal::testkit
