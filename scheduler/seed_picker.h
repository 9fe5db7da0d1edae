// Which seed fetches a blob from the origin: rendezvous (highest random weight)
// hashing of the digest over the live seeds. Every scheduler replica and every
// restart picks the same seed for a digest, blobs spread evenly, and when a
// seed leaves only the blobs it owned move. The hash is FNV-1a + a mixer,
// stable across processes (absl::Hash is seeded per process, so it is not).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace shoal {

uint64_t RendezvousWeight(absl::string_view key, absl::string_view node);

// The seed with the highest weight for `digest`; nullopt when `seeds` is empty.
std::optional<std::string> PickSeed(absl::string_view digest,
                                    const std::vector<std::string>& seeds);

}  // namespace shoal
