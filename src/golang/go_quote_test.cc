// Tests of Go string literal unquoting.
#include "golang/go_quote.h"

#include <gtest/gtest.h>

namespace gcpilot::golang {
namespace {

TEST(GoQuoteTest, UnquoteGoString) {
  std::string out;
  EXPECT_TRUE(UnquoteGoString(R"("a\tb\n\\\"")", out));
  EXPECT_EQ(out, "a\tb\n\\\"");
  EXPECT_TRUE(UnquoteGoString(R"("\x41\101\u00e9\U0001F600")", out));
  EXPECT_EQ(out, "AA\xc3\xa9\xf0\x9f\x98\x80");
  EXPECT_TRUE(UnquoteGoString("`a\\n\rb`", out));
  EXPECT_EQ(out, "a\\nb");
  EXPECT_TRUE(UnquoteGoString("\"\"", out));
  EXPECT_EQ(out, "");
  for (const char* bad : {"", "\"", "\"abc", "abc\"", "\"a\"b\"", "\"\\q\"", "\"\\x4\"",
                          "\"\\400\"", "\"\\u12\"", "`a`b`", "\"a\nb\"", "'a'"}) {
    EXPECT_FALSE(UnquoteGoString(bad, out)) << bad;
  }
}

TEST(GoQuoteTest, QuotedPrefixLength) {
  EXPECT_EQ(QuotedPrefixLength(R"("ab"=x)"), 4u);
  EXPECT_EQ(QuotedPrefixLength(R"("a\"b"=x)"), 6u);
  EXPECT_EQ(QuotedPrefixLength("`a\\`=x"), 4u);
  EXPECT_EQ(QuotedPrefixLength("\"abc"), 0u);
  EXPECT_EQ(QuotedPrefixLength("\"a\nb\""), 0u);
  EXPECT_EQ(QuotedPrefixLength("abc"), 0u);
  EXPECT_EQ(QuotedPrefixLength(""), 0u);
}

}  // namespace
}  // namespace gcpilot::golang
