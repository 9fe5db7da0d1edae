// The systems users run today without peer-to-peer, on the same links as shoal:
//   direct        — every node pulls every blob from the origin registry at once;
//   central-cache — a docker-registry pull-through cache (proxy mode) on its own
//                   host at the node rate; nodes pull through it.
#pragma once

#include "bench/bench_context.h"

namespace shoal::bench {

SystemResult RunDirect(const BenchContext& ctx);
SystemResult RunCentralCache(const BenchContext& ctx);

}  // namespace shoal::bench
