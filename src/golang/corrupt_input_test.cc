// Hostile and corrupt inputs: truncated Go binaries, random bytes, garbage
// section tables, mutated tables. Each must give a Status error (or, for a
// harmless mutation, a usable result), never a crash or an out-of-bounds
// read. Run under ASan/UBSan to make the last part of that claim checkable.
#include <elf.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "golang/go_binary.h"
#include "golang/temp_dir_test_util.h"
#include "golang/testprogs_test_util.h"

namespace gcpilot::golang {
namespace {

std::vector<uint8_t> Load(const std::string& path) {
  const std::string s = testing::ReadWholeFile(path);
  return std::vector<uint8_t>(s.begin(), s.end());
}

// Opens `bytes` as a Go binary and, when that succeeds, uses every lookup:
// nothing may crash whatever the content.
void Exercise(std::span<const uint8_t> bytes) {
  auto binary = GoBinary::OpenFromMemory(bytes, "mutated");
  if (!binary.ok()) {
    EXPECT_FALSE(binary.status().message().empty());
    return;
  }
  (void)binary->go_version();
  for (const char* name : {"runtime.gcStart", "runtime.gcMarkTermination.func3", "main.main"}) {
    auto fn = binary->FindFunction(name);
    if (fn.ok()) (void)FindRetInstructions(binary->elf(), *fn);
  }
  (void)binary->FindGlobal("runtime.memstats");
  (void)binary->ListFunctions("runtime.gcMark");
  if (const auto* pclntab = binary->symbols().pclntab()) {
    (void)pclntab->table.FindByAddress(pclntab->table.text_start() + 0x1234);
  }
}

const testing::TestProg* StrippedProg(const std::vector<testing::TestProg>& progs) {
  for (const auto& prog : progs) {
    if (prog.stripped) return &prog;
  }
  return &progs[0];
}

TEST(CorruptInputTest, TruncatedAtManyLengths) {
  GCPILOT_REQUIRE_TESTPROGS(progs, "steady");
  const auto full = Load(StrippedProg(progs)->path);
  ASSERT_GT(full.size(), 4096u);
  auto elf = ElfFile::OpenFromMemory(full);
  ASSERT_TRUE(elf.ok());
  // Every length in the headers, around every section boundary, and a
  // stride through the whole file.
  std::set<size_t> lengths;
  for (size_t n = 0; n <= 1024; ++n) lengths.insert(n);
  for (const ElfSection& s : elf->sections()) {
    for (uint64_t edge : {s.file_offset, s.file_offset + s.size}) {
      for (int d = -2; d <= 2; ++d) {
        if (edge + d < full.size()) lengths.insert(edge + d);
      }
    }
  }
  for (size_t n = 0; n < full.size(); n += 4093) lengths.insert(n);
  // Bytes past the last section and segment are page padding: cutting only
  // those loses nothing.
  uint64_t content_end = 0;
  for (const ElfSection& s : elf->sections()) {
    if (s.has_file_bytes()) content_end = std::max(content_end, s.file_offset + s.size);
  }
  for (const ElfSegment& s : elf->segments()) {
    content_end = std::max(content_end, s.file_offset + s.file_size);
  }
  ASSERT_LE(content_end, full.size());
  for (size_t n : lengths) {
    auto binary = GoBinary::OpenFromMemory(std::span<const uint8_t>(full.data(), n), "truncated");
    EXPECT_EQ(binary.ok(), n >= content_end) << "truncated to " << n << " bytes";
  }
  // The same through real files (the mmap path).
  testing::TempDir dir;
  for (size_t n : {size_t{0}, size_t{1}, size_t{63}, size_t{64}, size_t{4096}, full.size() / 2,
                   content_end - 1}) {
    const std::string path =
        dir.Write("t" + std::to_string(n), std::span<const uint8_t>(full.data(), n));
    EXPECT_FALSE(GoBinary::Open(path).ok()) << n;
  }
}

TEST(CorruptInputTest, RandomBytes) {
  std::mt19937_64 rng(12345);
  for (int i = 0; i < 300; ++i) {
    std::vector<uint8_t> bytes(rng() % 8192);
    for (auto& b : bytes) b = static_cast<uint8_t>(rng());
    // Half of them start like an x86-64 ELF so they get past the ident check.
    if (i % 2 == 0 && bytes.size() >= 64) {
      const uint8_t ident[] = {0x7f, 'E', 'L', 'F', ELFCLASS64, ELFDATA2LSB, EV_CURRENT};
      std::memcpy(bytes.data(), ident, sizeof(ident));
      bytes[18] = EM_X86_64;
      bytes[19] = 0;
    }
    auto binary = GoBinary::OpenFromMemory(bytes, "random");
    EXPECT_FALSE(binary.ok());
  }
}

TEST(CorruptInputTest, ValidHeaderGarbageSectionTable) {
  GCPILOT_REQUIRE_TESTPROGS(progs, "steady");
  for (const auto& prog : progs) {
    SCOPED_TRACE(prog.label());
    auto bytes = Load(prog.path);
    Elf64_Ehdr eh;
    std::memcpy(&eh, bytes.data(), sizeof(eh));
    const size_t table = eh.e_shoff;
    const size_t table_size = static_cast<size_t>(eh.e_shnum) * eh.e_shentsize;
    ASSERT_LE(table + table_size, bytes.size());
    std::mt19937_64 rng(table);
    for (int round = 0; round < 20; ++round) {
      auto mutated = bytes;
      for (size_t i = table; i < table + table_size; ++i) mutated[i] = static_cast<uint8_t>(rng());
      Exercise(mutated);
    }
    // Section header offset pointing past the end, and a huge count.
    auto past = bytes;
    Elf64_Ehdr bad = eh;
    bad.e_shoff = bytes.size() + 100;
    std::memcpy(past.data(), &bad, sizeof(bad));
    EXPECT_FALSE(GoBinary::OpenFromMemory(past).ok());
    bad = eh;
    bad.e_shnum = 0xffff;
    std::memcpy(past.data(), &bad, sizeof(bad));
    EXPECT_FALSE(GoBinary::OpenFromMemory(past).ok());
    bad = eh;
    bad.e_phoff = bytes.size() - 8;
    std::memcpy(past.data(), &bad, sizeof(bad));
    EXPECT_FALSE(GoBinary::OpenFromMemory(past).ok());
  }
}

// Random byte changes in the regions the reader interprets: the ELF and
// program headers, the section table, .go.buildinfo, the pclntab header,
// functab and names, the symbol table.
TEST(CorruptInputTest, MutatedTables) {
  GCPILOT_REQUIRE_TESTPROGS(progs, "steady");
  for (const auto& prog : progs) {
    SCOPED_TRACE(prog.label());
    const auto bytes = Load(prog.path);
    auto elf = ElfFile::OpenFromMemory(bytes);
    ASSERT_TRUE(elf.ok());
    std::vector<std::pair<uint64_t, uint64_t>> regions = {{0, 64 + 56 * 8}};
    Elf64_Ehdr eh;
    std::memcpy(&eh, bytes.data(), sizeof(eh));
    regions.push_back({eh.e_shoff, static_cast<uint64_t>(eh.e_shnum) * eh.e_shentsize});
    for (const char* name : {".go.buildinfo", ".gopclntab", ".symtab", ".note.go.buildid"}) {
      if (const ElfSection* s = elf->FindSection(name)) {
        regions.push_back({s->file_offset, std::min<uint64_t>(s->size, 64 * 1024)});
      }
    }
    std::mt19937_64 rng(bytes.size());
    for (int round = 0; round < 60; ++round) {
      auto mutated = bytes;
      const auto& [start, size] = regions[round % regions.size()];
      for (int k = 0; k < 1 + round % 8; ++k) {
        mutated[start + rng() % size] = static_cast<uint8_t>(rng());
      }
      Exercise(mutated);
    }
  }
}

TEST(CorruptInputTest, FileSystemOddities) {
  testing::TempDir dir;
  EXPECT_EQ(GoBinary::Open(dir.Write("empty", {})).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(GoBinary::Open(dir.path()).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(GoBinary::Open(dir.path() + "/missing").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(GoBinary::Open("").status().code(), StatusCode::kNotFound);
  EXPECT_FALSE(GoBinary::Open("/dev/zero").ok());
  EXPECT_FALSE(GoBinary::Open("/proc/self/status").ok());
  EXPECT_FALSE(GoBinary::OpenFromMemory({}).ok());
}

}  // namespace
}  // namespace gcpilot::golang
