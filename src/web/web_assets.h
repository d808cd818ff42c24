// The web dashboard's files (web/src and the vendored uPlot), embedded in the
// binary at build time by cmake/EmbedWeb.cmake, for `gcpilot serve` to answer
// "/" and the page's scripts and styles without touching the file system.
//
// Thread-safety: everything here is immutable after static initialisation;
// any thread may call these functions at any time.
#ifndef GCPILOT_WEB_WEB_ASSETS_H_
#define GCPILOT_WEB_WEB_ASSETS_H_

#include <string_view>
#include <vector>

namespace gcpilot::web {

struct WebAsset {
  std::string_view path;          // URL path, e.g. "/index.html", "/vendor/uPlot.min.css"
  std::string_view content_type;  // e.g. "text/javascript; charset=utf-8"
  std::string_view body;          // the file's bytes (static storage)
};

// The asset served at `path` ("/" and "/index.html" are the page; a query
// string is ignored), or nullptr when there is none.
const WebAsset* FindWebAsset(std::string_view path);

// Every embedded asset, sorted by path ("/" is not listed separately).
const std::vector<WebAsset>& AllWebAssets();

// The Content-Type gcpilot serves a file of this name with, from its
// extension (application/octet-stream when unknown).
std::string_view ContentTypeForPath(std::string_view path);

}  // namespace gcpilot::web

#endif  // GCPILOT_WEB_WEB_ASSETS_H_
