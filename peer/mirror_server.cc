#include "peer/mirror_server.h"

#include <httplib.h>

#include <chrono>
#include <variant>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/digest.h"
#include "common/logging.h"
#include "peer/mirror_http.h"
#include "peer/mirror_request.h"

namespace shoal {
namespace {

struct HostPort {
  std::string host;
  int port = 0;
};

// "127.0.0.1:65001", "[::1]:65001", "localhost:0".
absl::StatusOr<HostPort> ParseListen(const std::string& listen) {
  size_t colon = listen.rfind(':');
  HostPort out;
  if (colon == std::string::npos || colon == 0 ||
      !absl::SimpleAtoi(listen.substr(colon + 1), &out.port) || out.port < 0 || out.port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("mirror-listen '", listen, "' is not host:port (e.g. 127.0.0.1:65001)"));
  }
  out.host = listen.substr(0, colon);
  if (out.host.size() > 2 && out.host.front() == '[' && out.host.back() == ']') {
    out.host = out.host.substr(1, out.host.size() - 2);
  }
  return out;
}

int64_t WholeSeconds(absl::Duration d) { return std::max<int64_t>(1, absl::ToInt64Seconds(d)); }

}  // namespace

MirrorServer::MirrorServer(MirrorOptions options, BlobStore& store, BlobProvider& provider,
                           OriginClient& origin, ManifestCache& manifests)
    : options_(std::move(options)),
      blobs_(options_, store, provider, stats_, stopping_),
      manifests_(origin, manifests, stats_) {
  if (options_.clock == nullptr) options_.clock = &Clock::Real();
}

MirrorServer::~MirrorServer() { Stop(); }

absl::Status MirrorServer::Start() {
  if (server_) return absl::FailedPreconditionError("the mirror was already started");
  absl::StatusOr<HostPort> listen = ParseListen(options_.listen);
  if (!listen.ok()) return listen.status();
  if (!options_.default_registry.empty()) {
    if (absl::Status s = ValidateRegistryHost(options_.default_registry); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("mirror default registry: ", s.message()));
    }
  }

  server_ = std::make_unique<httplib::Server>();
  size_t threads = static_cast<size_t>(std::max(2, options_.worker_threads));
  server_->new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  server_->set_default_headers({{kApiVersionHeader, kApiVersion}});
  server_->set_tcp_nodelay(true);
  server_->set_keep_alive_max_count(100);
  // httplib keeps an idle connection's worker until this passes, even through stop().
  server_->set_keep_alive_timeout(2);
  server_->set_write_timeout(WholeSeconds(options_.write_timeout), 0);
  server_->set_payload_max_length(1 << 20);  // read-only API: nobody needs to send bodies

  // HEAD requests are routed to the GET handlers.
  server_->Get(
      ".*", [this](const httplib::Request& req, httplib::Response& res) { HandleRead(req, res); });
  auto unsupported = [this](const httplib::Request& req, httplib::Response& res) {
    HandleUnsupportedMethod(req, res);
  };
  server_->Post(".*", unsupported);
  server_->Put(".*", unsupported);
  server_->Patch(".*", unsupported);
  server_->Delete(".*", unsupported);
  server_->Options(".*", unsupported);
  // Errors httplib raises itself (bad request line, unparsable Range, body too large)
  // get an OCI body too; ours already have one.
  httplib::Server::HandlerWithResponse on_error = [this](const httplib::Request& req,
                                                         httplib::Response& res) {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    TakeOverRangeHandling(req);
    OciError error{res.status, res.status == 416 ? oci_code::kRangeInvalid : oci_code::kUnsupported,
                   absl::StrCat("request rejected with HTTP ", res.status), ""};
    res.set_content(OciErrorBody(error), "application/json");
    stats_.errors.fetch_add(1);
    return httplib::Server::HandlerResponse::Handled;
  };
  server_->set_error_handler(std::move(on_error));
  server_->set_logger([](const httplib::Request& req, const httplib::Response& res) {
    Logger("mirror")->debug("{} {} -> {}", req.method, req.target.substr(0, 300), res.status);
  });

  bool bound = listen->port == 0 ? (port_ = server_->bind_to_any_port(listen->host)) > 0
                                 : server_->bind_to_port(listen->host, listen->port);
  if (!bound) {
    server_.reset();
    return absl::FailedPreconditionError(
        absl::StrCat("mirror cannot listen on ", options_.listen,
                     ": address in use or not local? (set --mirror-listen to a free host:port)"));
  }
  if (listen->port != 0) port_ = listen->port;
  thread_ = std::thread([this] {
    server_->listen_after_bind();
    listen_returned_.store(true);
  });
  // httplib's stop() is a no-op until the accept loop runs, so a Stop() right after
  // Start() would hang without this short wait.
  while (!server_->is_running() && !listen_returned_.load()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  Logger("mirror")->info("registry mirror listening on {}:{}{}", listen->host, port_,
                         options_.default_registry.empty()
                             ? ""
                             : absl::StrCat(" (default registry ", options_.default_registry, ")"));
  return absl::OkStatus();
}

void MirrorServer::Stop() {
  if (!server_) return;
  stopping_.store(true);
  server_->stop();
  if (thread_.joinable()) thread_.join();
}

MirrorServer::Counters MirrorServer::counters() const {
  Counters c;
  c.blob_bytes_served = stats_.blob_bytes_served.load();
  c.blobs_served_from_cache = stats_.blobs_served_from_cache.load();
  c.blobs_served_streaming = stats_.blobs_served_streaming.load();
  c.manifest_requests = stats_.manifest_requests.load();
  c.errors = stats_.errors.load();
  return c;
}

void MirrorServer::HandleRead(const httplib::Request& req, httplib::Response& res) {
  TakeOverRangeHandling(req);
  std::variant<MirrorRoute, OciError> parsed = ParseMirrorTarget(req.target);
  if (const OciError* error = std::get_if<OciError>(&parsed)) {
    Logger("mirror")->debug("rejected {} {}: {}", req.method, req.target.substr(0, 300),
                            error->message);
    ReplyError(res, *error, stats_);
    return;
  }
  const MirrorRoute& route = std::get<MirrorRoute>(parsed);

  // containerd names the real registry in ?ns=; it becomes a host we connect to, so
  // it is validated like any other input.
  std::string registry = options_.default_registry;
  if (req.has_param("ns")) {
    registry = req.get_param_value("ns");
    if (absl::Status s = ValidateRegistryHost(registry); !s.ok()) {
      ReplyError(res, {400, oci_code::kNameInvalid, absl::StrCat("?ns=: ", s.message()), ""},
                 stats_);
      return;
    }
  }

  switch (route.kind) {
    case MirrorRouteKind::kBase:
      res.set_content("{}", "application/json");
      return;
    case MirrorRouteKind::kManifest:
      manifests_.Handle(req, res, route, registry);
      return;
    case MirrorRouteKind::kBlob:
      blobs_.Handle(req, res, route, registry);
      return;
  }
}

void MirrorServer::HandleUnsupportedMethod(const httplib::Request& req, httplib::Response& res) {
  res.set_header("Allow", "GET, HEAD");
  ReplyError(res,
             {405, oci_code::kUnsupported,
              absl::StrCat("the shoal mirror is read-only: ", req.method,
                           " is not supported; push to the registry itself"),
              ""},
             stats_);
}

}  // namespace shoal
