// Go string literal unquoting (strconv.Unquote / QuotedPrefix subset).
#include "golang/go_quote.h"

#include <cstdint>

namespace gcpilot::golang {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void AppendUtf8(uint32_t r, std::string& out) {
  if (r > 0x10ffff || (r >= 0xd800 && r <= 0xdfff)) r = 0xfffd;
  if (r < 0x80) {
    out.push_back(static_cast<char>(r));
  } else if (r < 0x800) {
    out.push_back(static_cast<char>(0xc0 | (r >> 6)));
    out.push_back(static_cast<char>(0x80 | (r & 0x3f)));
  } else if (r < 0x10000) {
    out.push_back(static_cast<char>(0xe0 | (r >> 12)));
    out.push_back(static_cast<char>(0x80 | ((r >> 6) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | (r & 0x3f)));
  } else {
    out.push_back(static_cast<char>(0xf0 | (r >> 18)));
    out.push_back(static_cast<char>(0x80 | ((r >> 12) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | ((r >> 6) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | (r & 0x3f)));
  }
}

// One escape sequence after a backslash at s[i] (i points past the '\\').
bool DecodeEscape(std::string_view s, size_t& i, std::string& out) {
  if (i >= s.size()) return false;
  const char c = s[i++];
  switch (c) {
    case 'a':
      out.push_back('\a');
      return true;
    case 'b':
      out.push_back('\b');
      return true;
    case 'f':
      out.push_back('\f');
      return true;
    case 'n':
      out.push_back('\n');
      return true;
    case 'r':
      out.push_back('\r');
      return true;
    case 't':
      out.push_back('\t');
      return true;
    case 'v':
      out.push_back('\v');
      return true;
    case '\\':
      out.push_back('\\');
      return true;
    case '"':
      out.push_back('"');
      return true;
    case '\'':
      out.push_back('\'');
      return true;
    case 'x':
    case 'u':
    case 'U': {
      const size_t digits = c == 'x' ? 2 : (c == 'u' ? 4 : 8);
      if (s.size() - i < digits) return false;
      uint32_t value = 0;
      for (size_t k = 0; k < digits; ++k) {
        const int h = HexValue(s[i + k]);
        if (h < 0) return false;
        value = value * 16 + static_cast<uint32_t>(h);
      }
      i += digits;
      if (c == 'x') {
        out.push_back(static_cast<char>(value));
      } else {
        AppendUtf8(value, out);
      }
      return true;
    }
    default:
      if (c >= '0' && c <= '7') {
        if (s.size() - i < 2) return false;
        uint32_t value = static_cast<uint32_t>(c - '0');
        for (size_t k = 0; k < 2; ++k) {
          const char d = s[i + k];
          if (d < '0' || d > '7') return false;
          value = value * 8 + static_cast<uint32_t>(d - '0');
        }
        if (value > 255) return false;
        i += 2;
        out.push_back(static_cast<char>(value));
        return true;
      }
      return false;
  }
}

}  // namespace

size_t QuotedPrefixLength(std::string_view s) {
  if (s.empty()) return 0;
  const char quote = s[0];
  if (quote != '"' && quote != '`') return 0;
  for (size_t i = 1; i < s.size(); ++i) {
    if (quote == '"' && s[i] == '\\') {
      ++i;
      continue;
    }
    if (s[i] == quote) return i + 1;
    if (quote == '"' && s[i] == '\n') return 0;
  }
  return 0;
}

bool UnquoteGoString(std::string_view quoted, std::string& out) {
  out.clear();
  if (quoted.size() < 2 || quoted.front() != quoted.back()) return false;
  const char quote = quoted.front();
  const std::string_view body = quoted.substr(1, quoted.size() - 2);
  if (quote == '`') {
    if (body.find('`') != std::string_view::npos) return false;
    for (char c : body) {
      if (c != '\r') out.push_back(c);  // strconv drops CRs in raw strings.
    }
    return true;
  }
  if (quote != '"') return false;
  for (size_t i = 0; i < body.size();) {
    const char c = body[i];
    if (c == '"' || c == '\n') return false;
    if (c != '\\') {
      out.push_back(c);
      ++i;
      continue;
    }
    ++i;
    if (!DecodeEscape(body, i, out)) return false;
  }
  return true;
}

}  // namespace gcpilot::golang
