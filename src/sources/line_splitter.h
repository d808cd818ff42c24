// LineSplitter: cuts a byte stream into lines without ever buffering more
// than `max_line_bytes` of one line.
//
// Complete lines are delivered whole (without the '\n'). A line longer than
// the limit is delivered in pieces (kLongStart, kLongMiddle..., kLongEnd) so
// a pass-through consumer can forward it unchanged while a parser skips it.
// Thread-safety: not thread-safe.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace gcpilot {

class LineSplitter {
 public:
  enum class Piece : uint8_t {
    kLine,        // A whole line.
    kLongStart,   // First piece of an over-long line.
    kLongMiddle,  // More of it.
    kLongEnd,     // Its last piece (possibly empty).
  };
  // `ended_by_newline` is false only for the final, unterminated line at EOF.
  using Handler = std::function<void(std::string_view piece, Piece kind, bool ended_by_newline)>;

  static constexpr size_t kDefaultMaxLineBytes = 64 * 1024;

  explicit LineSplitter(Handler handler, size_t max_line_bytes = kDefaultMaxLineBytes);

  void Feed(std::string_view data);
  // Delivers any unterminated last line.
  void Finish();

 private:
  Handler handler_;
  size_t max_line_bytes_;
  std::string pending_;
  bool in_long_line_ = false;
};

}  // namespace gcpilot
