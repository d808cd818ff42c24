// Tests of the embedded dashboard assets (web_assets.h): the page, its
// scripts and uPlot are in the binary with the right content types.
#include "web/web_assets.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace gcpilot::web {
namespace {

TEST(WebAssets, IndexIsServedAtRootAndByName) {
  const WebAsset* root = FindWebAsset("/");
  const WebAsset* index = FindWebAsset("/index.html");
  ASSERT_NE(root, nullptr);
  ASSERT_NE(index, nullptr);
  EXPECT_EQ(root, index);
  EXPECT_EQ(index->content_type, "text/html; charset=utf-8");
  EXPECT_NE(index->body.find("<!doctype html>"), std::string_view::npos);
  EXPECT_NE(index->body.find("app.js"), std::string_view::npos);
  EXPECT_EQ(FindWebAsset("/?pid=1"), index);
  EXPECT_EQ(FindWebAsset(""), index);
}

TEST(WebAssets, ScriptsAndStylesArePresent) {
  for (const char* path : {"/app.js", "/api.js", "/charts.js", "/store.js", "/table.js"}) {
    const WebAsset* a = FindWebAsset(path);
    ASSERT_NE(a, nullptr) << path;
    EXPECT_EQ(a->content_type, "text/javascript; charset=utf-8") << path;
    EXPECT_FALSE(a->body.empty()) << path;
  }
  const WebAsset* app = FindWebAsset("/app.js");
  ASSERT_NE(app, nullptr);
  EXPECT_NE(app->body.find("gcpilotDashboard"), std::string_view::npos);
  const WebAsset* css = FindWebAsset("/style.css");
  ASSERT_NE(css, nullptr);
  EXPECT_EQ(css->content_type, "text/css; charset=utf-8");
}

TEST(WebAssets, UPlotIsVendored) {
  const WebAsset* js = FindWebAsset("/vendor/uPlot.iife.min.js");
  ASSERT_NE(js, nullptr);
  EXPECT_EQ(js->content_type, "text/javascript; charset=utf-8");
  EXPECT_NE(js->body.find("uPlot"), std::string_view::npos);
  EXPECT_GT(js->body.size(), 10000u);
  const WebAsset* css = FindWebAsset("/vendor/uPlot.min.css");
  ASSERT_NE(css, nullptr);
  EXPECT_EQ(css->content_type, "text/css; charset=utf-8");
  EXPECT_NE(css->body.find(".uplot"), std::string_view::npos);
}

TEST(WebAssets, UnknownPathsAreNotFound) {
  EXPECT_EQ(FindWebAsset("/nope.js"), nullptr);
  EXPECT_EQ(FindWebAsset("/api/v1/status"), nullptr);
  EXPECT_EQ(FindWebAsset("/vendor/"), nullptr);
  EXPECT_EQ(FindWebAsset("index.html"), nullptr);
}

TEST(WebAssets, AllAssetsAreSortedUniqueAndTyped) {
  const std::vector<WebAsset>& all = AllWebAssets();
  ASSERT_GE(all.size(), 8u);
  std::set<std::string_view> paths;
  for (std::size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(all[i].path.substr(0, 1), "/");
    EXPECT_NE(all[i].content_type, "application/octet-stream") << all[i].path;
    EXPECT_TRUE(paths.insert(all[i].path).second) << all[i].path;
    if (i > 0) {
      EXPECT_LT(all[i - 1].path, all[i].path);
    }
    EXPECT_EQ(FindWebAsset(all[i].path), &all[i]);
  }
}

TEST(WebAssets, ContentTypes) {
  EXPECT_EQ(ContentTypeForPath("/a/b.svg"), "image/svg+xml");
  EXPECT_EQ(ContentTypeForPath("/x.json"), "application/json");
  EXPECT_EQ(ContentTypeForPath("/x.bin"), "application/octet-stream");
  EXPECT_EQ(ContentTypeForPath("/js"), "application/octet-stream");
}

}  // namespace
}  // namespace gcpilot::web
