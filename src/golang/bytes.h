// Bounds-checked reads from untrusted byte spans (ELF files, .gopclntab,
// .go.buildinfo): every offset and size that comes from a file goes through
// these helpers, which return std::nullopt instead of reading out of bounds.
// Little-endian only (the reader supports x86-64 binaries only).
// Thread-safety: stateless free functions; safe from any thread.
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string_view>
#include <utility>

namespace gcpilot::golang {

using ByteSpan = std::span<const uint8_t>;

// True when [offset, offset + size) lies within [0, total). Overflow-safe.
constexpr bool InBounds(uint64_t offset, uint64_t size, uint64_t total) {
  return offset <= total && size <= total - offset;
}

// The bytes [offset, offset + size) of `bytes`, or nullopt when out of bounds.
inline std::optional<ByteSpan> SubSpan(ByteSpan bytes, uint64_t offset, uint64_t size) {
  if (!InBounds(offset, size, bytes.size())) return std::nullopt;
  return bytes.subspan(static_cast<size_t>(offset), static_cast<size_t>(size));
}

// A trivially copyable T read (unaligned, little-endian host) at `offset`.
template <typename T>
std::optional<T> ReadAt(ByteSpan bytes, uint64_t offset) {
  if (!InBounds(offset, sizeof(T), bytes.size())) return std::nullopt;
  T value;
  std::memcpy(&value, bytes.data() + offset, sizeof(T));
  return value;
}

inline std::optional<uint8_t> ReadU8(ByteSpan b, uint64_t off) { return ReadAt<uint8_t>(b, off); }
inline std::optional<uint32_t> ReadU32(ByteSpan b, uint64_t off) {
  return ReadAt<uint32_t>(b, off);
}
inline std::optional<uint64_t> ReadU64(ByteSpan b, uint64_t off) {
  return ReadAt<uint64_t>(b, off);
}

// The NUL-terminated string that starts at `offset` (without the NUL), or
// nullopt when `offset` is out of bounds or no NUL follows before the end.
inline std::optional<std::string_view> ReadCString(ByteSpan bytes, uint64_t offset) {
  if (offset >= bytes.size()) return std::nullopt;
  const auto* start = bytes.data() + offset;
  const size_t max = bytes.size() - static_cast<size_t>(offset);
  const void* nul = std::memchr(start, 0, max);
  if (nul == nullptr) return std::nullopt;
  return std::string_view(reinterpret_cast<const char*>(start),
                          static_cast<size_t>(static_cast<const uint8_t*>(nul) - start));
}

// A Go/protobuf unsigned varint at `offset`: {value, bytes consumed}, or
// nullopt when truncated or longer than 10 bytes / 64 bits.
inline std::optional<std::pair<uint64_t, size_t>> ReadUvarint(ByteSpan bytes, uint64_t offset) {
  if (offset >= bytes.size()) return std::nullopt;
  uint64_t value = 0;
  for (size_t i = 0; i < 10; ++i) {
    auto byte = ReadU8(bytes, offset + i);
    if (!byte) return std::nullopt;
    if (i == 9 && *byte > 1) return std::nullopt;  // Overflows 64 bits.
    value |= static_cast<uint64_t>(*byte & 0x7f) << (7 * i);
    if ((*byte & 0x80) == 0) return std::make_pair(value, i + 1);
  }
  return std::nullopt;
}

inline std::string_view AsStringView(ByteSpan bytes) {
  return std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

}  // namespace gcpilot::golang
