#include "scheduler/seed_picker.h"

namespace shoal {
namespace {

uint64_t Fnv1a(uint64_t h, absl::string_view s) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

// splitmix64 finalizer: FNV alone clusters for keys that share long prefixes.
uint64_t Mix(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

}  // namespace

uint64_t RendezvousWeight(absl::string_view key, absl::string_view node) {
  uint64_t h = Fnv1a(0xcbf29ce484222325ULL, key);
  h = Fnv1a(h, absl::string_view("\0", 1));  // "ab"+"c" must differ from "a"+"bc"
  return Mix(Fnv1a(h, node));
}

std::optional<std::string> PickSeed(absl::string_view digest,
                                    const std::vector<std::string>& seeds) {
  std::optional<std::string> best;
  uint64_t best_weight = 0;
  for (const auto& s : seeds) {
    uint64_t w = RendezvousWeight(digest, s);
    if (!best || w > best_weight || (w == best_weight && s < *best)) {
      best = s;
      best_weight = w;
    }
  }
  return best;
}

}  // namespace shoal
