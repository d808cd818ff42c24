// Tests of SymbolResolver: the probe targets of the eBPF source must be
// found in plain (.symtab) and stripped (.gopclntab) builds of every Go
// version, at the same addresses; globals only with .symtab.
#include "golang/symbols.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "golang/testprogs_test_util.h"

namespace gcpilot::golang {
namespace {

// The functions GO_RUNTIME_NOTES.md lists as real text symbols in 1.19-1.23.
const char* const kProbeTargets[] = {
    "runtime.gcStart",
    "runtime.gcMarkDone",
    "runtime.gcMarkTermination",
    "runtime.gcMarkTermination.func3",
    "runtime.stopTheWorldWithSema",
    "runtime.startTheWorldWithSema",
    "runtime.stopTheWorld",
    "runtime.startTheWorld",
    "runtime.gcAssistAlloc",
    "runtime.gcBgMarkWorker",
    "runtime.sweepone",
    "runtime.(*mheap).allocSpan",
    "runtime.newproc1",
    "runtime.goexit1",
    "runtime.mallocgc",
};

TEST(SymbolsTest, ProbeTargetsInPlainAndStrippedBuilds) {
  GCPILOT_REQUIRE_TESTPROGS(progs, "steady");
  std::map<std::string, uint64_t> plain_address;  // "go1.22 runtime.gcStart" -> entry.
  for (const auto& prog : progs) {
    SCOPED_TRACE(prog.label());
    auto elf = ElfFile::Open(prog.path);
    ASSERT_TRUE(elf.ok());
    auto resolver = SymbolResolver::Create(*elf);
    ASSERT_TRUE(resolver.ok()) << resolver.status().ToString();
    EXPECT_EQ(resolver->has_symtab(), !prog.stripped);
    ASSERT_NE(resolver->pclntab(), nullptr);
    const ElfSection* text = elf->FindSection(".text");
    for (const char* name : kProbeTargets) {
      auto fn = resolver->FindFunction(name);
      ASSERT_TRUE(fn.ok()) << fn.status().ToString();
      EXPECT_EQ(fn->name, name);
      EXPECT_EQ(fn->source, prog.stripped ? SymbolSource::kPclntab : SymbolSource::kSymtab);
      EXPECT_GT(fn->size, 0u) << name;
      // Symbol address - section address + section offset.
      EXPECT_EQ(fn->file_offset, fn->address - text->address + text->file_offset) << name;
      const std::string key = prog.go_dir + " " + name;
      if (!prog.stripped) {
        plain_address[key] = fn->address;
      } else if (plain_address.count(key) != 0) {
        EXPECT_EQ(fn->address, plain_address[key]) << name << ": plain vs stripped";
      }
    }
  }
}

TEST(SymbolsTest, GlobalsNeedTheSymbolTable) {
  GCPILOT_REQUIRE_TESTPROGS(progs, "steady");
  for (const auto& prog : progs) {
    SCOPED_TRACE(prog.label());
    auto elf = ElfFile::Open(prog.path);
    ASSERT_TRUE(elf.ok());
    auto resolver = SymbolResolver::Create(*elf);
    ASSERT_TRUE(resolver.ok());
    for (const char* name : {"runtime.memstats", "runtime.work", "runtime.gcController"}) {
      auto global = resolver->FindGlobal(name);
      if (prog.stripped) {
        EXPECT_EQ(global.status().code(), StatusCode::kNotFound);
        EXPECT_NE(global.status().message().find(
                      "stripped binary: globals like runtime.memstats are not recoverable"),
                  std::string::npos)
            << global.status().message();
      } else {
        ASSERT_TRUE(global.ok()) << global.status().ToString();
        EXPECT_GT(global->size, 0u);
        EXPECT_GT(global->address, elf->FindSection(".text")->address);
      }
    }
    if (!prog.stripped) {
      EXPECT_EQ(resolver->FindGlobal("runtime.noSuchGlobal").status().code(),
                StatusCode::kNotFound);
      // A function is not a global.
      EXPECT_FALSE(resolver->FindGlobal("runtime.gcStart").ok());
    }
  }
}

TEST(SymbolsTest, MissingFunctionAndPrefixListing) {
  GCPILOT_REQUIRE_TESTPROGS(progs, "steady");
  for (const auto& prog : progs) {
    SCOPED_TRACE(prog.label());
    auto elf = ElfFile::Open(prog.path);
    ASSERT_TRUE(elf.ok());
    auto resolver = SymbolResolver::Create(*elf);
    ASSERT_TRUE(resolver.ok());
    auto missing = resolver->FindFunction("runtime.noSuchFunction");
    EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
    EXPECT_NE(missing.status().message().find("runtime.noSuchFunction"), std::string::npos);

    const auto listed = resolver->ListFunctions("runtime.gcMarkTermination");
    bool saw_func3 = false;
    uint64_t previous = 0;
    for (const auto& fn : listed) {
      EXPECT_EQ(fn.name.rfind("runtime.gcMarkTermination", 0), 0u) << fn.name;
      EXPECT_GE(fn.address, previous);
      previous = fn.address;
      saw_func3 |= fn.name == "runtime.gcMarkTermination.func3";
    }
    EXPECT_TRUE(saw_func3);
    EXPECT_GT(resolver->ListFunctions("runtime.").size(), 1000u);
    EXPECT_TRUE(resolver->ListFunctions("no.such.prefix.").empty());
  }
}

// A stripped build lists the same functions at the same addresses as the
// plain build of the same version (.symtab's size-0 markers aside), and
// FindFunction agrees on every one of them, ".abi0" names included.
TEST(SymbolsTest, StrippedListsWhatThePlainBuildLists) {
  GCPILOT_REQUIRE_TESTPROGS(progs, "steady");
  for (size_t i = 0; i + 1 < progs.size(); ++i) {
    if (progs[i].go_dir != progs[i + 1].go_dir || progs[i].stripped || !progs[i + 1].stripped) {
      continue;
    }
    SCOPED_TRACE(progs[i].go_dir);
    auto plain_elf = ElfFile::Open(progs[i].path);
    auto stripped_elf = ElfFile::Open(progs[i + 1].path);
    ASSERT_TRUE(plain_elf.ok() && stripped_elf.ok());
    auto plain = SymbolResolver::Create(*plain_elf);
    auto stripped = SymbolResolver::Create(*stripped_elf);
    ASSERT_TRUE(plain.ok() && stripped.ok());
    std::map<std::string, uint64_t> plain_list;
    for (const auto& fn : plain->ListFunctions("runtime.")) {
      if (fn.size > 0) plain_list[fn.name] = fn.address;
    }
    std::map<std::string, uint64_t> stripped_list;
    for (const auto& fn : stripped->ListFunctions("runtime.")) stripped_list[fn.name] = fn.address;
    // The pclntab cannot tell an ABI0 assembly function from an
    // ABIInternal one, so a lone "X.abi0" of .symtab is listed as "X".
    auto normalize = [](const std::map<std::string, uint64_t>& list,
                        const std::map<std::string, uint64_t>& other) {
      std::map<std::string, uint64_t> out;
      for (const auto& [name, address] : list) {
        std::string n = name;
        if (n.ends_with(".abi0") && other.count(n) == 0) n.resize(n.size() - 5);
        out[n] = address;
      }
      return out;
    };
    const auto plain_normalized = normalize(plain_list, stripped_list);
    for (const auto& [name, address] : plain_normalized) {
      auto it = stripped_list.find(name);
      EXPECT_TRUE(it != stripped_list.end() && it->second == address)
          << name << " at " << address << " only in the plain build's list";
    }
    for (const auto& [name, address] : stripped_list) {
      auto it = plain_normalized.find(name);
      EXPECT_TRUE(it != plain_normalized.end() && it->second == address)
          << name << " at " << address << " only in the stripped build's list";
    }
    // Lookups are linear scans: check a sample plus every ".abi0" name.
    size_t n = 0;
    for (const auto& [name, address] : plain_list) {
      if (n++ % 16 != 0 && !name.ends_with(".abi0")) continue;
      auto fn = stripped->FindFunction(name);
      ASSERT_TRUE(fn.ok()) << fn.status().ToString();
      EXPECT_EQ(fn->address, address) << name;
      EXPECT_EQ(fn->name, name);
    }
    // Assembly functions are found with or without ".abi0" in both.
    for (const auto* resolver : {&*plain, &*stripped}) {
      auto rt0 = resolver->FindFunction("runtime.rt0_go");
      auto rt0_abi0 = resolver->FindFunction("runtime.rt0_go.abi0");
      ASSERT_TRUE(rt0.ok() && rt0_abi0.ok());
      EXPECT_EQ(rt0->address, rt0_abi0->address);
    }
  }
}

}  // namespace
}  // namespace gcpilot::golang
