// Tests of RuntimeLayout on the test programs of every test toolchain: the
// stripped, PIE and -pgo builds' layouts (code+table) equal the DWARF layout
// of the same program's plain build; the generated table equals DWARF; a -w
// binary uses symtab+table; an untabled patch version uses the nearest
// tabled one of its minor (checked against DWARF); an untabled minor and
// code that no longer matches give errors, never guesses or crashes. Member
// offsets of types reached through pointers (p.gFree.n) likewise.
#include "golang/runtime_layout.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "golang/runtime_layout_spec.h"
#include "golang/runtime_layout_table.h"
#include "golang/temp_dir_test_util.h"
#include "golang/testprogs_test_util.h"

namespace gcpilot::golang {
namespace {

std::vector<uint8_t> Load(const std::string& path) {
  const std::string s = testing::ReadWholeFile(path);
  return std::vector<uint8_t>(s.begin(), s.end());
}

// Plain and stripped builds of `name`, paired per Go version.
std::map<std::string, std::pair<std::string, std::string>> Pairs(
    const std::vector<testing::TestProg>& progs) {
  std::map<std::string, std::pair<std::string, std::string>> pairs;
  for (const auto& p : progs)
    (p.stripped ? pairs[p.go_dir].second : pairs[p.go_dir].first) = p.path;
  return pairs;
}

// Replaces the first `from` in .go.buildinfo with `to` (same length).
bool PatchVersion(std::vector<uint8_t>& bytes, const std::string& from, const std::string& to) {
  auto elf = ElfFile::OpenFromMemory(bytes);
  if (!elf.ok() || from.size() != to.size()) return false;
  const ElfSection* s = elf->FindSection(".go.buildinfo");
  if (s == nullptr) return false;
  auto begin = bytes.begin() + static_cast<std::ptrdiff_t>(s->file_offset);
  auto end = begin + static_cast<std::ptrdiff_t>(s->size);
  auto it = std::search(begin, end, from.begin(), from.end());
  if (it == end) return false;
  std::copy(to.begin(), to.end(), it);
  return true;
}

void ExpectSameMembers(const RuntimeLayout& a, const RuntimeLayout& b) {
  for (size_t m = 0; m < kRuntimeMemberCount; ++m) {
    const auto member = static_cast<RuntimeMember>(m);
    EXPECT_EQ(a.Member(member), b.Member(member)) << RuntimeMemberName(member);
  }
}

void ExpectSameLayout(const RuntimeLayout& a, const RuntimeLayout& b) {
  for (size_t f = 0; f < kRuntimeFieldCount; ++f) {
    const auto field = static_cast<RuntimeField>(f);
    EXPECT_EQ(a.Get(field), b.Get(field)) << RuntimeFieldName(field);
  }
  ExpectSameMembers(a, b);
}

// "section+offset" of `address` in `elf`.
std::string SectionRelative(const ElfFile& elf, uint64_t address) {
  for (const ElfSection& s : elf.sections()) {
    if (s.address != 0 && address >= s.address && address - s.address < s.size) {
      return s.name + "+" + std::to_string(address - s.address);
    }
  }
  return "nowhere";
}

// The -s -w build of a program differs from the plain one in its build
// settings string, which moves the data sections by a few bytes: compare
// the fields' places inside their sections.
void ExpectSameRelativeLayout(const GoBinary& a_binary, const RuntimeLayout& a,
                              const GoBinary& b_binary, const RuntimeLayout& b) {
  for (size_t f = 0; f < kRuntimeFieldCount; ++f) {
    const auto field = static_cast<RuntimeField>(f);
    ASSERT_EQ(a.Get(field).has_value(), b.Get(field).has_value()) << RuntimeFieldName(field);
    if (!a.Get(field)) continue;
    EXPECT_EQ(a.Get(field)->size, b.Get(field)->size) << RuntimeFieldName(field);
    EXPECT_EQ(SectionRelative(a_binary.elf(), a.Get(field)->address),
              SectionRelative(b_binary.elf(), b.Get(field)->address))
        << RuntimeFieldName(field);
  }
  ExpectSameMembers(a, b);
}

TEST(RuntimeLayoutTest, FieldNames) {
  std::set<std::string_view> names;
  for (size_t f = 0; f < kRuntimeFieldCount; ++f) {
    names.insert(RuntimeFieldName(static_cast<RuntimeField>(f)));
  }
  EXPECT_EQ(names.size(), kRuntimeFieldCount);
  EXPECT_EQ(RuntimeFieldName(RuntimeField::kWorkTSweepTerm), "work.tSweepTerm");
  EXPECT_EQ(RuntimeFieldName(RuntimeField::kCount), "unknown");
  EXPECT_EQ(RuntimeFieldName(RuntimeField::kSchedNgsys), "sched.ngsys");
  EXPECT_EQ(RuntimeMemberName(RuntimeMember::kPGFreeN), "p.gFree.n");
  EXPECT_EQ(RuntimeMemberName(RuntimeMember::kCount), "unknown");
}

TEST(RuntimeLayoutTest, StrippedLayoutEqualsDwarfLayoutOfEveryToolchain) {
  GCPILOT_REQUIRE_TESTPROGS(progs, "steady");
  for (const auto& [go_dir, paths] : Pairs(progs)) {
    SCOPED_TRACE(go_dir);
    ASSERT_FALSE(paths.first.empty());
    ASSERT_FALSE(paths.second.empty());
    auto plain = GoBinary::Open(paths.first);
    auto stripped = GoBinary::Open(paths.second);
    ASSERT_TRUE(plain.ok() && stripped.ok());
    auto want = ResolveRuntimeLayout(*plain);
    ASSERT_TRUE(want.ok()) << want.status().ToString();
    EXPECT_EQ(want->how(), "dwarf");
    auto got = ResolveRuntimeLayout(*stripped);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(got->how(), "code+table " + stripped->go_version());
    ExpectSameRelativeLayout(*stripped, *got, *plain, *want);

    // The DWARF layout is the symbol plus the member offset.
    auto memstats = plain->FindGlobal("runtime.memstats");
    auto numgc = plain->FindStructMember("runtime.mstats", "numgc");
    ASSERT_TRUE(memstats.ok() && numgc.ok());
    EXPECT_EQ(want->Get(RuntimeField::kMemstatsNumgc),
              (FieldLocation{memstats->address + numgc->offset, 4}));
    auto gomaxprocs = plain->FindGlobal("runtime.gomaxprocs");
    ASSERT_TRUE(gomaxprocs.ok());
    EXPECT_EQ(want->Get(RuntimeField::kGomaxprocs), (FieldLocation{gomaxprocs->address, 4}));
    // The goroutine count's inputs: allp is a slice (array, len, cap).
    auto allp = plain->FindGlobal("runtime.allp");
    ASSERT_TRUE(allp.ok());
    EXPECT_EQ(allp->size, 24u);
    EXPECT_EQ(want->Get(RuntimeField::kAllpArray), (FieldLocation{allp->address, 8}));
    EXPECT_EQ(want->Get(RuntimeField::kAllpLen), (FieldLocation{allp->address + 8, 8}));
    auto sched = plain->FindGlobal("runtime.sched");
    auto ngsys = plain->FindStructMember("runtime.schedt",
                                         testing::GoMinor(go_dir) < 21 ? "ngsys" : "ngsys.value");
    ASSERT_TRUE(sched.ok() && ngsys.ok());
    EXPECT_EQ(want->Get(RuntimeField::kSchedNgsys),
              (FieldLocation{sched->address + ngsys->offset, 4}));
    const bool lists_count_themselves = testing::GoMinor(go_dir) >= 25;
    auto p_free =
        plain->FindStructMember("runtime.p", lists_count_themselves ? "gFree.size" : "gFree.n");
    ASSERT_TRUE(p_free.ok());
    EXPECT_EQ(want->Member(RuntimeMember::kPGFreeN),
              (MemberLocation{static_cast<uint32_t>(p_free->offset), 4}));
    // Every field exists (stackScan: maxStackScan on 1.19), but for
    // sched.gFree.noStack.size, which only 1.25+ count apart.
    for (size_t f = 0; f < kRuntimeFieldCount; ++f) {
      const auto field = static_cast<RuntimeField>(f);
      EXPECT_EQ(want->Get(field).has_value(),
                field != RuntimeField::kSchedGFreeNoStack || lists_count_themselves)
          << RuntimeFieldName(field);
    }
    // Memoized: the same result again.
    auto again = ResolveRuntimeLayout(*stripped);
    ASSERT_TRUE(again.ok());
    ExpectSameLayout(*again, *got);
  }
}

// The table's code references come from other programs: they must hold
// for every test program (the runtime's code does not depend on the user's).
TEST(RuntimeLayoutTest, EveryStrippedTestProgramResolves) {
  for (const char* name : {"idle", "storm", "periodicgc"}) {
    GCPILOT_REQUIRE_TESTPROGS(progs, name);
    for (const auto& [go_dir, paths] : Pairs(progs)) {
      SCOPED_TRACE(go_dir + " " + name);
      auto plain = GoBinary::Open(paths.first);
      auto stripped = GoBinary::Open(paths.second);
      ASSERT_TRUE(plain.ok() && stripped.ok());
      auto want = ResolveRuntimeLayout(*plain);
      auto got = ResolveRuntimeLayout(*stripped);
      ASSERT_TRUE(want.ok() && got.ok()) << got.status().ToString();
      ExpectSameRelativeLayout(*stripped, *got, *plain, *want);
    }
  }
}

TEST(RuntimeLayoutTest, TableOffsetsEqualDwarfOfEveryToolchain) {
  GCPILOT_REQUIRE_TESTPROGS(progs, "steady");
  for (const auto& prog : progs) {
    if (prog.stripped) continue;
    SCOPED_TRACE(prog.label());
    auto binary = GoBinary::Open(prog.path);
    ASSERT_TRUE(binary.ok());
    const std::string version = binary->go_version();
    ASSERT_TRUE(TableHasVersion(version)) << version << " not in " << TableVersionList();
    auto dwarf = binary->OpenDwarf();
    ASSERT_TRUE(dwarf.ok());
    std::map<RuntimeField, uint32_t> table;
    for (const TableOffset& row : TableOffsets()) {
      if (row.go_version == version) table[row.field] = row.offset;
    }
    for (size_t f = 0; f < kRuntimeFieldCount; ++f) {
      const auto field = static_cast<RuntimeField>(f);
      SCOPED_TRACE(std::string(RuntimeFieldName(field)));
      const RuntimeFieldSpec& spec = FieldSpec(field);
      const std::string_view type = GlobalSpec(spec.global).struct_type;
      std::optional<uint64_t> offset;
      if (type.empty()) {
        offset = 0;
      } else {
        for (std::string_view path : spec.member_paths) {
          if (path.empty() || offset) continue;
          auto m = (*dwarf)->FindMember(type, path);
          if (m.ok()) offset = m->offset;
        }
      }
      ASSERT_EQ(offset.has_value(), table.count(field) == 1);
      if (offset) {
        EXPECT_EQ(*offset, table[field]);
      }
    }
    std::map<RuntimeMember, uint32_t> members;
    for (const TableMember& row : TableMembers()) {
      if (row.go_version == version) members[row.member] = row.offset;
    }
    for (size_t m = 0; m < kRuntimeMemberCount; ++m) {
      const auto member = static_cast<RuntimeMember>(m);
      SCOPED_TRACE(std::string(RuntimeMemberName(member)));
      const RuntimeMemberSpec& spec = MemberSpec(member);
      std::optional<uint64_t> offset;
      for (std::string_view path : spec.member_paths) {
        if (path.empty() || offset) continue;
        auto found = (*dwarf)->FindMember(spec.struct_type, path);
        if (found.ok()) offset = found->offset;
      }
      // Some members are gone in newer versions (p.gFree.n in 1.25).
      ASSERT_EQ(members.count(member), offset ? 1u : 0u);
      if (offset) {
        EXPECT_EQ(*offset, members[member]);
      }
    }
    for (const TableGlobal& row : TableGlobals()) {
      if (row.go_version != version) continue;
      auto symbol = binary->FindGlobal(GlobalSpec(row.global).symbol);
      ASSERT_TRUE(symbol.ok());
      EXPECT_EQ(symbol->size, row.size) << symbol->name;
      const ElfSection* section = binary->elf().FindSection(row.section);
      ASSERT_NE(section, nullptr) << row.section;
      EXPECT_GE(symbol->address, section->address);
      EXPECT_LE(symbol->address + symbol->size, section->address + section->size);
    }
  }
}

TEST(RuntimeLayoutTest, WithoutDwarfUsesSymtabAndTable) {
  GCPILOT_REQUIRE_TESTPROGS(progs, "steady");
  testing::TempDir dir;
  for (const auto& [go_dir, paths] : Pairs(progs)) {
    SCOPED_TRACE(go_dir);
    const std::string no_dwarf = dir.path() + "/" + go_dir + "-w";
    if (testing::RunCommand("objcopy --strip-debug '" + paths.first + "' '" + no_dwarf +
                            "' 2>&1 && echo ok") != "ok\n") {
      GTEST_SKIP() << "objcopy --strip-debug failed";
    }
    auto plain = GoBinary::Open(paths.first);
    auto w = GoBinary::Open(no_dwarf);
    ASSERT_TRUE(plain.ok() && w.ok());
    ASSERT_FALSE(w->has_dwarf());
    ASSERT_FALSE(w->stripped());
    auto want = ResolveRuntimeLayout(*plain);
    auto got = ResolveRuntimeLayout(*w);
    ASSERT_TRUE(want.ok() && got.ok()) << got.status().ToString();
    EXPECT_EQ(got->how(), "symtab+table " + w->go_version());
    ExpectSameLayout(*got, *want);
  }
}

// "go1.23.5" -> the same minor, another patch of the same length that the
// table lacks ("go1.23.9"), or "" when there is none.
std::string UntabledPatch(const std::string& v) {
  for (char digit = '9'; digit >= '0'; --digit) {
    const std::string other = v.substr(0, v.size() - 1) + digit;
    if (!TableHasVersion(other)) return other;
  }
  return "";
}

// "go1.23.5" -> "go1.18.5": a minor the table does not have.
std::string UntabledMinor(const std::string& v) { return "go1.18" + v.substr(v.rfind('.')); }

// A patch version the table lacks is resolved with the nearest tabled
// version of its minor (the code references must agree), and labelled so;
// with the real runtime of another patch, the result equals DWARF.
TEST(RuntimeLayoutTest, UntabledPatchUsesTheNearestTabledVersionOfItsMinor) {
  GCPILOT_REQUIRE_TESTPROGS(progs, "steady");
  for (const auto& [go_dir, paths] : Pairs(progs)) {
    SCOPED_TRACE(go_dir);
    auto plain = GoBinary::Open(paths.first);
    ASSERT_TRUE(plain.ok());
    auto want = ResolveRuntimeLayout(*plain);
    ASSERT_TRUE(want.ok());
    auto bytes = Load(paths.second);
    const std::string v = plain->go_version();
    const std::string other = UntabledPatch(v);
    // go1.23.5: go1.23.0-9 are all tabled (a longer version cannot be
    // patched in place); the other minors cover the path.
    if (other.empty()) continue;
    ASSERT_TRUE(PatchVersion(bytes, v, other));
    auto binary = GoBinary::OpenFromMemory(bytes);
    ASSERT_TRUE(binary.ok());
    auto got = ResolveRuntimeLayout(*binary);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_TRUE(got->table_fallback());
    EXPECT_NE(got->how().find("nearest to " + other), std::string::npos) << got->how();
    // Offsets that vary across the minor's tabled patches are left out;
    // every one given equals DWARF.
    for (size_t f = 0; f < kRuntimeFieldCount; ++f) {
      const auto field = static_cast<RuntimeField>(f);
      if (!got->Get(field)) continue;
      ASSERT_TRUE(want->Get(field)) << RuntimeFieldName(field);
      EXPECT_EQ(SectionRelative(binary->elf(), got->Get(field)->address),
                SectionRelative(plain->elf(), want->Get(field)->address))
          << RuntimeFieldName(field);
    }
    EXPECT_TRUE(got->Get(RuntimeField::kMemstatsNumgc));
    EXPECT_TRUE(got->Get(RuntimeField::kMemstatsPauseNs));
  }
}

TEST(RuntimeLayoutTest, UntabledMinorWithoutDwarfIsAnError) {
  GCPILOT_REQUIRE_TESTPROGS(progs, "steady");
  for (const auto& [go_dir, paths] : Pairs(progs)) {
    SCOPED_TRACE(go_dir);
    for (const std::string& path : {paths.second, paths.first}) {
      auto bytes = Load(path);
      auto original = GoBinary::OpenFromMemory(bytes);
      ASSERT_TRUE(original.ok());
      const std::string v = original->go_version();
      const std::string other = UntabledMinor(v);
      ASSERT_TRUE(TableCandidates(other).empty());
      ASSERT_TRUE(PatchVersion(bytes, v, other));
      auto binary = GoBinary::OpenFromMemory(bytes);
      ASSERT_TRUE(binary.ok());
      auto layout = ResolveRuntimeLayout(*binary);
      if (!binary->stripped()) {
        // DWARF needs no table.
        ASSERT_TRUE(layout.ok()) << layout.status().ToString();
        EXPECT_EQ(layout->how(), "dwarf");
        continue;
      }
      ASSERT_FALSE(layout.ok());
      EXPECT_EQ(layout.status().code(), StatusCode::kNotFound);
      EXPECT_NE(layout.status().message().find("stripped " + other +
                                               " binary: no offset table for this Go version "
                                               "or its minor (have " +
                                               TableVersionList() + ")"),
                std::string::npos)
          << layout.status().message();
    }
  }
}

// The -pgo and PIE builds (other code, other addresses) resolve to the
// same places as the plain build's DWARF says.
TEST(RuntimeLayoutTest, PgoAndPieBuildsResolve) {
  for (const char* variant : {"steady-pgo-stripped", "steady-pie-stripped", "steady-nodwarf"}) {
    const auto plains = testing::FindTestProgs("steady");
    for (const auto& plain_prog : plains) {
      if (plain_prog.stripped) continue;
      const std::string path = std::filesystem::path(plain_prog.path).parent_path() / variant;
      if (!std::filesystem::exists(path)) continue;
      SCOPED_TRACE(plain_prog.go_dir + " " + variant);
      auto plain = GoBinary::Open(plain_prog.path);
      auto other = GoBinary::Open(path);
      ASSERT_TRUE(plain.ok() && other.ok()) << other.status().ToString();
      auto want = ResolveRuntimeLayout(*plain);
      auto got = ResolveRuntimeLayout(*other);
      ASSERT_TRUE(want.ok() && got.ok()) << got.status().ToString();
      EXPECT_FALSE(got->table_fallback());
      ExpectSameRelativeLayout(*other, *got, *plain, *want);
    }
  }
}

TEST(RuntimeLayoutTest, LayoutOfUntabledNewerMinorIsTriedWithTheNewest) {
  const std::vector<std::string> versions = TableVersions();
  ASSERT_FALSE(versions.empty());
  const auto newest = ParseGoVersion(versions.back());
  ASSERT_TRUE(newest);
  const std::string future = "go1." + std::to_string(newest->minor + 1) + ".0";
  const std::vector<std::string> candidates = TableCandidates(future);
  ASSERT_FALSE(candidates.empty());
  EXPECT_EQ(candidates.front(), versions.back());
  EXPECT_TRUE(TableCandidates("go1.18.10").empty());
  EXPECT_TRUE(TableCandidates("go1.23rc1").empty());
}

// NOPs instead of the code of `functions` in `bytes` (a copy).
std::vector<uint8_t> WithoutCode(const GoBinary& clean, std::vector<uint8_t> bytes,
                                 const std::set<std::string_view>& functions) {
  for (std::string_view name : functions) {
    auto fn = clean.FindFunction(name);
    if (!fn.ok()) continue;
    auto offset = clean.elf().VirtualAddressToFileOffset(fn->address);
    if (!offset.ok()) continue;
    std::fill_n(bytes.begin() + static_cast<std::ptrdiff_t>(*offset), fn->size, 0x90);
  }
  return bytes;
}

// One referencing function that differs (inlined, rewritten) is outvoted;
// with all but one gone, no two references agree: an error naming the
// global, never a guess.
TEST(RuntimeLayoutTest, CodeThatDiffersFromTheTableIsOutvotedOrAnError) {
  GCPILOT_REQUIRE_TESTPROGS(progs, "steady");
  for (const auto& [go_dir, paths] : Pairs(progs)) {
    SCOPED_TRACE(go_dir);
    const auto original = Load(paths.second);
    auto clean = GoBinary::OpenFromMemory(original);
    ASSERT_TRUE(clean.ok());
    auto want = ResolveRuntimeLayout(*clean);
    ASSERT_TRUE(want.ok()) << want.status().ToString();
    for (size_t g = 0; g < kRuntimeGlobalCount; ++g) {
      const auto global = static_cast<RuntimeGlobal>(g);
      SCOPED_TRACE(std::string(RuntimeGlobalName(global)));
      std::vector<std::string_view> functions;
      for (const TableReference& ref : TableReferences()) {
        if (ref.go_version == clean->go_version() && ref.global == global &&
            clean->FindFunction(ref.function).ok()) {
          functions.push_back(ref.function);
        }
      }
      ASSERT_GE(functions.size(), 2u);
      if (functions.size() >= 3) {
        auto one_gone = GoBinary::OpenFromMemory(WithoutCode(*clean, original, {functions[0]}));
        ASSERT_TRUE(one_gone.ok());
        auto layout = ResolveRuntimeLayout(*one_gone);
        ASSERT_TRUE(layout.ok()) << layout.status().ToString();
        ExpectSameLayout(*layout, *want);
      }
      const std::set<std::string_view> all_but_last(functions.begin(), functions.end() - 1);
      auto gone = GoBinary::OpenFromMemory(WithoutCode(*clean, original, all_but_last));
      ASSERT_TRUE(gone.ok());
      auto layout = ResolveRuntimeLayout(*gone);
      ASSERT_FALSE(layout.ok());
      // It names this global, or another whose references were in the
      // same functions (allgs and allglen share theirs).
      bool names_an_affected_global = false;
      for (const TableReference& ref : TableReferences()) {
        if (ref.go_version == clean->go_version() && all_but_last.count(ref.function) &&
            layout.status().message().find(std::string(GlobalSpec(ref.global).symbol) + ":") !=
                std::string::npos) {
          names_an_affected_global = true;
        }
      }
      EXPECT_TRUE(names_an_affected_global) << layout.status().message();
    }
  }
}

TEST(RuntimeLayoutTest, MutatedBinariesNeverCrash) {
  GCPILOT_REQUIRE_TESTPROGS(progs, "steady");
  std::mt19937_64 rng(42);
  for (const auto& [go_dir, paths] : Pairs(progs)) {
    const auto original = Load(paths.second);
    auto clean = GoBinary::OpenFromMemory(original);
    ASSERT_TRUE(clean.ok());
    const ElfSection* text = clean->elf().FindSection(".text");
    ASSERT_NE(text, nullptr);
    for (int round = 0; round < 8; ++round) {
      auto bytes = original;
      for (int i = 0; i < 2000; ++i) {
        bytes[text->file_offset + rng() % text->size] = static_cast<uint8_t>(rng());
      }
      auto binary = GoBinary::OpenFromMemory(bytes);
      if (!binary.ok()) continue;
      auto layout = ResolveRuntimeLayout(*binary);
      if (!layout.ok()) {
        EXPECT_FALSE(layout.status().message().empty());
      }
    }
  }
}

}  // namespace
}  // namespace gcpilot::golang
