// shoal on the testbed, in the two ways a cluster uses it:
//   shoal-mirror  — every node GETs every blob through its own peer's registry
//                   mirror at once, as containerd does on an image rollout;
//   shoal-preheat — one preheat job (scope all-peers) through the scheduler's REST
//                   API; a node's time is when the job reports every blob done on
//                   it. Afterwards every node reads every blob from its mirror to
//                   verify (untimed). Skipped when the scheduler has no job API.
#pragma once

#include "bench/bench_context.h"

namespace shoal::bench {

enum class ShoalMode { kMirrorPulls, kPreheat };

SystemResult RunShoal(const BenchContext& ctx, ShoalMode mode);

}  // namespace shoal::bench
