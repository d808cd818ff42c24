// Tests for LineSplitter: lines across chunk boundaries, over-long lines
// streamed in pieces, the unterminated last line.
#include "sources/line_splitter.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace gcpilot {
namespace {

struct Piece {
  std::string text;
  LineSplitter::Piece kind;
  bool newline;
};

std::vector<Piece> Split(const std::vector<std::string>& chunks, size_t max) {
  std::vector<Piece> out;
  LineSplitter s(
      [&](std::string_view p, LineSplitter::Piece k, bool nl) {
        out.push_back({std::string(p), k, nl});
      },
      max);
  for (const auto& c : chunks) s.Feed(c);
  s.Finish();
  return out;
}

TEST(LineSplitter, JoinsLinesAcrossChunks) {
  auto out = Split({"ab", "c\nde", "f\n\ng"}, 100);
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[0].text, "abc");
  EXPECT_EQ(out[1].text, "def");
  EXPECT_EQ(out[2].text, "");
  EXPECT_EQ(out[3].text, "g");
  EXPECT_FALSE(out[3].newline);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(out[i].newline);
}

TEST(LineSplitter, StreamsOverlongLinesWithoutBufferingThem) {
  auto out = Split({"0123456789", "abcdefghij", "xyz\nok\n"}, 8);
  std::string joined;
  size_t i = 0;
  for (; i < out.size() && out[i].kind != LineSplitter::Piece::kLine; ++i) {
    joined += out[i].text;
    EXPECT_LE(out[i].text.size(), 12u);
  }
  EXPECT_EQ(joined, "0123456789abcdefghijxyz");
  EXPECT_EQ(out[0].kind, LineSplitter::Piece::kLongStart);
  EXPECT_EQ(out[i - 1].kind, LineSplitter::Piece::kLongEnd);
  ASSERT_LT(i, out.size());
  EXPECT_EQ(out[i].text, "ok");
}

TEST(LineSplitter, OverlongLineInOneChunk) {
  auto out = Split({std::string(50, 'x') + "\nshort\n"}, 8);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].kind, LineSplitter::Piece::kLongStart);
  EXPECT_EQ(out[0].text.size(), 50u);
  EXPECT_EQ(out[1].kind, LineSplitter::Piece::kLongEnd);
  EXPECT_EQ(out[2].text, "short");
}

TEST(LineSplitter, EmptyInput) { EXPECT_TRUE(Split({}, 8).empty()); }

}  // namespace
}  // namespace gcpilot
