// Token loading and constant-time comparison (see control_token.h).
#include "control/control_token.h"

#include <sys/stat.h>

#include <fstream>
#include <sstream>

namespace gcpilot::control {

StatusOr<std::string> LoadToken(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return Status::NotFound("cannot read token file " + path);
  if ((st.st_mode & S_IROTH) != 0) {
    return Status::InvalidArgument("token file " + path +
                                   " is readable by every user: chmod o-r it");
  }
  if (st.st_size > 4096) return Status::InvalidArgument("token file " + path + " is over 4 KiB");
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("cannot read token file " + path);
  std::ostringstream text;
  text << in.rdbuf();
  std::string t = text.str();
  const char* ws = " \t\r\n";
  size_t b = t.find_first_not_of(ws);
  if (b == std::string::npos) return Status::InvalidArgument("token file " + path + " is empty");
  t = t.substr(b, t.find_last_not_of(ws) - b + 1);
  return t;
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  // Compare over the longer length so a prefix takes as long as a mismatch.
  size_t n = std::max(a.size(), b.size());
  volatile unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < n; ++i) {
    unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff = diff | (x ^ y);
  }
  return diff == 0;
}

bool BearerMatches(std::string_view header, std::string_view token) {
  constexpr std::string_view kBearer = "Bearer ";
  if (header.substr(0, kBearer.size()) != kBearer) return false;
  return !token.empty() && ConstantTimeEquals(header.substr(kBearer.size()), token);
}

}  // namespace gcpilot::control
