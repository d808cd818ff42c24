// GoBinaryCache: identity and build-ID keyed reuse of parsed binaries.
#include "golang/go_binary_cache.h"

#include <functional>
#include <unordered_set>
#include <utility>

namespace gcpilot::golang {

size_t GoBinaryCache::IdentityHash::operator()(const FileIdentity& id) const {
  size_t h = std::hash<uint64_t>()(id.device);
  for (uint64_t v : {id.inode, static_cast<uint64_t>(id.mtime_ns), id.size}) {
    h ^= std::hash<uint64_t>()(v) + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
  }
  return h;
}

StatusOr<std::shared_ptr<const GoBinary>> GoBinaryCache::Get(const std::string& path) {
  auto identity = StatFileIdentity(path);
  if (!identity.ok()) return identity.status();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (auto it = by_identity_.find(*identity); it != by_identity_.end()) {
      ++stats_.identity_hits;
      return it->second;
    }
    if (auto it = failures_.find(*identity); it != failures_.end()) {
      ++stats_.identity_hits;
      return it->second;
    }
  }

  auto parsed = GoBinary::Open(path);
  std::lock_guard<std::mutex> lock(mu_);
  ++stats_.parses;
  if (!parsed.ok()) {
    if (failures_.size() >= kMaxRememberedFailures) failures_.clear();
    failures_.emplace(*identity, parsed.status());
    return parsed.status();
  }
  // The file may have changed between stat and open: key by what was read.
  const FileIdentity read_identity = parsed->elf().identity();
  if (auto it = by_identity_.find(read_identity); it != by_identity_.end()) return it->second;
  std::shared_ptr<const GoBinary> binary;
  // The size too: a file rewritten by objcopy (no .go.buildinfo, no DWARF)
  // keeps its build ID but is not the same binary.
  const std::string build_id = parsed->build_id().empty()
                                   ? ""
                                   : parsed->build_id() + " " + std::to_string(read_identity.size);
  if (!build_id.empty()) {
    if (auto it = by_build_id_.find(build_id); it != by_build_id_.end()) {
      ++stats_.build_id_hits;
      binary = it->second;
    }
  }
  if (!binary) {
    binary = std::make_shared<const GoBinary>(std::move(*parsed));
    if (!build_id.empty()) by_build_id_.emplace(build_id, binary);
  }
  by_identity_.emplace(read_identity, binary);
  if (read_identity != *identity) by_identity_.emplace(*identity, binary);
  return binary;
}

size_t GoBinaryCache::Prune() {
  std::lock_guard<std::mutex> lock(mu_);
  size_t dropped = failures_.size();
  failures_.clear();
  // A binary held only by the cache has one reference per map entry.
  std::unordered_map<const GoBinary*, long> cache_refs;
  for (const auto& [key, binary] : by_identity_) ++cache_refs[binary.get()];
  for (const auto& [key, binary] : by_build_id_) ++cache_refs[binary.get()];
  std::unordered_set<const GoBinary*> unused;
  for (const auto& [key, binary] : by_identity_) {
    if (binary.use_count() == cache_refs[binary.get()]) unused.insert(binary.get());
  }
  for (const auto& [key, binary] : by_build_id_) {
    if (binary.use_count() == cache_refs[binary.get()]) unused.insert(binary.get());
  }
  dropped +=
      std::erase_if(by_identity_, [&](const auto& e) { return unused.count(e.second.get()); });
  std::erase_if(by_build_id_, [&](const auto& e) { return unused.count(e.second.get()); });
  return dropped;
}

size_t GoBinaryCache::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::unordered_set<const GoBinary*> distinct;
  for (const auto& [key, binary] : by_identity_) distinct.insert(binary.get());
  return distinct.size();
}

GoBinaryCache::Stats GoBinaryCache::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

}  // namespace gcpilot::golang
