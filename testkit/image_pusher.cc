#include "testkit/image_pusher.h"

#include <curl/curl.h>

#include <cstdio>
#include <memory>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "testkit/net_util.h"

namespace shoal::testkit {
namespace {

constexpr absl::Duration kSmallCallTimeout = absl::Seconds(60);

HttpCall Call(const PushTarget& target, const std::string& method, const std::string& url) {
  HttpCall call;
  call.method = method;
  call.url = url;
  call.username = target.username;
  call.password = target.password;
  call.timeout = kSmallCallTimeout;
  return call;
}

std::string ErrorDetail(const HttpResult& r) {
  return absl::StrCat("HTTP ", r.status, " ", r.body.substr(0, 400));
}

// Location may be absolute or relative to the registry.
std::string AbsoluteLocation(const PushTarget& target, const std::string& location) {
  if (absl::StartsWith(location, "http://") || absl::StartsWith(location, "https://")) {
    return location;
  }
  return target.registry_url + location;
}

size_t Discard(char*, size_t size, size_t n, void*) { return size * n; }

// PUT the file as the body, streamed (a multi-GiB layer never sits in memory).
absl::StatusOr<long> PutFile(const PushTarget& target, const std::string& url,
                             const BlobFile& blob) {
  std::unique_ptr<FILE, int (*)(FILE*)> in(fopen(blob.path.c_str(), "rb"), fclose);
  if (in == nullptr) return absl::NotFoundError(absl::StrCat("cannot read blob ", blob.path));
  EnsureCurlInit();
  CURL* curl = curl_easy_init();
  curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/octet-stream");
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(curl, CURLOPT_READDATA, in.get());
  curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(blob.size));
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, Discard);
  // No total timeout for big blobs; give up only when the transfer stalls.
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1024L);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, 60L);
  if (!target.username.empty()) {
    curl_easy_setopt(curl, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
    curl_easy_setopt(curl, CURLOPT_USERNAME, target.username.c_str());
    curl_easy_setopt(curl, CURLOPT_PASSWORD, target.password.c_str());
  }
  CURLcode rc = curl_easy_perform(curl);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  if (rc != CURLE_OK) {
    return absl::UnavailableError(absl::StrCat("PUT ", blob.digest, " to ", target.registry_url,
                                               ": ", curl_easy_strerror(rc)));
  }
  return status;
}

}  // namespace

absl::Status PushBlob(const PushTarget& target, const std::string& repository,
                      const BlobFile& blob) {
  std::string base = absl::StrCat(target.registry_url, "/v2/", repository, "/blobs/");
  auto head = HttpFetch(Call(target, "HEAD", base + blob.digest));
  if (!head.ok()) return head.status();
  if (head->status == 200) return absl::OkStatus();

  auto start = HttpFetch(Call(target, "POST", base + "uploads/"));
  if (!start.ok()) return start.status();
  if (start->status != 202) {
    return absl::FailedPreconditionError(
        absl::StrCat("starting upload of ", blob.digest, " to ", base, ": ", ErrorDetail(*start)));
  }
  std::string location = AbsoluteLocation(target, start->Header("location"));
  std::string put_url =
      absl::StrCat(location, absl::StrContains(location, "?") ? "&" : "?", "digest=", blob.digest);
  auto status = PutFile(target, put_url, blob);
  if (!status.ok()) return status.status();
  if (*status != 201) {
    return absl::FailedPreconditionError(absl::StrCat("uploading ", blob.digest, " (", blob.size,
                                                      " bytes) to ", base, ": HTTP ", *status));
  }
  return absl::OkStatus();
}

absl::Status PushManifest(const PushTarget& target, const std::string& repository,
                          const std::string& reference, const ManifestDoc& manifest) {
  HttpCall call =
      Call(target, "PUT",
           absl::StrCat(target.registry_url, "/v2/", repository, "/manifests/", reference));
  call.headers = {"Content-Type: " + manifest.media_type};
  call.body = manifest.content;
  auto r = HttpFetch(call);
  if (!r.ok()) return r.status();
  if (r->status != 201) {
    return absl::FailedPreconditionError(absl::StrCat("pushing manifest ", repository, ":",
                                                      reference, " to ", target.registry_url, ": ",
                                                      ErrorDetail(*r)));
  }
  return absl::OkStatus();
}

absl::Status PushImage(const BuiltImage& image, const PushTarget& target) {
  const std::string& repo = image.spec.repository;
  for (const BlobFile& blob : image.AllBlobs()) {
    if (auto s = PushBlob(target, repo, blob); !s.ok()) return s;
  }
  if (!image.index.has_value()) {
    return PushManifest(target, repo, image.spec.tag, image.platforms[0].manifest);
  }
  for (const PlatformImage& p : image.platforms) {
    if (auto s = PushManifest(target, repo, p.manifest.digest, p.manifest); !s.ok()) return s;
  }
  return PushManifest(target, repo, image.spec.tag, *image.index);
}

}  // namespace shoal::testkit
