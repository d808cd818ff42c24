// Tests of RET scanning: real runtime functions (each reported offset holds
// a RET byte in the file) and synthetic code (padding, undecodable bytes).
#include "golang/ret_offsets.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "golang/go_binary.h"
#include "golang/temp_dir_test_util.h"
#include "golang/testprogs_test_util.h"

namespace gcpilot::golang {
namespace {

TEST(RetOffsetsTest, RuntimeFunctionsOfEveryBuild) {
  GCPILOT_REQUIRE_TESTPROGS(progs, "steady");
  for (const auto& prog : progs) {
    SCOPED_TRACE(prog.label());
    auto binary = GoBinary::Open(prog.path);
    ASSERT_TRUE(binary.ok()) << binary.status().ToString();
    // Read the file independently of the reader under test.
    const std::string file = testing::ReadWholeFile(prog.path);
    ASSERT_FALSE(file.empty());
    for (const char* name : {"runtime.gcStart", "runtime.gcMarkDone", "runtime.gcMarkTermination",
                             "runtime.gcMarkTermination.func3", "runtime.stopTheWorldWithSema",
                             "runtime.startTheWorldWithSema"}) {
      auto fn = binary->FindFunction(name);
      ASSERT_TRUE(fn.ok());
      auto rets = binary->FindRetInstructions(name);
      ASSERT_TRUE(rets.ok()) << rets.status().ToString();
      ASSERT_FALSE(rets->empty()) << name;
      for (const RetInstruction& ret : *rets) {
        EXPECT_GE(ret.file_offset, fn->file_offset);
        EXPECT_LT(ret.file_offset, fn->file_offset + fn->size);
        EXPECT_EQ(ret.file_offset - fn->file_offset, ret.address - fn->address);
        ASSERT_LT(ret.file_offset, file.size());
        EXPECT_EQ(static_cast<uint8_t>(file[ret.file_offset]), 0xc3)
            << name << " at file offset " << ret.file_offset;
        EXPECT_EQ(ret.length, 1);
      }
    }
  }
}

// capstone decodes every runtime function of every build to its end: no
// instruction in Go's runtime (AVX2, AVX-512, ...) stops the linear scan,
// but for Go 1.26+'s runtime.asyncPreempt, which saves the AVX-512 mask
// registers (KMOVQ) that Debian 12's capstone 4 does not know: it must fail
// with an error there (gcpilot never probes it), not decode wrongly.
TEST(RetOffsetsTest, EveryRuntimeFunctionDecodes) {
  GCPILOT_REQUIRE_TESTPROGS(progs, "steady");
  for (const auto& prog : progs) {
    SCOPED_TRACE(prog.label());
    auto binary = GoBinary::Open(prog.path);
    ASSERT_TRUE(binary.ok());
    size_t scanned = 0;
    for (const FunctionInfo& fn : binary->ListFunctions("runtime.")) {
      if (fn.size == 0) continue;
      auto rets = FindRetInstructions(binary->elf(), fn);
      if (fn.name.starts_with("runtime.asyncPreempt") && testing::GoMinor(prog.go_dir) >= 26) {
        if (!rets.ok()) {
          EXPECT_EQ(rets.status().code(), StatusCode::kDataLoss);
        }
        continue;
      }
      ASSERT_TRUE(rets.ok()) << rets.status().ToString();
      ++scanned;
    }
    EXPECT_GT(scanned, 1000u);
  }
}

StatusOr<std::vector<RetInstruction>> Scan(std::vector<uint8_t> code) {
  return ScanReturns(code, 0x401000, 0x1000, "test.fn");
}

TEST(RetOffsetsTest, SyntheticCode) {
  // push rbp; ret; nop; ret 8; int3 padding.
  auto rets = Scan({0x55, 0xc3, 0x90, 0xc2, 0x08, 0x00, 0xcc, 0xcc, 0xcc});
  ASSERT_TRUE(rets.ok()) << rets.status().ToString();
  ASSERT_EQ(rets->size(), 2u);
  EXPECT_EQ((*rets)[0].address, 0x401001u);
  EXPECT_EQ((*rets)[0].file_offset, 0x1001u);
  EXPECT_EQ((*rets)[0].length, 1);
  EXPECT_EQ((*rets)[1].address, 0x401003u);
  EXPECT_EQ((*rets)[1].length, 3);

  // A RET byte inside another instruction is not a RET: mov eax, 0xc3c3c3c3.
  rets = Scan({0xb8, 0xc3, 0xc3, 0xc3, 0xc3, 0xc3});
  ASSERT_TRUE(rets.ok());
  ASSERT_EQ(rets->size(), 1u);
  EXPECT_EQ((*rets)[0].address, 0x401005u);

  // A prefixed RET (REX.W C3) starts at its prefix, where a uprobe goes.
  rets = Scan({0x90, 0x48, 0xc3});
  ASSERT_TRUE(rets.ok());
  ASSERT_EQ(rets->size(), 1u);
  EXPECT_EQ((*rets)[0].address, 0x401001u);
  EXPECT_EQ((*rets)[0].length, 2);

  // No RET at all (a function that never returns).
  rets = Scan({0xe8, 0, 0, 0, 0, 0xcc});
  ASSERT_TRUE(rets.ok());
  EXPECT_TRUE(rets->empty());
}

TEST(RetOffsetsTest, UndecodableBytesAreAnError) {
  // 0x06 (push es) does not exist in 64-bit mode; a RET follows it.
  auto rets = Scan({0x90, 0x06, 0xc3});
  EXPECT_EQ(rets.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(rets.status().message().find("0x401001"), std::string::npos) << rets.status().message();
  EXPECT_NE(rets.status().message().find("test.fn"), std::string::npos);
  // An instruction cut off by the end of the function.
  EXPECT_EQ(Scan({0xc3, 0xe8, 0x00}).status().code(), StatusCode::kDataLoss);
  // Zero padding that does not decode as a whole instruction is padding.
  rets = Scan({0xc3, 0x00});
  ASSERT_TRUE(rets.ok()) << rets.status().ToString();
  EXPECT_EQ(rets->size(), 1u);
  EXPECT_EQ(Scan({}).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace gcpilot::golang
