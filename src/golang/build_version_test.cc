// Tests of runtime.buildVersion recognition on synthetic ELF images: the
// version string grammar, pclntab magics, the .symtab path and the data
// scan (one version, duplicates, ambiguity, nothing, hostile pointers).
// Real Go binaries without .go.buildinfo are tested in go_binary_test.cc.
#include "golang/build_version.h"

#include <elf.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "golang/elf_builder_test_util.h"

namespace gcpilot::golang {
namespace {

using testing::BuildElf;
using testing::PutString;
using testing::PutU64;
using testing::SyntheticElf;
using testing::SyntheticSection;

constexpr uint64_t kRodata = 0x480000;
constexpr uint64_t kData = 0x500000;

TEST(BuildVersionTest, LooksLikeGoVersion) {
  for (const char* good :
       {"go1.9", "go1.17", "go1.22.12", "go1.21rc2", "go1.10beta1", "go1.21.0 X:boringcrypto",
        "go1.22.7 (Red Hat 1.22.7-1.el9)", "devel go1.24-7b263895 Mon Jan 6 10:00:00 2025 +0000",
        "devel +b7a85e0003 Tue Jan 1 00:00:00 2019 +0000"}) {
    EXPECT_TRUE(LooksLikeGoVersion(good)) << good;
  }
  for (const char* bad :
       {"", "go1", "go1.", "go1.x", "go1.21.", "go1.21rc", "go1.21 ", "go2.0", "go1.21\n", "devel",
        "devel ", "devel foo", "xgo1.21", "go1.21-x", "1.21.0"}) {
    EXPECT_FALSE(LooksLikeGoVersion(bad)) << bad;
  }
  EXPECT_FALSE(LooksLikeGoVersion("go1.21 " + std::string(200, 'x')));
  EXPECT_FALSE(LooksLikeGoVersion(std::string("go1.21\0", 7)));
}

TEST(BuildVersionTest, PclntabGenerations) {
  auto header = [](uint32_t magic, uint8_t quantum = 1, uint8_t ptr_size = 8) {
    std::vector<uint8_t> out;
    testing::PutU32(out, magic);
    out.insert(out.end(), {0, 0, quantum, ptr_size});
    return out;
  };
  EXPECT_EQ(PclntabGenerationOf(header(0xfffffffb)), PclntabGeneration::kGo12);
  EXPECT_EQ(PclntabGenerationOf(header(0xfffffffa)), PclntabGeneration::kGo116);
  EXPECT_EQ(PclntabGenerationOf(header(0xfffffff0)), PclntabGeneration::kGo118);
  EXPECT_EQ(PclntabGenerationOf(header(0xfffffff1)), PclntabGeneration::kGo120);
  EXPECT_FALSE(PclntabGenerationOf(header(0xfffffff2)));
  EXPECT_FALSE(PclntabGenerationOf(header(0xfffffff1, 3)));
  EXPECT_FALSE(PclntabGenerationOf(header(0xfffffff1, 1, 4)));
  std::vector<uint8_t> short_header = header(0xfffffff1);
  short_header.pop_back();
  EXPECT_FALSE(PclntabGenerationOf(short_header));
  EXPECT_EQ(PclntabGenerationName(PclntabGeneration::kGo116), "go1.16-1.17");
}

// An image with `strings` in a read-only .rodata at kRodata and string
// headers {kRodata + offset, len} in a writable .data at kData.
struct Image {
  std::string strings;
  std::vector<std::pair<uint64_t, uint64_t>> headers;  // {pointer, length}.
  uint64_t data_padding = 0;                           // Bytes before the first header.

  StatusOr<ElfFile> Build() const {
    SyntheticElf spec;
    std::vector<uint8_t> rodata;
    PutString(rodata, strings);
    std::vector<uint8_t> data(data_padding, 0);
    for (const auto& [ptr, len] : headers) {
      PutU64(data, ptr);
      PutU64(data, len);
    }
    spec.sections.push_back(SyntheticSection{".text", SHT_PROGBITS, SHF_ALLOC | SHF_EXECINSTR,
                                             0x401000, std::vector<uint8_t>(16, 0xc3)});
    spec.sections.push_back(
        SyntheticSection{".rodata", SHT_PROGBITS, SHF_ALLOC, kRodata, std::move(rodata)});
    spec.sections.push_back(
        SyntheticSection{".data", SHT_PROGBITS, SHF_ALLOC | SHF_WRITE, kData, std::move(data)});
    return ElfFile::OpenFromMemory(BuildElf(spec), "synthetic");
  }
};

StatusOr<std::string> Scan(const Image& image) {
  auto elf = image.Build();
  if (!elf.ok()) return elf.status();
  return FindRuntimeBuildVersion(*elf, nullptr);
}

TEST(BuildVersionTest, ScanFindsTheOneVersion) {
  // Go strings are not NUL-terminated: the length decides.
  Image image{"go1.22.3main.mainruntime", {{kRodata + 8, 9}, {kRodata, 8}, {kRodata, 8}}};
  auto version = Scan(image);
  ASSERT_TRUE(version.ok()) << version.status().ToString();
  EXPECT_EQ(*version, "go1.22.3");
}

TEST(BuildVersionTest, ScanRefusesTwoVersions) {
  Image image{"go1.22.3go1.21", {{kRodata, 8}, {kRodata + 8, 6}}};
  auto version = Scan(image);
  ASSERT_EQ(version.status().code(), StatusCode::kDataLoss) << version.status().ToString();
  EXPECT_NE(version.status().message().find("ambiguous"), std::string::npos);
  EXPECT_NE(version.status().message().find("\"go1.21\", \"go1.22.3\""), std::string::npos)
      << version.status().message();
}

TEST(BuildVersionTest, ScanWithoutAVersion) {
  auto version = Scan(Image{"hello, world", {{kRodata, 5}}});
  ASSERT_EQ(version.status().code(), StatusCode::kNotFound) << version.status().ToString();
  EXPECT_NE(version.status().message().find("no runtime.buildVersion"), std::string::npos);
}

TEST(BuildVersionTest, ScanIgnoresWritableDanglingAndUnalignedHeaders) {
  // Headers pointing into .data itself, past the end of .rodata, or
  // wrapping around the address space: none count.
  Image bad_pointers{"go1.22.3", {{kData, 8}, {kRodata + 4, 8}, {~uint64_t{0} - 2, 8}}};
  EXPECT_EQ(Scan(bad_pointers).status().code(), StatusCode::kNotFound);
  // A good header at a 4-byte boundary is not a Go string header.
  Image unaligned{"go1.22.3", {{kRodata, 8}}, 4};
  EXPECT_EQ(Scan(unaligned).status().code(), StatusCode::kNotFound);
  unaligned.data_padding = 8;
  EXPECT_TRUE(Scan(unaligned).ok());
}

TEST(BuildVersionTest, SymbolIsPreferredAndChecked) {
  // With a .symtab, runtime.buildVersion is read through its symbol, even
  // when the data holds other version strings.
  Image image{"go1.22.3go1.21", {{kRodata + 8, 6}, {kRodata, 8}}};
  auto elf = image.Build();
  ASSERT_TRUE(elf.ok());
  auto ambiguous = FindRuntimeBuildVersion(*elf, nullptr);
  EXPECT_EQ(ambiguous.status().code(), StatusCode::kDataLoss);

  // The same image with a .symtab naming the second header.
  SyntheticElf spec;
  std::vector<uint8_t> strtab{0};
  PutString(strtab, "runtime.buildVersion");
  strtab.push_back(0);
  std::vector<uint8_t> symtab(sizeof(Elf64_Sym), 0);
  Elf64_Sym sym{};
  sym.st_name = 1;
  sym.st_info = ELF64_ST_INFO(STB_LOCAL, STT_OBJECT);
  sym.st_shndx = 3;
  sym.st_value = kData + 16;
  sym.st_size = 16;
  testing::AppendBytes(symtab, &sym, sizeof(sym));
  std::vector<uint8_t> rodata, data;
  PutString(rodata, image.strings);
  for (const auto& [ptr, len] : image.headers) {
    PutU64(data, ptr);
    PutU64(data, len);
  }
  spec.sections.push_back(SyntheticSection{".text", SHT_PROGBITS, SHF_ALLOC | SHF_EXECINSTR,
                                           0x401000, std::vector<uint8_t>(16, 0xc3)});
  spec.sections.push_back(SyntheticSection{".rodata", SHT_PROGBITS, SHF_ALLOC, kRodata, rodata});
  spec.sections.push_back(
      SyntheticSection{".data", SHT_PROGBITS, SHF_ALLOC | SHF_WRITE, kData, data});
  spec.sections.push_back(SyntheticSection{".symtab", SHT_SYMTAB, 0, 0, symtab, 5, sizeof(sym)});
  spec.sections.push_back(SyntheticSection{".strtab", SHT_STRTAB, 0, 0, strtab});
  auto with_symtab = ElfFile::OpenFromMemory(BuildElf(spec), "synthetic");
  ASSERT_TRUE(with_symtab.ok()) << with_symtab.status().ToString();
  auto symbols = ElfSymtab::Load(*with_symtab);
  ASSERT_TRUE(symbols.ok()) << symbols.status().ToString();
  auto version = FindRuntimeBuildVersion(*with_symtab, &*symbols);
  ASSERT_TRUE(version.ok()) << version.status().ToString();
  EXPECT_EQ(*version, "go1.22.3");

  // The symbol's string must read like a Go version.
  spec.sections[1].data[0] = 'x';
  auto bad = ElfFile::OpenFromMemory(BuildElf(spec), "synthetic");
  ASSERT_TRUE(bad.ok());
  auto bad_symbols = ElfSymtab::Load(*bad);
  ASSERT_TRUE(bad_symbols.ok());
  auto refused = FindRuntimeBuildVersion(*bad, &*bad_symbols);
  EXPECT_EQ(refused.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(refused.status().message().find("\"xo1.22.3\", not a Go version"), std::string::npos)
      << refused.status().message();
}

}  // namespace
}  // namespace gcpilot::golang
