#include "cli/progress_view.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "scheduler/human_units.h"
#include "scheduler/job_json.h"

namespace shoal::ctl {
namespace {

std::string ShortDigest(const std::string& d) { return d.size() > 19 ? d.substr(0, 19) : d; }

std::string Kind(const v1::BlobStatus& b, size_t index) {
  if (absl::StrContains(b.media_type(), "config")) return "config";
  return absl::StrCat("blob ", index + 1);
}

bool Terminal(const std::string& s) {
  return s == "succeeded" || s == "failed" || s == "cancelled";
}

}  // namespace

std::string Bar(double fraction, int width) {
  fraction = std::clamp(fraction, 0.0, 1.0);
  int full = static_cast<int>(fraction * width + 0.5);
  return absl::StrCat("[", std::string(full, '#'), std::string(width - full, '.'), "]");
}

BlobProgress SummarizeBlob(const v1::BlobStatus& blob) {
  BlobProgress p;
  bool all_terminal = true;
  for (const v1::HostProgress& h : blob.hosts()) {
    if (!h.goal()) continue;
    ++p.hosts;
    p.total += blob.size();
    p.done += std::min(h.bytes_done(), blob.size());
    if (h.state() == "succeeded") ++p.hosts_done;
    if (h.state() == "failed") ++p.hosts_failed;
    if (h.state() == "cancelled") ++p.hosts_cancelled;
    all_terminal = all_terminal && Terminal(h.state());
  }
  p.settled = p.hosts > 0 && all_terminal;
  return p;
}

ProgressView::ProgressView(std::FILE* out, bool terminal, int columns)
    : out_(out), terminal_(terminal), columns_(std::max(columns, 60)) {}

double ProgressView::RateOf(const std::string& digest) const {
  auto it = rates_.find(digest);
  return it == rates_.end() ? 0 : it->second.rate;
}

void ProgressView::Update(const v1::JobStatus& status, absl::Time now) {
  for (const v1::BlobStatus& b : status.blobs()) {
    BlobProgress p = SummarizeBlob(b);
    BlobRate& r = rates_[b.digest()];
    if (r.at != absl::InfinitePast()) {
      double secs = absl::ToDoubleSeconds(now - r.at);
      if (secs > 0.2) {
        double sample = p.done >= r.last ? (p.done - r.last) / secs : 0;
        r.rate = 0.6 * r.rate + 0.4 * sample;
        if (p.settled) r.rate = 0;
      } else {
        continue;
      }
    }
    r.last = p.done;
    r.at = now;
  }
  if (terminal_) {
    DrawTerminal(status);
  } else {
    PrintPlain(status, now);
  }
}

std::string ProgressView::BlobLine(const v1::BlobStatus& b, size_t index, int bar_width) {
  BlobProgress p = SummarizeBlob(b);
  double fraction = p.total == 0 ? 0 : static_cast<double>(p.done) / p.total;
  std::string tail;
  if (p.hosts == 0) {
    tail = "waiting for a seed";
  } else if (p.settled) {
    tail =
        p.hosts_failed > 0 ? absl::StrCat("FAILED on ", p.hosts_failed, " of ", p.hosts) : "done";
  } else {
    double rate = RateOf(b.digest());
    std::string eta =
        rate > 1 ? HumanSeconds(static_cast<int64_t>((p.total - p.done) / rate)) : std::string("?");
    tail = absl::StrCat(HumanRate(rate), "  ETA ", eta);
  }
  return absl::StrFormat("%-7s %-19s %9s %s %3d%%  %d/%d hosts  %s", Kind(b, index),
                         ShortDigest(b.digest()), HumanBytes(b.size()), Bar(fraction, bar_width),
                         static_cast<int>(fraction * 100), p.hosts_done, p.hosts, tail);
}

void ProgressView::DrawTerminal(const v1::JobStatus& s) {
  const int bar_width = std::clamp(columns_ - 88, 10, 40);
  std::vector<std::string> lines;
  lines.push_back(absl::StrCat("job ", s.id(), "  ", JobStateText(s.state()), "  ", s.reference(),
                               " (", s.platform(), ") -> ", s.scope()));
  for (int i = 0; i < s.blobs_size(); ++i) lines.push_back(BlobLine(s.blobs(i), i, bar_width));
  double fraction =
      s.total_bytes() == 0 ? 0 : static_cast<double>(s.done_bytes()) / s.total_bytes();
  lines.push_back(absl::StrFormat(
      "%-7s %-19s %9s %s %3d%%  %s/%s  %s  ETA %s", "total", "", "", Bar(fraction, bar_width),
      static_cast<int>(fraction * 100), HumanBytes(s.done_bytes()), HumanBytes(s.total_bytes()),
      HumanRate(s.rate_bps()), s.eta_seconds() < 0 ? "?" : HumanSeconds(s.eta_seconds())));
  std::string frame;
  // Back to where the previous frame began, then overwrite it line by line.
  if (lines_drawn_ > 0) absl::StrAppend(&frame, "\x1b[", lines_drawn_, "A");
  for (std::string& l : lines) {
    if (static_cast<int>(l.size()) > columns_ - 1) l.resize(columns_ - 1);
    absl::StrAppend(&frame, "\r\x1b[2K", l, "\n");
  }
  std::fputs(frame.c_str(), out_);
  std::fflush(out_);
  lines_drawn_ = static_cast<int>(lines.size());
}

void ProgressView::PrintPlain(const v1::JobStatus& s, absl::Time now) {
  std::string time = absl::FormatTime("%H:%M:%S", now, absl::LocalTimeZone());
  for (int i = 0; i < s.blobs_size(); ++i) {
    const v1::BlobStatus& b = s.blobs(i);
    BlobProgress p = SummarizeBlob(b);
    if (!p.settled || announced_[b.digest()]) continue;
    announced_[b.digest()] = true;
    const char* outcome = p.hosts_failed > 0      ? "FAILED"
                          : p.hosts_cancelled > 0 ? "cancelled"
                                                  : "done";
    std::fprintf(out_, "%s %s: %s %s (%s) %s, on %d/%d hosts\n", time.c_str(), s.id().c_str(),
                 Kind(b, i).c_str(), b.digest().c_str(), HumanBytes(b.size()).c_str(), outcome,
                 p.hosts_done, p.hosts);
  }
  std::string state = JobStateText(s.state());
  if (state == last_state_ && now - last_plain_ < absl::Seconds(2)) return;
  last_state_ = state;
  last_plain_ = now;
  int settled = 0;
  for (const auto& b : s.blobs()) settled += SummarizeBlob(b).settled ? 1 : 0;
  double fraction =
      s.total_bytes() == 0 ? 0 : static_cast<double>(s.done_bytes()) / s.total_bytes();
  std::fprintf(
      out_, "%s %s: %s %d%% %s of %s, %s, ETA %s, blobs done %d/%d\n", time.c_str(), s.id().c_str(),
      state.c_str(), static_cast<int>(fraction * 100), HumanBytes(s.done_bytes()).c_str(),
      HumanBytes(s.total_bytes()).c_str(), HumanRate(s.rate_bps()).c_str(),
      s.eta_seconds() < 0 ? "?" : HumanSeconds(s.eta_seconds()).c_str(), settled, s.blobs_size());
  std::fflush(out_);
}

void ProgressView::Finish(const v1::JobStatus& s) {
  double secs =
      s.finished_unix_ms() > 0 ? (s.finished_unix_ms() - s.created_unix_ms()) / 1000.0 : 0;
  int hosts = s.target_hosts_size();
  std::string onto =
      hosts > 0 ? absl::StrCat(hosts, " peer", hosts == 1 ? "" : "s") : std::string("the seeds");
  std::string state = JobStateText(s.state());
  if (s.state() == v1::JOB_STATE_SUCCEEDED) {
    uint64_t image_bytes = 0;
    for (const v1::BlobStatus& b : s.blobs()) image_bytes += b.size();
    std::fprintf(out_, "job %s succeeded in %.1fs: %d blobs (%s) on %s\n", s.id().c_str(), secs,
                 s.blobs_size(), HumanBytes(image_bytes).c_str(), onto.c_str());
  } else {
    std::fprintf(out_, "job %s %s after %.1fs: %s\n", s.id().c_str(), state.c_str(), secs,
                 s.error().c_str());
    int shown = 0;
    for (const v1::BlobStatus& b : s.blobs()) {
      for (const v1::HostProgress& h : b.hosts()) {
        if (h.state() != "failed" || shown >= 10) continue;
        ++shown;
        std::fprintf(out_, "  %s on %s: %s\n", ShortDigest(b.digest()).c_str(), h.host_id().c_str(),
                     h.error().c_str());
      }
    }
  }
  std::fflush(out_);
}

}  // namespace shoal::ctl
