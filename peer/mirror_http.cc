#include "peer/mirror_http.h"

namespace shoal {

void ReplyError(httplib::Response& res, const OciError& error, MirrorStats& stats) {
  res.status = error.http_status;
  res.set_content(OciErrorBody(error), "application/json");
  stats.errors.fetch_add(1);
}

void TakeOverRangeHandling(const httplib::Request& req) {
  const_cast<httplib::Request&>(req).ranges.clear();
}

bool IsHead(const httplib::Request& req) { return req.method == "HEAD"; }

}  // namespace shoal
