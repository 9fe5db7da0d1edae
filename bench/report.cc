#include "bench/report.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "bench/scenario.h"
#include "bench/units.h"

namespace shoal::bench {
namespace {

using nlohmann::json;

constexpr double kGB = 1e9;
// Seconds and ratios are written rounded; consistency checks allow for that.
constexpr double kRoundingSlack = 0.002;

double Round3(double v) { return std::round(v * 1000.0) / 1000.0; }

bool IsShoal(const std::string& name) { return name.rfind("shoal", 0) == 0; }

json DaemonsJson(const SystemResult& s, double delivered_gb) {
  json out = json::object();
  for (const DaemonUsage& d : s.daemons) {
    out[d.role] = {
        {"count", d.count},
        {"cpu_seconds", Round3(d.cpu_seconds)},
        {"cpu_seconds_per_gb", delivered_gb > 0 ? Round3(d.cpu_seconds / delivered_gb) : 0.0},
        {"peak_rss_bytes", d.peak_rss_bytes}};
  }
  return out;
}

json OriginClientsJson(const SystemResult& s) {
  json out = json::object();
  for (const auto& [host, c] : s.origin_clients) {
    out[host] = {{"blob_gets", c.blob_gets}, {"blob_bytes", c.blob_bytes}};
  }
  return out;
}

json OriginRepeatsJson(const SystemResult& s) {
  json out = json::array();
  for (const OriginRepeat& r : s.origin_repeats) {
    out.push_back(
        {{"digest", r.digest}, {"gets", r.gets}, {"bytes", r.bytes}, {"clients", r.clients}});
  }
  return out;
}

json SystemJson(const SystemResult& s, const Report& r) {
  if (!s.ran) return {{"ran", false}, {"skipped", s.skipped_reason}, {"notes", s.notes}};
  json nodes = json::array();
  json node_seconds = json::array();
  std::vector<double> done;
  for (const NodeOutcome& n : s.nodes) {
    json seconds = n.seconds.has_value() ? json(Round3(*n.seconds)) : json(nullptr);
    node_seconds.push_back(seconds);
    if (n.seconds.has_value()) done.push_back(*n.seconds);
    nodes.push_back({{"name", n.name},
                     {"seconds", seconds},
                     {"bytes", n.bytes},
                     {"blobs_verified", n.blobs_verified},
                     {"errors", n.errors}});
  }
  const bool complete = !s.nodes.empty() && done.size() == s.nodes.size();
  const double f = static_cast<double>(r.image.bytes);
  json out = {
      {"ran", true},
      {"complete", complete},
      {"node_seconds", node_seconds},
      {"nodes", nodes},
      {"origin_bytes", s.origin_bytes},
      {"origin_copies", f > 0 ? Round3(static_cast<double>(s.origin_bytes) / f) : 0.0},
      {"origin_requests", s.origin_blob_requests},
      {"origin_done_seconds",
       s.origin_done_seconds.has_value() ? json(Round3(*s.origin_done_seconds)) : json(nullptr)},
      {"origin_manifest_requests", s.origin_manifest_requests},
      {"origin_clients", OriginClientsJson(s)},
      {"origin_repeats", OriginRepeatsJson(s)},
      {"daemons", DaemonsJson(s, f * static_cast<double>(s.nodes.size()) / kGB)},
      {"host_cpu",
       {{"cores", s.host_cpu.cores},
        {"busy", Round3(s.host_cpu.busy)},
        {"seconds_saturated", s.host_cpu.seconds_saturated},
        {"seconds_sampled", s.host_cpu.seconds_sampled},
        {"bench_client_cpu_seconds", Round3(s.host_cpu.bench_client_seconds)}}},
      {"notes", s.notes}};
  if (complete) {
    TimeSummary t = Summarize(done);
    out["last_node_seconds"] = Round3(t.max);
    out["ratio_to_bound"] = Round3(t.max / r.bound.seconds);
    out["min_seconds"] = Round3(t.min);
    out["p50_seconds"] = Round3(t.p50);
    out["p90_seconds"] = Round3(t.p90);
  } else {
    out["last_node_seconds"] = nullptr;
    out["ratio_to_bound"] = nullptr;
  }
  return out;
}

std::string Fixed(const json& v, int digits) {
  if (!v.is_number()) return "—";
  return absl::StrFormat("%.*f", digits, v.get<double>());
}

}  // namespace

double Percentile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  size_t rank = static_cast<size_t>(std::ceil(q * static_cast<double>(sorted.size())));
  return sorted[std::clamp<size_t>(rank, 1, sorted.size()) - 1];
}

TimeSummary Summarize(std::vector<double> seconds) {
  TimeSummary t;
  if (seconds.empty()) return t;
  std::sort(seconds.begin(), seconds.end());
  t.min = seconds.front();
  t.p50 = Percentile(seconds, 0.5);
  t.p90 = Percentile(seconds, 0.9);
  t.max = seconds.back();
  return t;
}

json ReportToJson(const Report& r) {
  json blobs = json::array();
  for (const auto& b : r.image.blobs) blobs.push_back({{"digest", b.digest}, {"size", b.size}});
  json systems = json::object();
  json order = json::array();
  for (const SystemResult& s : r.systems) {
    systems[s.name] = SystemJson(s, r);
    order.push_back(s.name);
  }
  return {{"scenario", r.scenario},
          {"nodes", r.nodes},
          {"image", {{"reference", r.image.reference}, {"bytes", r.image.bytes}, {"blobs", blobs}}},
          {"bound_seconds", Round3(r.bound.seconds)},
          {"bound",
           {{"origin_seconds", Round3(r.bound.origin_seconds)},
            {"node_seconds", Round3(r.bound.node_seconds)},
            {"swarm_seconds", Round3(r.bound.swarm_seconds)},
            {"binding", r.bound.binding}}},
          {"system_order", order},
          {"systems", systems}};
}

std::string MarkdownTables(const json& r) {
  std::string out = absl::StrFormat(
      "Physical bound: %.1f s (%s; origin %.1f s, node %.1f s, total upload %.1f s)\n\n",
      r.value("bound_seconds", 0.0), r["bound"].value("binding", ""),
      r["bound"].value("origin_seconds", 0.0), r["bound"].value("node_seconds", 0.0),
      r["bound"].value("swarm_seconds", 0.0));
  absl::StrAppend(&out,
                  "| system | last node s | × bound | min s | p50 s | p90 s | origin × F | "
                  "origin blob GETs | origin done s | nodes complete |\n"
                  "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  std::string daemons =
      "| system | daemon | count | CPU s | CPU s / GB delivered | peak RSS (max) |\n"
      "|---|---|---:|---:|---:|---:|\n";
  for (const auto& name : r["system_order"]) {
    const json& s = r["systems"][name.get<std::string>()];
    if (!s.value("ran", false)) {
      absl::StrAppend(&out, "| ", name.get<std::string>(), " | skipped: ", s.value("skipped", ""),
                      " ||||||||\n");
      continue;
    }
    int complete = 0;
    for (const auto& n : s["nodes"]) complete += n["seconds"].is_number() ? 1 : 0;
    absl::StrAppend(&out, "| ", name.get<std::string>(), " | ", Fixed(s["last_node_seconds"], 1),
                    " | ", Fixed(s["ratio_to_bound"], 2), " | ", Fixed(s["min_seconds"], 1), " | ",
                    Fixed(s["p50_seconds"], 1), " | ", Fixed(s["p90_seconds"], 1), " | ",
                    Fixed(s["origin_copies"], 2), " | ", s.value("origin_requests", 0), " | ",
                    Fixed(s.value("origin_done_seconds", json()), 1), " | ", complete, "/",
                    s["nodes"].size(), " |\n");
    if (s.contains("host_cpu")) {
      const json& h = s["host_cpu"];
      absl::StrAppend(&daemons, "| ", name.get<std::string>(), " | whole machine (",
                      h.value("cores", 0), " cores, ",
                      absl::StrFormat("%.0f%%", 100 * h.value("busy", 0.0)), " busy, saturated ",
                      h.value("seconds_saturated", 0), " of ", h.value("seconds_sampled", 0),
                      " s) | — | — | — | — |\n");
    }
    for (const auto& [role, d] : s["daemons"].items()) {
      absl::StrAppend(&daemons, "| ", name.get<std::string>(), " | ", role, " | ",
                      d.value("count", 0), " | ", Fixed(d["cpu_seconds"], 1), " | ",
                      Fixed(d["cpu_seconds_per_gb"], 2), " | ",
                      HumanBytes(d.value("peak_rss_bytes", 0.0)), " |\n");
    }
  }
  std::string repeats;
  for (const auto& name : r["system_order"]) {
    const json& s = r["systems"][name.get<std::string>()];
    if (!IsShoal(name.get<std::string>()) || !s.contains("origin_repeats")) continue;
    for (const auto& rep : s["origin_repeats"]) {
      std::vector<std::string> who;
      for (const auto& [host, gets] : rep["clients"].items()) {
        who.push_back(absl::StrCat(host, " (", gets.get<int>(), " GETs)"));
      }
      absl::StrAppend(&repeats, "- ", name.get<std::string>(), ": ",
                      rep.value("digest", "").substr(0, 19), "… ", rep.value("bytes", uint64_t{0}),
                      " bytes in ", rep.value("gets", 0), " GETs, by ", absl::StrJoin(who, ", "),
                      "\n");
    }
  }
  if (!repeats.empty()) {
    repeats = absl::StrCat("\nBlobs the origin served more than once to shoal:\n", repeats);
  }
  return absl::StrCat(out, "\n", daemons, repeats);
}

std::vector<std::string> CheckReportInvariants(const json& r) {
  std::vector<std::string> bad;
  auto fail = [&](auto&&... parts) { bad.push_back(absl::StrCat(parts...)); };
  const double bound = r.value("bound_seconds", 0.0);
  const uint64_t f = r["image"].value("bytes", uint64_t{0});
  const size_t blob_count = r["image"]["blobs"].size();
  const uint64_t n = r.value("nodes", uint64_t{0});
  if (bound <= 0) fail("bound_seconds is ", bound, "; it must be positive");
  if (f == 0 || blob_count == 0) fail("the image has no bytes or no blobs");
  for (const auto& [name, s] : r["systems"].items()) {
    if (!s.value("ran", false)) continue;
    const json& nodes = s["nodes"];
    if (nodes.size() != n) fail(name, ": ", nodes.size(), " node results for ", n, " nodes");
    std::vector<double> times;
    for (const auto& node : nodes) {
      const std::string who = absl::StrCat(name, " ", node.value("name", "?"));
      if (node.value("blobs_verified", 0) != static_cast<int>(blob_count)) {
        fail(who, " got ", node.value("blobs_verified", 0), " of ", blob_count,
             " blobs with the right digest");
      }
      if (node.value("bytes", uint64_t{0}) != f) {
        fail(who, " received ", node.value("bytes", uint64_t{0}), " verified bytes, want ", f);
      }
      if (!node["seconds"].is_number()) {
        fail(who, " did not finish");
        continue;
      }
      times.push_back(node["seconds"].get<double>());
    }
    const uint64_t origin = s.value("origin_bytes", uint64_t{0});
    if (origin < f) {
      fail(name, ": the origin served ", origin, " blob bytes, less than one copy (", f,
           "): some bytes came from elsewhere, the accounting is wrong");
    }
    if (IsShoal(name) && origin != f) {
      fail(name, ": the origin served ", origin, " blob bytes = ",
           absl::StrFormat("%.3f", static_cast<double>(origin) / static_cast<double>(f)),
           " × F; shoal must fetch exactly one copy");
    }
    if (name == kSystemDirect && origin != f * n) {
      fail(name, ": the origin served ", origin, " blob bytes, want N × F = ", f * n);
    }
    if (!s["last_node_seconds"].is_number()) continue;
    const double last = s["last_node_seconds"].get<double>();
    const double ratio = s["ratio_to_bound"].get<double>();
    if (!times.empty() && std::abs(last - *std::max_element(times.begin(), times.end())) > 0.001) {
      fail(name, ": last_node_seconds ", last, " is not the largest of node_seconds");
    }
    if (bound > 0 && std::abs(ratio - last / bound) > kRoundingSlack) {
      fail(name, ": ratio_to_bound ", ratio, " is not last_node_seconds / bound_seconds");
    }
    if (ratio < 1.0) {
      fail(name, ": ratio to the bound is ", ratio,
           " < 1.0; nothing beats the physical bound, so the harness is wrong (links not "
           "shaped as configured, or bytes not counted)");
    }
  }
  return bad;
}

}  // namespace shoal::bench
