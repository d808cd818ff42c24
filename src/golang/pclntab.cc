// Pclntab: pcHeader and functab validation, function lookups.
#include "golang/pclntab.h"

#include <climits>
#include <string>

namespace gcpilot::golang {
namespace {

constexpr uint32_t kMagicGo118 = 0xfffffff0;
constexpr uint32_t kMagicGo120 = 0xfffffff1;
constexpr uint32_t kMagicGo116 = 0xfffffffa;
constexpr uint32_t kMagicGo12 = 0xfffffffb;
constexpr size_t kHeaderSize = 8 + 8 * 8;
// _func: up to funcID, flag, pad, nfuncdata (the fixed part).
constexpr size_t kFuncIdOffsetGo118 = 36;
constexpr size_t kFuncIdOffsetGo120 = 40;  // + startLine i32.

Status Corrupt(const std::string& what) { return Status::DataLoss("corrupt .gopclntab: " + what); }

}  // namespace

StatusOr<Pclntab> Pclntab::Parse(ByteSpan data, uint64_t text_start_if_unset) {
  if (data.size() < kHeaderSize) return Corrupt("shorter than its header");
  Pclntab t;
  t.data_ = data;
  PclntabHeader& h = t.header_;
  h.magic = *ReadU32(data, 0);
  if (h.magic == kMagicGo116 || h.magic == kMagicGo12) {
    return Status::InvalidArgument(".gopclntab of Go 1.2-1.17 (magic 0x" +
                                   std::string(h.magic == kMagicGo116 ? "fffffffa" : "fffffffb") +
                                   ") is not supported: need Go 1.18 or later");
  }
  if (h.magic != kMagicGo118 && h.magic != kMagicGo120) {
    return Status::InvalidArgument(".gopclntab: unknown magic");
  }
  t.version_ = h.magic == kMagicGo118 ? PclntabVersion::kGo118 : PclntabVersion::kGo120;
  t.func_id_offset_ =
      t.version_ == PclntabVersion::kGo118 ? kFuncIdOffsetGo118 : kFuncIdOffsetGo120;
  h.min_lc = data[6];
  h.ptr_size = data[7];
  if (data[4] != 0 || data[5] != 0) return Corrupt("non-zero header padding");
  if (h.min_lc != 1 && h.min_lc != 2 && h.min_lc != 4) return Corrupt("bad instruction quantum");
  if (h.ptr_size != 8) return Corrupt("pointer size " + std::to_string(h.ptr_size) + ", want 8");
  uint64_t words[8];
  for (size_t i = 0; i < 8; ++i) words[i] = *ReadU64(data, 8 + 8 * i);
  h.nfunc = words[0];
  h.nfiles = words[1];
  h.text_start = words[2];
  h.funcname_offset = words[3];
  h.cu_offset = words[4];
  h.filetab_offset = words[5];
  h.pctab_offset = words[6];
  h.pcln_offset = words[7];

  t.text_start_ = h.text_start != 0 ? h.text_start : text_start_if_unset;
  if (t.text_start_ == 0) return Corrupt("textStart is 0 and no text address is known");
  if (h.nfunc == 0) return Corrupt("no functions");
  // Each function needs 8 bytes of functab: this bounds nfunc before any
  // multiplication can overflow.
  if (h.nfunc > data.size() / 8) return Corrupt("nfunc larger than the table");
  const uint64_t functab_size = (2 * h.nfunc + 1) * 4;
  auto functab = SubSpan(data, h.pcln_offset, functab_size);
  if (!functab) return Corrupt("functab out of bounds");
  t.functab_ = *functab;
  if (h.funcname_offset >= data.size()) return Corrupt("funcnametab out of bounds");
  t.funcnametab_ = data.subspan(static_cast<size_t>(h.funcname_offset));
  t.funcdata_ = data.subspan(static_cast<size_t>(h.pcln_offset));

  // Validate every entry: offsets in bounds, _func agrees with the functab,
  // names readable, addresses increasing and representable.
  uint32_t previous = 0;
  for (size_t i = 0; i <= t.size(); ++i) {
    const uint32_t entry_off = t.EntryOffset(i);
    if (entry_off < previous) {
      return Corrupt("functab not sorted at function " + std::to_string(i));
    }
    previous = entry_off;
    if (t.text_start_ + entry_off < t.text_start_) return Corrupt("entry address overflows");
    if (i == t.size()) break;
    // In bounds: i < nfunc and the functab holds 2 * nfunc + 1 words.
    const uint32_t func_off = *ReadU32(t.functab_, 8 * i + 4);
    auto func = SubSpan(t.funcdata_, func_off, t.func_id_offset_ + 4);
    if (!func) return Corrupt("_func of function " + std::to_string(i) + " out of bounds");
    if (*ReadU32(*func, 0) != entry_off) {
      return Corrupt("_func entry of function " + std::to_string(i) + " disagrees with functab");
    }
    const uint32_t name_off = *ReadU32(*func, 4);
    if (!ReadCString(t.funcnametab_, name_off)) {
      return Corrupt("name of function " + std::to_string(i) + " out of bounds");
    }
  }
  return t;
}

uint32_t Pclntab::EntryOffset(size_t i) const {
  return ReadU32(functab_, 8 * static_cast<uint64_t>(i)).value_or(0);
}

ByteSpan Pclntab::Func(size_t i) const {
  const uint32_t func_off = ReadU32(functab_, 8 * static_cast<uint64_t>(i) + 4).value_or(0);
  return SubSpan(funcdata_, func_off, func_id_offset_ + 4).value_or(ByteSpan());
}

std::string_view Pclntab::Name(size_t i) const {
  const uint32_t name_off = ReadU32(Func(i), 4).value_or(0);
  return ReadCString(funcnametab_, name_off).value_or(std::string_view());
}

PclntabFunction Pclntab::function(size_t i) const {
  PclntabFunction f;
  if (i >= size()) return f;
  f.name = Name(i);
  f.entry = text_start_ + EntryOffset(i);
  f.end = text_start_ + EntryOffset(i + 1);
  const ByteSpan func = Func(i);
  f.func_id = ReadU8(func, func_id_offset_).value_or(0);
  f.flag = ReadU8(func, func_id_offset_ + 1).value_or(0);
  return f;
}

namespace {

// The ABIInternal entry among same-named entries: not assembly, then the
// smallest funcID, then the lowest address (entries are in address order).
std::optional<size_t> PickAbiInternal(const std::vector<PclntabFunction>& entries) {
  std::optional<size_t> best;
  for (size_t i = 0; i < entries.size(); ++i) {
    if (!best) {
      best = i;
      continue;
    }
    const PclntabFunction& a = entries[i];
    const PclntabFunction& b = entries[*best];
    if (a.is_asm() != b.is_asm() ? !a.is_asm() : a.func_id < b.func_id) best = i;
  }
  return best;
}

}  // namespace

std::optional<PclntabFunction> Pclntab::Find(std::string_view name) const {
  const auto entries = FindAll(name);
  const auto pick = PickAbiInternal(entries);
  if (!pick) return std::nullopt;
  return entries[*pick];
}

std::optional<PclntabFunction> Pclntab::FindAbi0(std::string_view name) const {
  const auto entries = FindAll(name);
  if (entries.size() <= 1) {
    return entries.empty() ? std::nullopt : std::optional<PclntabFunction>(entries[0]);
  }
  for (const PclntabFunction& f : entries) {
    if (f.is_asm()) return f;
  }
  const size_t internal = *PickAbiInternal(entries);
  // The last entry that is not the ABIInternal one.
  for (size_t i = entries.size(); i-- > 0;) {
    if (i != internal) return entries[i];
  }
  return std::nullopt;
}

std::vector<PclntabFunction> Pclntab::FindAll(std::string_view name) const {
  std::vector<PclntabFunction> out;
  for (size_t i = 0; i < size(); ++i) {
    if (Name(i) == name) out.push_back(function(i));
  }
  return out;
}

std::optional<size_t> Pclntab::IndexAtOrBefore(uint64_t pc) const {
  if (pc < text_start_) return std::nullopt;
  const uint64_t offset = pc - text_start_;
  // The last i with EntryOffset(i) <= offset.
  size_t lo = 0;
  size_t hi = size();
  while (lo < hi) {
    const size_t mid = lo + (hi - lo) / 2;
    if (EntryOffset(mid) <= offset) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  if (lo == 0) return std::nullopt;
  return lo - 1;
}

std::optional<PclntabFunction> Pclntab::FindByAddress(uint64_t address) const {
  const std::optional<size_t> i = IndexAtOrBefore(address);
  if (!i) return std::nullopt;
  PclntabFunction f = function(*i);
  if (address >= f.end) return std::nullopt;
  return f;
}

std::optional<int32_t> Pclntab::PcValue(uint32_t table_off, uint64_t entry, uint64_t pc) const {
  if (table_off == 0 || header_.pctab_offset >= data_.size()) return std::nullopt;
  const ByteSpan pctab = data_.subspan(static_cast<size_t>(header_.pctab_offset));
  uint64_t at = table_off;
  int64_t value = -1;
  uint64_t cur = entry;
  // A function has far fewer than this many value changes; the bound stops
  // a corrupt table that never ends.
  for (int step = 0; step < (1 << 20); ++step) {
    auto uv = ReadUvarint(pctab, at);
    if (!uv) return std::nullopt;
    at += uv->second;
    if (uv->first == 0 && step > 0) return std::nullopt;  // End of table.
    const int64_t delta = (uv->first & 1) != 0 ? -static_cast<int64_t>(uv->first >> 1) - 1
                                               : static_cast<int64_t>(uv->first >> 1);
    value += delta;
    auto pcd = ReadUvarint(pctab, at);
    if (!pcd) return std::nullopt;
    at += pcd->second;
    if (pcd->first > (uint64_t{1} << 32)) return std::nullopt;
    cur += pcd->first * header_.min_lc;
    if (pc < cur) {
      if (value < INT32_MIN || value > INT32_MAX) return std::nullopt;
      return static_cast<int32_t>(value);
    }
  }
  return std::nullopt;
}

std::optional<SourceLine> Pclntab::LineOf(uint64_t pc) const {
  const std::optional<size_t> at = IndexAtOrBefore(pc);
  if (!at) return std::nullopt;
  const size_t i = *at;
  const uint64_t entry = text_start_ + EntryOffset(i);
  if (pc >= text_start_ + EntryOffset(i + 1)) return std::nullopt;
  // _func (1.18+): entryOff u32, nameOff i32, args i32, deferreturn u32,
  // pcsp u32, pcfile u32, pcln u32, npcdata u32, cuOffset u32: Parse()
  // checked the bytes up to funcID (offset 36 or 40), past cuOffset.
  const ByteSpan func = Func(i);
  auto pcfile = ReadU32(func, 20);
  auto pcln = ReadU32(func, 24);
  auto cu = ReadU32(func, 32);
  if (!pcfile || !pcln || !cu) return std::nullopt;
  std::optional<int32_t> file_no = PcValue(*pcfile, entry, pc);
  std::optional<int32_t> line = PcValue(*pcln, entry, pc);
  if (!file_no || !line || *file_no < 0) return std::nullopt;
  // cutab: u32 words at cuOffset; word cuOffset + fileno is the file's
  // offset in filetab (NUL-terminated), ^0 for none.
  auto file_off = ReadU32(data_, header_.cu_offset + 4 * (uint64_t{*cu} + uint64_t(*file_no)));
  if (!file_off || *file_off == UINT32_MAX) return std::nullopt;
  if (header_.filetab_offset >= data_.size()) return std::nullopt;
  auto file = ReadCString(data_.subspan(static_cast<size_t>(header_.filetab_offset)), *file_off);
  if (!file) return std::nullopt;
  return SourceLine{*file, *line};
}

std::vector<PclntabFunction> Pclntab::FindByPrefix(std::string_view prefix) const {
  std::vector<PclntabFunction> out;
  for (size_t i = 0; i < size(); ++i) {
    if (Name(i).starts_with(prefix)) out.push_back(function(i));
  }
  return out;
}

}  // namespace gcpilot::golang
