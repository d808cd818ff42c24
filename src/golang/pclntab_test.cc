// Tests of the .gopclntab reader: real binaries of every toolchain checked
// against their .symtab, synthetic tables, and corrupt headers.
#include "golang/pclntab.h"

#include <elf.h>
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "golang/elf_builder_test_util.h"
#include "golang/elf_symtab.h"
#include "golang/pclntab_loader.h"
#include "golang/testprogs_test_util.h"

namespace gcpilot::golang {
namespace {

using testing::BuildPclntab;
using testing::SyntheticFunc;

TEST(PclntabTest, RealBinariesHeader) {
  GCPILOT_REQUIRE_TESTPROGS(progs, "steady");
  for (const auto& prog : progs) {
    SCOPED_TRACE(prog.label());
    auto elf = ElfFile::Open(prog.path);
    ASSERT_TRUE(elf.ok());
    auto loaded = LoadPclntab(*elf, nullptr);
    ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
    EXPECT_EQ(loaded->found_in, ".gopclntab");
    EXPECT_EQ(loaded->address, elf->FindSection(".gopclntab")->address);
    const Pclntab& t = loaded->table;
    const int minor = testing::GoMinor(prog.go_dir);
    EXPECT_EQ(t.header().magic, minor < 20 ? 0xfffffff0u : 0xfffffff1u);
    EXPECT_EQ(t.version(), minor < 20 ? PclntabVersion::kGo118 : PclntabVersion::kGo120);
    EXPECT_EQ(t.header().min_lc, 1);
    EXPECT_EQ(t.header().ptr_size, 8);
    EXPECT_GT(t.size(), 1000u);
    EXPECT_GT(t.header().nfiles, 50u);
    EXPECT_EQ(t.text_start(), elf->FindSection(".text")->address);
    // Go 1.26 stopped storing textStart in the header (0 there now).
    EXPECT_EQ(t.header().text_start, minor >= 26 ? 0 : t.text_start());
    // Tables are laid out in header order after the header.
    EXPECT_LT(t.header().funcname_offset, t.header().cu_offset);
    EXPECT_LT(t.header().cu_offset, t.header().filetab_offset);
    EXPECT_LT(t.header().filetab_offset, t.header().pctab_offset);
    EXPECT_LT(t.header().pctab_offset, t.header().pcln_offset);

    uint64_t previous = 0;
    for (size_t i = 0; i < t.size(); ++i) {
      const PclntabFunction f = t.function(i);
      ASSERT_FALSE(f.name.empty()) << i;
      ASSERT_GE(f.entry, previous);
      ASSERT_GT(f.end, f.entry) << f.name;
      previous = f.entry;
    }
    auto gc_start = t.Find("runtime.gcStart");
    ASSERT_TRUE(gc_start.has_value());
    auto by_address = t.FindByAddress(gc_start->entry + 7);
    ASSERT_TRUE(by_address.has_value());
    EXPECT_EQ(by_address->name, "runtime.gcStart");
    EXPECT_EQ(t.FindByAddress(gc_start->end)->entry, gc_start->end);
    EXPECT_FALSE(t.FindByAddress(t.text_start() - 1).has_value());
    EXPECT_FALSE(t.Find("runtime.noSuchFunction").has_value());
    const auto marks = t.FindByPrefix("runtime.gcMarkTermination");
    EXPECT_GE(marks.size(), 2u);
    for (const auto& f : marks) EXPECT_EQ(f.name.rfind("runtime.gcMarkTermination", 0), 0u);
  }
}

// LineOf: the entry of a function maps to the line of its `func` in the
// source file the pclntab names (read back here), in plain and stripped
// builds alike; a PC in no function has no line.
TEST(PclntabTest, LineOfFunctionEntryIsItsFuncLine) {
  GCPILOT_REQUIRE_TESTPROGS(progs, "leak");
  for (const auto& prog : progs) {
    SCOPED_TRACE(prog.label());
    auto elf = ElfFile::Open(prog.path);
    ASSERT_TRUE(elf.ok());
    auto loaded = LoadPclntab(*elf, nullptr);
    ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
    const Pclntab& t = loaded->table;
    auto fn = t.Find("main.(*leaker).leakLoop");
    ASSERT_TRUE(fn.has_value());
    auto at = t.LineOf(fn->entry);
    ASSERT_TRUE(at.has_value());
    EXPECT_TRUE(std::string(at->file).ends_with("testprogs/leak/main.go")) << at->file;
    std::ifstream src{std::string(at->file)};
    ASSERT_TRUE(src.good()) << at->file;
    std::string line;
    int n = 0, want = 0;
    while (std::getline(src, line)) {
      ++n;
      if (line.starts_with("func (l *leaker) leakLoop(")) want = n;
    }
    EXPECT_EQ(at->line, want);
    // Every PC inside the function that is its own code (not inlined from
    // another file) has a line within the file.
    for (uint64_t pc = fn->entry; pc < fn->end; pc += 7) {
      auto l = t.LineOf(pc);
      if (!l || l->file != at->file) continue;  // Padding; inlined code.
      EXPECT_GT(l->line, 0);
      EXPECT_LE(l->line, n + 1);
    }
    auto gc = t.Find("runtime.gcStart");
    ASSERT_TRUE(gc.has_value());
    auto g = t.LineOf(gc->entry + 1);
    ASSERT_TRUE(g.has_value());
    EXPECT_TRUE(std::string(g->file).ends_with("runtime/mgc.go")) << g->file;
    EXPECT_FALSE(t.LineOf(t.text_start() - 1).has_value());
  }
}

// Every sized runtime.* function of .symtab has the same entry in the
// pclntab, and its code fits before the next function.
TEST(PclntabTest, AgreesWithSymtabOnEveryRuntimeFunction) {
  GCPILOT_REQUIRE_TESTPROGS(progs, "steady");
  for (const auto& prog : progs) {
    if (prog.stripped) continue;
    SCOPED_TRACE(prog.label());
    auto elf = ElfFile::Open(prog.path);
    ASSERT_TRUE(elf.ok());
    auto symtab = ElfSymtab::Load(*elf);
    ASSERT_TRUE(symtab.ok()) << symtab.status().ToString();
    auto loaded = LoadPclntab(*elf, &*symtab);
    ASSERT_TRUE(loaded.ok());
    std::map<std::string_view, std::vector<PclntabFunction>> by_name;
    for (size_t i = 0; i < loaded->table.size(); ++i) {
      const PclntabFunction f = loaded->table.function(i);
      by_name[f.name].push_back(f);
    }
    size_t checked = 0;
    size_t wrappers = 0;
    for (size_t i = 0; i < symtab->size(); ++i) {
      const ElfSymbol sym = symtab->at(i);
      // Size-0 FUNC symbols are markers (runtime.text, runtime.etext).
      if (sym.type != STT_FUNC || sym.size == 0 || !sym.name.starts_with("runtime.")) continue;
      // Assembly functions and ABI0 wrappers of Go functions carry a
      // ".abi0" suffix in .symtab only.
      std::string_view name = sym.name;
      if (name.ends_with(".abi0")) name.remove_suffix(5);
      auto it = by_name.find(name);
      ASSERT_NE(it, by_name.end()) << sym.name << " is in .symtab but not in .gopclntab";
      const PclntabFunction* match = nullptr;
      for (const auto& f : it->second) {
        if (f.entry == sym.value) match = &f;
      }
      ASSERT_NE(match, nullptr) << sym.name << ": no pclntab entry at its address";
      EXPECT_GE(match->end, sym.value + sym.size) << sym.name;
      if (it->second.size() > 1) {
        // Find() picks the Go function, not its wrapper.
        ++wrappers;
        auto found =
            sym.name.ends_with(".abi0") ? loaded->table.FindAbi0(name) : loaded->table.Find(name);
        ASSERT_TRUE(found.has_value());
        EXPECT_EQ(found->entry, sym.value) << sym.name;
      }
      ++checked;
    }
    EXPECT_GT(wrappers, 20u);
    EXPECT_GT(checked, 500u);
  }
}

// -s -w does not move code: the stripped build's pclntab has the same
// functions at the same addresses as the plain build of the same version.
TEST(PclntabTest, StrippedAndPlainBuildsAgree) {
  GCPILOT_REQUIRE_TESTPROGS(progs, "steady");
  for (size_t i = 0; i + 1 < progs.size(); ++i) {
    if (progs[i].go_dir != progs[i + 1].go_dir || progs[i].stripped || !progs[i + 1].stripped) {
      continue;
    }
    SCOPED_TRACE(progs[i].go_dir);
    auto plain = ElfFile::Open(progs[i].path);
    auto stripped = ElfFile::Open(progs[i + 1].path);
    ASSERT_TRUE(plain.ok() && stripped.ok());
    auto a = LoadPclntab(*plain, nullptr);
    auto b = LoadPclntab(*stripped, nullptr);
    ASSERT_TRUE(a.ok() && b.ok());
    ASSERT_EQ(a->table.size(), b->table.size());
    for (size_t k = 0; k < a->table.size(); ++k) {
      ASSERT_EQ(a->table.function(k).name, b->table.function(k).name);
      ASSERT_EQ(a->table.function(k).entry, b->table.function(k).entry);
    }
  }
}

const std::vector<SyntheticFunc> kFuncs = {
    {"main.main", 0x0}, {"runtime.gcStart", 0x40}, {"runtime.gcStart.func1", 0x100}};

TEST(PclntabTest, SyntheticTable) {
  const auto data = BuildPclntab(kFuncs, 0x180, 0x401000);
  auto t = Pclntab::Parse(data);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->version(), PclntabVersion::kGo120);
  ASSERT_EQ(t->size(), 3u);
  EXPECT_EQ(t->function(1).name, "runtime.gcStart");
  EXPECT_EQ(t->function(1).entry, 0x401040u);
  EXPECT_EQ(t->function(1).end, 0x401100u);
  EXPECT_EQ(t->function(2).end, 0x401180u);
  EXPECT_EQ(t->function(3).name, "");  // Out of range: empty, no read.
  EXPECT_EQ(t->FindByPrefix("runtime.gcStart").size(), 2u);
  EXPECT_EQ(t->FindByAddress(0x40117f)->name, "runtime.gcStart.func1");
  EXPECT_FALSE(t->FindByAddress(0x401180).has_value());

  auto old = Pclntab::Parse(BuildPclntab(kFuncs, 0x180, 0x401000, 0xfffffff0));
  ASSERT_TRUE(old.ok());
  EXPECT_EQ(old->version(), PclntabVersion::kGo118);
}

TEST(PclntabTest, UnsetTextStartUsesTheFallback) {
  const auto data = BuildPclntab(kFuncs, 0x180, 0);
  EXPECT_EQ(Pclntab::Parse(data).status().code(), StatusCode::kDataLoss);
  auto t = Pclntab::Parse(data, 0x7000);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->text_start(), 0x7000u);
  EXPECT_EQ(t->function(1).entry, 0x7040u);
}

TEST(PclntabTest, RejectsCorruptTables) {
  const auto good = BuildPclntab(kFuncs, 0x180, 0x401000);
  auto expect_code = [](std::vector<uint8_t> data, StatusCode code, const char* what) {
    auto t = Pclntab::Parse(data);
    EXPECT_EQ(t.status().code(), code) << what << ": " << t.status().ToString();
  };
  auto patch32 = [&](size_t off, uint32_t v) {
    auto d = good;
    std::memcpy(d.data() + off, &v, 4);
    return d;
  };
  auto patch64 = [&](size_t off, uint64_t v) {
    auto d = good;
    std::memcpy(d.data() + off, &v, 8);
    return d;
  };
  expect_code(patch32(0, 0xfffffffa), StatusCode::kInvalidArgument, "Go 1.16 magic");
  expect_code(patch32(0, 0xfffffffb), StatusCode::kInvalidArgument, "Go 1.2 magic");
  expect_code(patch32(0, 0x12345678), StatusCode::kInvalidArgument, "bad magic");
  auto d = good;
  d[4] = 1;
  expect_code(d, StatusCode::kDataLoss, "padding");
  d = good;
  d[6] = 3;
  expect_code(d, StatusCode::kDataLoss, "quantum");
  d = good;
  d[7] = 4;
  expect_code(d, StatusCode::kDataLoss, "pointer size");
  expect_code(patch64(8, 0), StatusCode::kDataLoss, "nfunc 0");
  expect_code(patch64(8, 1ULL << 62), StatusCode::kDataLoss, "nfunc huge");
  expect_code(patch64(8, 1000), StatusCode::kDataLoss, "nfunc past functab");
  expect_code(patch64(8 + 3 * 8, 1ULL << 40), StatusCode::kDataLoss, "funcname offset");
  expect_code(patch64(8 + 7 * 8, good.size() - 4), StatusCode::kDataLoss, "pcln offset");
  expect_code(patch64(8 + 7 * 8, ~0ULL), StatusCode::kDataLoss, "pcln offset overflow");
  expect_code(patch64(8 + 2 * 8, ~0ULL - 0x10), StatusCode::kDataLoss, "address overflow");

  // functab starts after the header (72) and the names.
  size_t names = 0;
  for (const auto& f : kFuncs) names += f.name.size() + 1;
  const size_t functab = 72 + names;
  expect_code(patch32(functab + 16, 0x10), StatusCode::kDataLoss, "unsorted");
  expect_code(patch32(functab + 4, 0xfffffff0), StatusCode::kDataLoss, "_func offset");
  const size_t funcs = functab + (2 * kFuncs.size() + 1) * 4;
  expect_code(patch32(funcs, 0x4), StatusCode::kDataLoss, "_func entry mismatch");
  expect_code(patch32(funcs + 4, 0x7fffffff), StatusCode::kDataLoss, "name offset");
  // A name that runs to the end of the data without a NUL.
  d = BuildPclntab({{"f", 0}}, 0x10, 0x401000);
  const size_t name_at = 72;
  d.resize(d.size() + 4, 'x');
  uint32_t name_off = static_cast<uint32_t>(d.size() - 4 - name_at);
  std::memcpy(d.data() + 72 + 2 + 12 + 4, &name_off, 4);
  expect_code(d, StatusCode::kDataLoss, "unterminated name");

  for (size_t len = 0; len < good.size(); ++len) {
    auto t = Pclntab::Parse(std::span<const uint8_t>(good.data(), len));
    EXPECT_FALSE(t.ok()) << "truncated to " << len;
  }
}

TEST(PclntabTest, LoaderFindsRenamedTableAndRelocatedTextStart) {
  using testing::BuildElf;
  using testing::SyntheticElf;
  using testing::SyntheticSection;
  // Stripped, externally linked PIE: no .gopclntab section, textStart 0 in
  // the file and an R_X86_64_RELATIVE relocation that fills it.
  std::vector<uint8_t> rodata(64, 0);
  const auto table = BuildPclntab(kFuncs, 0x180, 0);
  rodata.insert(rodata.end(), table.begin(), table.end());
  std::vector<uint8_t> rela;
  testing::PutU64(rela, 0x20000 + 64 + 24);  // r_offset: pcHeader.textStart.
  testing::PutU64(rela, R_X86_64_RELATIVE);
  testing::PutU64(rela, 0x3000);  // r_addend.
  SyntheticElf spec;
  spec.type = ET_DYN;
  spec.sections.push_back(SyntheticSection{".text", SHT_PROGBITS, SHF_ALLOC | SHF_EXECINSTR, 0x2f00,
                                           std::vector<uint8_t>(0x300, 0xcc)});
  spec.sections.push_back(
      SyntheticSection{".data.rel.ro", SHT_PROGBITS, SHF_ALLOC | SHF_WRITE, 0x20000, rodata});
  spec.sections.push_back(
      SyntheticSection{".rela.dyn", SHT_RELA, SHF_ALLOC, 0x1000, rela, 0, sizeof(Elf64_Rela)});
  auto elf = ElfFile::OpenFromMemory(BuildElf(spec));
  ASSERT_TRUE(elf.ok()) << elf.status().ToString();
  auto loaded = LoadPclntab(*elf, nullptr);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->found_in, "segment scan");
  EXPECT_EQ(loaded->address, 0x20000u + 64);
  EXPECT_EQ(loaded->table.text_start(), 0x3000u);
  EXPECT_EQ(loaded->table.Find("runtime.gcStart")->entry, 0x3040u);

  // Without the relocation: the .text section address.
  spec.sections.pop_back();
  elf = ElfFile::OpenFromMemory(BuildElf(spec));
  ASSERT_TRUE(elf.ok());
  loaded = LoadPclntab(*elf, nullptr);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->table.text_start(), 0x2f00u);

  // No table anywhere.
  spec.sections.pop_back();
  elf = ElfFile::OpenFromMemory(BuildElf(spec));
  ASSERT_TRUE(elf.ok());
  EXPECT_EQ(LoadPclntab(*elf, nullptr).status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace gcpilot::golang
