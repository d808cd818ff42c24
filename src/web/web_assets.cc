// Lookup of the embedded dashboard files (see web_assets.h).
#include "web/web_assets.h"

#include <algorithm>
#include <array>
#include <utility>

#include "web/web_assets_data.h"

namespace gcpilot::web {
namespace {

std::vector<WebAsset> BuildAssets() {
  std::vector<WebAsset> out;
  out.reserve(internal::kEmbeddedFileCount);
  for (std::size_t i = 0; i < internal::kEmbeddedFileCount; ++i) {
    const internal::EmbeddedFile& f = internal::kEmbeddedFiles[i];
    std::string_view path(f.path);
    out.push_back(WebAsset{path, ContentTypeForPath(path),
                           std::string_view(reinterpret_cast<const char*>(f.data), f.size)});
  }
  std::sort(out.begin(), out.end(),
            [](const WebAsset& a, const WebAsset& b) { return a.path < b.path; });
  return out;
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

std::string_view ContentTypeForPath(std::string_view path) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 10> kTypes = {{
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".map", "application/json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".ico", "image/x-icon"},
      {".txt", "text/plain; charset=utf-8"},
      {".woff2", "font/woff2"},
  }};
  for (const auto& [ext, type] : kTypes) {
    if (EndsWith(path, ext)) return type;
  }
  return "application/octet-stream";
}

const std::vector<WebAsset>& AllWebAssets() {
  static const std::vector<WebAsset> assets = BuildAssets();
  return assets;
}

const WebAsset* FindWebAsset(std::string_view path) {
  if (std::size_t q = path.find_first_of("?#"); q != std::string_view::npos) {
    path = path.substr(0, q);
  }
  if (path.empty() || path == "/") path = "/index.html";
  const std::vector<WebAsset>& assets = AllWebAssets();
  auto it = std::lower_bound(assets.begin(), assets.end(), path,
                             [](const WebAsset& a, std::string_view p) { return a.path < p; });
  if (it == assets.end() || it->path != path) return nullptr;
  return &*it;
}

}  // namespace gcpilot::web
