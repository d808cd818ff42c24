// Tests of ElfFile: real Go binaries, synthetic images, and rejected inputs.
#include "golang/elf_file.h"

#include <elf.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "golang/elf_builder_test_util.h"
#include "golang/temp_dir_test_util.h"
#include "golang/testprogs_test_util.h"

namespace gcpilot::golang {
namespace {

using testing::BuildElf;
using testing::SyntheticElf;
using testing::SyntheticSection;
using testing::TempDir;

std::vector<uint8_t> Bytes(const std::string& s) {
  return std::vector<uint8_t>(s.begin(), s.end());
}

TEST(ElfFileTest, RealGoBinaries) {
  GCPILOT_REQUIRE_TESTPROGS(progs, "steady");
  for (const auto& prog : progs) {
    SCOPED_TRACE(prog.label());
    auto elf = ElfFile::Open(prog.path);
    ASSERT_TRUE(elf.ok()) << elf.status().ToString();
    EXPECT_EQ(elf->machine(), EM_X86_64);
    EXPECT_EQ(elf->elf_type(), ET_EXEC);
    EXPECT_FALSE(elf->is_pie());
    EXPECT_EQ(elf->path(), prog.path);
    // actionID/actionID/contentID/contentID.
    EXPECT_EQ(std::count(elf->go_build_id().begin(), elf->go_build_id().end(), '/'), 3)
        << elf->go_build_id();
    // Internal linking writes none before Go 1.24, one derived from the Go
    // build ID since.
    EXPECT_EQ(elf->gnu_build_id().empty(), testing::GoMinor(prog.go_dir) < 24);
    EXPECT_EQ(elf->identity().size, elf->bytes().size());
    EXPECT_NE(elf->identity().inode, 0u);

    const ElfSection* text = elf->FindSection(".text");
    ASSERT_NE(text, nullptr);
    EXPECT_EQ(text->address, 0x401000u);
    EXPECT_NE(elf->FindSection(".gopclntab"), nullptr);
    EXPECT_NE(elf->FindSection(".go.buildinfo"), nullptr);
    EXPECT_EQ(elf->FindSection(".symtab") == nullptr, prog.stripped);
    EXPECT_EQ(elf->FindSection(".debug_info") == nullptr, prog.stripped);

    auto offset = elf->VirtualAddressToFileOffset(text->address + 0x123);
    ASSERT_TRUE(offset.ok()) << offset.status().ToString();
    EXPECT_EQ(*offset, text->file_offset + 0x123);
    auto code = elf->ReadVirtual(text->address, 16);
    ASSERT_TRUE(code.ok());
    EXPECT_EQ(code->data(), elf->bytes().data() + text->file_offset);
    auto text_bytes = elf->SectionBytes(".text");
    ASSERT_TRUE(text_bytes.ok());
    EXPECT_EQ(text_bytes->size(), text->size);

    const ElfSection* bss = elf->FindSection(".bss");
    ASSERT_NE(bss, nullptr);
    EXPECT_EQ(elf->VirtualAddressToFileOffset(bss->address + 8).status().code(),
              StatusCode::kOutOfRange);
    EXPECT_EQ(elf->ReadVirtual(text->address + text->size - 4, 1 << 30).status().code(),
              StatusCode::kOutOfRange);
    EXPECT_EQ(elf->SectionBytes(".no.such.section").status().code(), StatusCode::kNotFound);
    EXPECT_EQ(elf->LinkBase(), std::optional<uint64_t>(0x400000));
  }
}

TEST(ElfFileTest, OpenFromMemoryMatchesOpen) {
  GCPILOT_REQUIRE_TESTPROGS(progs, "steady");
  const std::string content = testing::ReadWholeFile(progs[0].path);
  auto from_file = ElfFile::Open(progs[0].path);
  auto from_memory = ElfFile::OpenFromMemory(Bytes(content), "copy");
  ASSERT_TRUE(from_file.ok() && from_memory.ok());
  EXPECT_EQ(from_memory->path(), "copy");
  EXPECT_EQ(from_file->go_build_id(), from_memory->go_build_id());
  ASSERT_EQ(from_file->sections().size(), from_memory->sections().size());
  for (size_t i = 0; i < from_file->sections().size(); ++i) {
    EXPECT_EQ(from_file->sections()[i].name, from_memory->sections()[i].name);
    EXPECT_EQ(from_file->sections()[i].address, from_memory->sections()[i].address);
  }
}

TEST(ElfFileTest, FileSystemErrors) {
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  EXPECT_EQ(ElfFile::Open(dir.path() + "/missing").status().code(), StatusCode::kNotFound);
  auto as_dir = ElfFile::Open(dir.path());
  EXPECT_EQ(as_dir.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(as_dir.status().message().find("directory"), std::string::npos);
  auto empty = ElfFile::Open(dir.Write("empty", {}));
  EXPECT_EQ(empty.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(empty.status().message().find("empty"), std::string::npos);
  auto text = ElfFile::Open(dir.Write("text", Bytes(std::string(200, 'x'))));
  EXPECT_EQ(text.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(text.status().message().find("not an ELF"), std::string::npos);
  EXPECT_FALSE(ElfFile::Open("/dev/null").ok());
}

TEST(ElfFileTest, RejectsOtherClassesByteOrdersAndMachines) {
  SyntheticElf spec;
  spec.sections.push_back(SyntheticSection{".text", SHT_PROGBITS, SHF_ALLOC | SHF_EXECINSTR,
                                           0x401000, std::vector<uint8_t>(32, 0xc3)});
  const std::vector<uint8_t> good = BuildElf(spec);
  ASSERT_TRUE(ElfFile::OpenFromMemory(good).ok());

  std::vector<uint8_t> elf32 = good;
  elf32[EI_CLASS] = ELFCLASS32;
  auto s32 = ElfFile::OpenFromMemory(elf32);
  EXPECT_EQ(s32.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s32.status().message().find("64-bit"), std::string::npos);

  std::vector<uint8_t> big = good;
  big[EI_DATA] = ELFDATA2MSB;
  EXPECT_EQ(ElfFile::OpenFromMemory(big).status().code(), StatusCode::kInvalidArgument);

  spec.machine = EM_AARCH64;
  auto arm = ElfFile::OpenFromMemory(BuildElf(spec));
  EXPECT_EQ(arm.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(arm.status().message().find("only x86-64"), std::string::npos)
      << arm.status().message();
}

TEST(ElfFileTest, SectionPastEndOfFileIsDataLoss) {
  SyntheticElf spec;
  spec.sections.push_back(SyntheticSection{".text", SHT_PROGBITS, 0, 0, std::vector<uint8_t>(32)});
  std::vector<uint8_t> image = BuildElf(spec);
  Elf64_Ehdr eh;
  std::memcpy(&eh, image.data(), sizeof(eh));
  Elf64_Shdr sh;
  const size_t at = eh.e_shoff + sizeof(Elf64_Shdr);  // Section 1.
  std::memcpy(&sh, image.data() + at, sizeof(sh));
  sh.sh_size = 1 << 20;
  std::memcpy(image.data() + at, &sh, sizeof(sh));
  auto elf = ElfFile::OpenFromMemory(image);
  EXPECT_EQ(elf.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(elf.status().message().find("truncated"), std::string::npos);
}

TEST(ElfFileTest, BuildIdNotes) {
  std::vector<uint8_t> go_note;
  testing::PutU32(go_note, 4);   // namesz.
  testing::PutU32(go_note, 11);  // descsz.
  testing::PutU32(go_note, 4);   // Go build ID.
  testing::PutString(go_note, std::string("Go\0\0", 4));
  testing::PutString(go_note, "abc/def/ghi");
  go_note.push_back(0);  // Pad to 4.
  std::vector<uint8_t> gnu_note;
  testing::PutU32(gnu_note, 4);
  testing::PutU32(gnu_note, 4);
  testing::PutU32(gnu_note, NT_GNU_BUILD_ID);
  testing::PutString(gnu_note, std::string("GNU\0", 4));
  testing::PutString(gnu_note, "\x01\xab\xcd\xef");
  // A note whose sizes run past its section is ignored, not fatal.
  std::vector<uint8_t> bad_note;
  testing::PutU32(bad_note, 0xfffffff0);
  testing::PutU32(bad_note, 0xfffffff0);
  testing::PutU32(bad_note, 4);

  SyntheticElf spec;
  spec.sections.push_back(SyntheticSection{".note.bad", SHT_NOTE, 0, 0, bad_note});
  spec.sections.push_back(SyntheticSection{".note.go.buildid", SHT_NOTE, 0, 0, go_note});
  spec.sections.push_back(SyntheticSection{".note.gnu.build-id", SHT_NOTE, 0, 0, gnu_note});
  auto elf = ElfFile::OpenFromMemory(BuildElf(spec));
  ASSERT_TRUE(elf.ok()) << elf.status().ToString();
  EXPECT_EQ(elf->go_build_id(), "abc/def/ghi");
  EXPECT_EQ(elf->gnu_build_id(), "01abcdef");
}

// Found by the fuzzer: a PT_NOTE with no file bytes whose offset lies past
// the end of the file (such segments are not bounds-checked as empty).
TEST(ElfFileTest, EmptyNoteSegmentPastTheEnd) {
  SyntheticElf spec;
  spec.sections.push_back(SyntheticSection{".text", SHT_PROGBITS, SHF_ALLOC | SHF_EXECINSTR,
                                           0x401000, std::vector<uint8_t>(32, 0x90)});
  std::vector<uint8_t> image = BuildElf(spec);
  Elf64_Phdr ph;
  std::memcpy(&ph, image.data() + sizeof(Elf64_Ehdr), sizeof(ph));
  ph.p_type = PT_NOTE;
  ph.p_offset = image.size() + 0x1000;
  ph.p_filesz = 0;
  ph.p_memsz = 0x1000;
  std::memcpy(image.data() + sizeof(Elf64_Ehdr), &ph, sizeof(ph));
  auto elf = ElfFile::OpenFromMemory(image);
  ASSERT_TRUE(elf.ok()) << elf.status().ToString();
  EXPECT_TRUE(elf->go_build_id().empty());
}

TEST(ElfFileTest, PieIsEtDyn) {
  SyntheticElf spec;
  spec.type = ET_DYN;
  spec.sections.push_back(SyntheticSection{".text", SHT_PROGBITS, SHF_ALLOC | SHF_EXECINSTR, 0x1000,
                                           std::vector<uint8_t>(32, 0x90)});
  auto elf = ElfFile::OpenFromMemory(BuildElf(spec));
  ASSERT_TRUE(elf.ok()) << elf.status().ToString();
  EXPECT_TRUE(elf->is_pie());
  auto offset = elf->VirtualAddressToFileOffset(0x1010);
  ASSERT_TRUE(offset.ok());
  EXPECT_EQ(*offset, elf->FindSection(".text")->file_offset + 0x10);
  EXPECT_FALSE(elf->VirtualAddressToFileOffset(0x1020).ok());  // Past the segment.
  EXPECT_FALSE(elf->VirtualAddressToFileOffset(0xfff).ok());
  EXPECT_FALSE(elf->LinkBase().has_value());  // No PT_LOAD maps offset 0 here.
}

}  // namespace
}  // namespace gcpilot::golang
