#include "bench/plots.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "common/file_util.h"
#include "testkit/subprocess.h"

namespace shoal::bench {
namespace {

using nlohmann::json;

std::string Quote(const std::string& s) {
  return absl::StrCat("'", absl::StrReplaceAll(s, {{"'", "''"}}), "'");
}

}  // namespace

absl::StatusOr<std::string> WritePlotInputs(const json& report, const std::string& dir) {
  const double bound = report.value("bound_seconds", 0.0);
  const size_t nodes = report.value("nodes", size_t{0});
  std::vector<std::string> cdf_plots;
  std::string origin_rows;
  double max_copies = static_cast<double>(nodes);
  int index = 0;
  for (const auto& name_json : report["system_order"]) {
    const std::string name = name_json.get<std::string>();
    const json& s = report["systems"][name];
    if (!s.value("ran", false)) continue;
    std::vector<double> times;
    for (const auto& t : s["node_seconds"]) {
      if (t.is_number()) times.push_back(t.get<double>());
    }
    std::sort(times.begin(), times.end());
    // A step from (0, 0); unfinished nodes keep the line below 1.0.
    std::string rows = "0 0\n";
    for (size_t i = 0; i < times.size(); ++i) {
      absl::StrAppend(&rows, absl::StrFormat("%.3f %.4f\n", times[i],
                                             static_cast<double>(i + 1) /
                                                 static_cast<double>(std::max<size_t>(nodes, 1))));
    }
    const std::string file = absl::StrCat("cdf_", name, ".dat");
    if (auto st = WriteFileAtomically(absl::StrCat(dir, "/", file), rows); !st.ok()) return st;
    cdf_plots.push_back(
        absl::StrCat(Quote(file), " using 1:2 with steps lw 2 title ", Quote(name)));
    max_copies = std::max(max_copies, s.value("origin_copies", 0.0));
    absl::StrAppend(&origin_rows, index++, " \"", name, "\" ",
                    absl::StrFormat("%.3f", s.value("origin_copies", 0.0)), "\n");
  }
  if (cdf_plots.empty()) return absl::FailedPreconditionError("no system ran; nothing to plot");
  if (auto st = WriteFileAtomically(dir + "/origin_copies.dat", origin_rows); !st.ok()) return st;

  std::string script = absl::StrCat(
      "set terminal pngcairo size 960,600 font 'sans,11'\n"
      "set output 'completion_cdf.png'\n"
      "set title 'Per-node completion time (",
      nodes, " nodes)'\n",
      "set xlabel 'seconds since all nodes started'\n"
      "set ylabel 'fraction of nodes with every blob'\n"
      "set yrange [0:1.05]\nset xrange [0:*]\nset key bottom right\nset grid\n",
      absl::StrFormat("set arrow from %.3f, graph 0 to %.3f, graph 1 nohead dt 2 lw 2 lc "
                      "rgb 'black'\n",
                      bound, bound),
      absl::StrFormat("set label 'physical bound %.1f s' at %.3f, graph 0.95 offset 1,0\n", bound,
                      bound),
      "plot ", absl::StrJoin(cdf_plots, ", \\\n     "), "\n\n",
      "reset\n"
      "set terminal pngcairo size 960,600 font 'sans,11'\n"
      "set output 'origin_bytes.png'\n"
      "set title 'Blob bytes served by the origin registry'\n"
      "set ylabel 'copies of the image (1.0 = each byte once)'\n"
      "set style fill solid 0.7\nset boxwidth 0.6\nset grid ytics\nset key top left\n",
      absl::StrFormat("set yrange [0:%.2f]\nset xrange [-0.5:%.1f]\n", max_copies * 1.2 + 0.1,
                      index - 0.5),
      "plot 'origin_copies.dat' using 1:3:xtic(2) with boxes notitle, \\\n"
      "     '' using 1:3:(sprintf('%.2f', $3)) with labels offset 0,1 notitle, \\\n"
      "     1 with lines dt 2 lw 2 lc rgb 'black' title 'one copy (the minimum)', \\\n",
      absl::StrFormat("     %d with lines dt 3 lc rgb 'gray40' title 'N = %d copies'\n", nodes,
                      nodes));
  if (auto st = WriteFileAtomically(dir + "/plots.gp", script); !st.ok()) return st;
  return script;
}

absl::Status RenderPlots(const json& report, const std::string& dir) {
  auto script = WritePlotInputs(report, dir);
  if (!script.ok()) return script.status();
  testkit::SubprocessOptions o;
  o.argv = {"gnuplot", "plots.gp"};
  o.working_dir = dir;  // the script names its data files relative to it
  o.log_path = dir + "/gnuplot.log";
  auto gnuplot = testkit::Subprocess::Start(std::move(o));
  if (!gnuplot.ok()) return gnuplot.status();
  auto code = (*gnuplot)->Wait(absl::Minutes(1));
  if (!code.ok()) return code.status();
  if (*code == 127) {
    return absl::FailedPreconditionError(
        "gnuplot is not installed (apt-get install gnuplot-nox); report.json is written anyway");
  }
  if (*code != 0) {
    return absl::InternalError(
        absl::StrCat("gnuplot ", dir, "/plots.gp failed: ", (*gnuplot)->LogTail(20)));
  }
  return absl::OkStatus();
}

}  // namespace shoal::bench
