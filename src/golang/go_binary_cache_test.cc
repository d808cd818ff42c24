// Tests of GoBinaryCache: reuse by file identity and by build ID, failures
// remembered, pruning, and concurrent Get.
#include "golang/go_binary_cache.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <thread>
#include <vector>

#include "golang/temp_dir_test_util.h"
#include "golang/testprogs_test_util.h"

namespace gcpilot::golang {
namespace {

TEST(GoBinaryCacheTest, ReusesBySameFileAndBySameBuildId) {
  GCPILOT_REQUIRE_TESTPROGS(progs, "steady");
  testing::TempDir dir;
  const std::string copy = dir.path() + "/replica";
  std::filesystem::copy_file(progs[0].path, copy);

  GoBinaryCache cache;
  auto first = cache.Get(progs[0].path);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  auto again = cache.Get(progs[0].path);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(first->get(), again->get());
  EXPECT_EQ(cache.stats().identity_hits, 1u);

  // Another file (another inode) with the same build: parsed, then shared.
  auto replica = cache.Get(copy);
  ASSERT_TRUE(replica.ok());
  EXPECT_EQ(first->get(), replica->get());
  EXPECT_EQ(cache.stats().build_id_hits, 1u);
  EXPECT_EQ(cache.stats().parses, 2u);
  EXPECT_EQ(cache.size(), 1u);

  if (progs.size() > 1) {
    auto other = cache.Get(progs[1].path);
    ASSERT_TRUE(other.ok());
    EXPECT_NE(first->get(), other->get());
    EXPECT_EQ(cache.size(), 2u);
  }
}

TEST(GoBinaryCacheTest, AnObjcopyRewriteOfTheSameBuildIsNotShared) {
  GCPILOT_REQUIRE_TESTPROGS(progs, "steady");
  testing::TempDir dir;
  const std::string nobi = dir.path() + "/nobi";
  ASSERT_EQ(testing::RunCommand("objcopy --remove-section .go.buildinfo '" + progs[0].path + "' '" +
                                nobi + "' 2>&1 && echo ok"),
            "ok\n");
  GoBinaryCache cache;
  auto original = cache.Get(progs[0].path);
  auto rewritten = cache.Get(nobi);
  ASSERT_TRUE(original.ok() && rewritten.ok()) << rewritten.status().ToString();
  EXPECT_EQ((*original)->build_id(), (*rewritten)->build_id());
  EXPECT_NE(original->get(), rewritten->get());
  EXPECT_TRUE((*original)->has_build_info());
  EXPECT_FALSE((*rewritten)->has_build_info());
  EXPECT_EQ(cache.stats().build_id_hits, 0u);
}

TEST(GoBinaryCacheTest, RemembersFailuresAndPrunes) {
  GCPILOT_REQUIRE_TESTPROGS(progs, "steady");
  testing::TempDir dir;
  const std::string text = dir.Write("text", std::vector<uint8_t>(100, 'x'));
  GoBinaryCache cache;
  EXPECT_EQ(cache.Get(text).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(cache.Get(text).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(cache.stats().parses, 1u);
  EXPECT_EQ(cache.Get(dir.path() + "/missing").status().code(), StatusCode::kNotFound);

  {
    auto held = cache.Get(progs[0].path);
    ASSERT_TRUE(held.ok());
    auto dropped_later = cache.Get(progs.back().path);
    ASSERT_TRUE(dropped_later.ok());
    EXPECT_EQ(cache.Prune(), 1u);  // Only the remembered failure: both are held.
    EXPECT_EQ(cache.size(), progs.size() > 1 ? 2u : 1u);
    dropped_later = Status::NotFound("released");
    if (progs.size() > 1) {
      EXPECT_EQ(cache.Prune(), 1u);
      EXPECT_EQ(cache.size(), 1u);
    }
  }
  cache.Prune();
  EXPECT_EQ(cache.size(), 0u);
  // A rewritten file is a new identity: parsed again.
  std::filesystem::copy_file(progs[0].path, dir.path() + "/changing");
  const uint64_t before = cache.stats().parses;
  ASSERT_TRUE(cache.Get(dir.path() + "/changing").ok());
  std::filesystem::remove(dir.path() + "/changing");
  dir.Write("changing", std::vector<uint8_t>(64, 0));
  EXPECT_FALSE(cache.Get(dir.path() + "/changing").ok());
  EXPECT_EQ(cache.stats().parses, before + 2);
}

TEST(GoBinaryCacheTest, ConcurrentGets) {
  GCPILOT_REQUIRE_TESTPROGS(progs, "steady");
  GoBinaryCache cache;
  std::vector<std::thread> threads;
  std::vector<const GoBinary*> seen(8 * progs.size(), nullptr);
  for (size_t t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (size_t i = 0; i < progs.size(); ++i) {
        auto binary = cache.Get(progs[(i + t) % progs.size()].path);
        if (!binary.ok()) continue;
        // Exercise const methods concurrently.
        (void)(*binary)->FindFunction("runtime.gcStart");
        seen[t * progs.size() + (i + t) % progs.size()] = binary->get();
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(cache.size(), progs.size());
  for (size_t t = 1; t < 8; ++t) {
    for (size_t i = 0; i < progs.size(); ++i) {
      EXPECT_NE(seen[t * progs.size() + i], nullptr);
      EXPECT_EQ(seen[t * progs.size() + i], seen[i]) << progs[i].label();
    }
  }
}

}  // namespace
}  // namespace gcpilot::golang
