#include "common/piece_chain_check.h"

#include <fcntl.h>
#include <unistd.h>

#include <boost/asio/post.hpp>

#include "common/piece_write_tracker.h"

namespace shoal {

void PieceChainRegistry::Add(const lt::sha1_hash& ih, std::shared_ptr<const Entry> entry) {
  absl::MutexLock l(&mu_);
  entries_[ih] = std::move(entry);
}

void PieceChainRegistry::Remove(const lt::sha1_hash& ih) {
  absl::MutexLock l(&mu_);
  entries_.erase(ih);
}

std::shared_ptr<const PieceChainRegistry::Entry> PieceChainRegistry::Find(
    const lt::sha1_hash& ih) const {
  absl::MutexLock l(&mu_);
  auto it = entries_.find(ih);
  return it == entries_.end() ? nullptr : it->second;
}

bool PieceChainRegistry::Matched(const lt::sha1_hash& ih, int piece) const {
  auto e = Find(ih);
  return e && piece >= 0 && piece < e->chain.pieces() && e->matched[piece].load();
}

ChainHashPool::ChainHashPool(lt::io_context& ios, PieceWriteTracker* writes, int threads)
    : ios_(ios), writes_(writes) {
  for (int i = 0; i < std::max(1, threads); ++i) threads_.emplace_back([this] { Loop(); });
}

ChainHashPool::~ChainHashPool() { Stop(); }

void ChainHashPool::Stop() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stopping_ = true;
    queue_.clear();
    cv_.notify_all();
  }
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
}

void ChainHashPool::Submit(const lt::sha1_hash& ih,
                           std::shared_ptr<const PieceChainRegistry::Entry> e,
                           lt::piece_index_t piece, Handler handler) {
  std::lock_guard<std::mutex> l(mu_);
  if (stopping_) return;
  queue_.push_back(Job{ih, std::move(e), piece, std::move(handler)});
  cv_.notify_one();
}

void ChainHashPool::Loop() {
  std::vector<char> buffer;  // one piece, reused
  for (;;) {
    Job job;
    {
      std::unique_lock<std::mutex> l(mu_);
      cv_.wait(l, [&] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    const bool match = Check(job, buffer);  // false for a piece the torrent does not have
    const int piece = static_cast<int>(job.piece);
    const auto& expected = job.entry->expected_sha1;
    lt::sha1_hash answer = match ? expected[static_cast<size_t>(piece)] : lt::sha1_hash();
    if (match) {
      job.entry->matched[piece].store(true);
    } else if (piece >= 0 && static_cast<size_t>(piece) < expected.size()) {
      answer = expected[static_cast<size_t>(piece)];
      answer[0] = static_cast<char>(answer[0] ^ 0xff);  // anything but the expected hash
    }
    boost::asio::post(ios_, [h = std::move(job.handler), p = job.piece, answer] {
      h(p, answer, lt::storage_error());
    });
  }
}

// libtorrent asks for the hash once every block of the piece was handed to the
// disk I/O, not once they are in the file: wait for the writes, then read.
bool ChainHashPool::Check(const Job& job, std::vector<char>& buffer) {
  const SegmentChain& chain = job.entry->chain;
  const int piece = static_cast<int>(job.piece);
  if (piece < 0 || piece >= chain.pieces() ||
      static_cast<size_t>(piece) >= job.entry->expected_sha1.size()) {
    return false;
  }
  for (;;) {
    auto state = writes_->AwaitWritten(job.info_hash, piece, absl::Milliseconds(100));
    if (state == PieceWriteTracker::WriteState::kWritten) break;
    if (state == PieceWriteTracker::WriteState::kFailed) return false;
    std::lock_guard<std::mutex> l(mu_);
    if (stopping_) return false;
  }
  const uint64_t start = uint64_t{static_cast<uint32_t>(piece)} * chain.piece_size;
  const size_t len =
      static_cast<size_t>(std::min<uint64_t>(chain.piece_size, chain.length - start));
  buffer.resize(len);
  int fd = ::open(job.entry->path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  size_t got = 0;
  while (got < len) {
    ssize_t n = ::pread(fd, buffer.data() + got, len - got, static_cast<off_t>(start + got));
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  ::close(fd);
  return got == len && PieceMatchesChain(chain, piece, buffer.data(), len);
}

}  // namespace shoal
