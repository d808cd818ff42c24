// Bounded line splitting (see the header).
#include "sources/line_splitter.h"

#include <cstring>
#include <utility>

namespace gcpilot {

LineSplitter::LineSplitter(Handler handler, size_t max_line_bytes)
    : handler_(std::move(handler)), max_line_bytes_(max_line_bytes == 0 ? 1 : max_line_bytes) {}

void LineSplitter::Feed(std::string_view data) {
  while (!data.empty()) {
    const void* nl = std::memchr(data.data(), '\n', data.size());
    size_t len = nl ? static_cast<size_t>(static_cast<const char*>(nl) - data.data()) : data.size();
    std::string_view chunk = data.substr(0, len);
    if (nl) {
      if (in_long_line_) {
        handler_(chunk, Piece::kLongEnd, true);
        in_long_line_ = false;
      } else if (pending_.empty()) {
        if (chunk.size() <= max_line_bytes_) {
          handler_(chunk, Piece::kLine, true);
        } else {
          handler_(chunk, Piece::kLongStart, false);
          handler_({}, Piece::kLongEnd, true);
        }
      } else {
        pending_.append(chunk);
        if (pending_.size() <= max_line_bytes_) {
          handler_(pending_, Piece::kLine, true);
        } else {
          handler_(pending_, Piece::kLongStart, false);
          handler_({}, Piece::kLongEnd, true);
        }
        pending_.clear();
      }
      data.remove_prefix(len + 1);
      continue;
    }
    // No newline in the rest of the data: keep it, or stream it if too long.
    if (in_long_line_) {
      handler_(chunk, Piece::kLongMiddle, false);
    } else if (pending_.size() + chunk.size() > max_line_bytes_) {
      pending_.append(chunk);
      handler_(pending_, Piece::kLongStart, false);
      pending_.clear();
      in_long_line_ = true;
    } else {
      pending_.append(chunk);
    }
    data = {};
  }
}

void LineSplitter::Finish() {
  if (in_long_line_) {
    handler_({}, Piece::kLongEnd, false);
    in_long_line_ = false;
  } else if (!pending_.empty()) {
    handler_(pending_, Piece::kLine, false);
    pending_.clear();
  }
}

}  // namespace gcpilot
