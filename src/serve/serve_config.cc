// Reading and checking `gcpilot serve` options (see serve_config.h).
#include "serve/serve_config.h"

#include <toml++/toml.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

#include "serve/webhook_sender.h"

namespace gcpilot::serve {
namespace {

struct Unit {
  std::string_view suffix;
  int64_t ns;
};
// Longest suffixes first so "ms" is not read as "m".
constexpr Unit kUnits[] = {{"ns", 1},
                           {"us", 1'000},
                           {"ms", 1'000'000},
                           {"s", 1'000'000'000},
                           {"m", 60'000'000'000},
                           {"h", 3'600'000'000'000},
                           {"d", 86'400'000'000'000}};

std::string Where(std::string_view origin, const toml::node& node) {
  std::ostringstream o;
  o << origin << ":" << node.source().begin.line;
  return o.str();
}

Status TypeError(std::string_view origin, const toml::node& node, std::string_view key,
                 std::string_view want) {
  return Status::InvalidArgument(Where(origin, node) + ": '" + std::string(key) + "' must be " +
                                 std::string(want));
}

Status ReadDuration(std::string_view origin, const toml::node& node, std::string_view key,
                    int64_t* out) {
  const auto* s = node.as_string();
  if (s == nullptr) return TypeError(origin, node, key, "a duration string such as \"5ms\"");
  StatusOr<int64_t> d = ParseDuration(s->get());
  if (!d.ok()) {
    return Status::InvalidArgument(Where(origin, node) + ": '" + std::string(key) +
                                   "': " + d.status().message());
  }
  *out = *d;
  return Status::Ok();
}

Status ReadInt(std::string_view origin, const toml::node& node, std::string_view key,
               int64_t* out) {
  const auto* i = node.as_integer();
  if (i == nullptr) return TypeError(origin, node, key, "an integer");
  *out = i->get();
  return Status::Ok();
}

Status ReadString(std::string_view origin, const toml::node& node, std::string_view key,
                  std::string* out) {
  const auto* s = node.as_string();
  if (s == nullptr) return TypeError(origin, node, key, "a string");
  *out = s->get();
  return Status::Ok();
}

Status ReadWatch(std::string_view origin, const toml::table& watch, ServeConfig* c) {
  for (const auto& [k, node] : watch) {
    std::string key(k.str());
    const toml::array* arr = node.as_array();
    if (key != "pids" && key != "exes") {
      return Status::InvalidArgument(Where(origin, node) + ": unknown key 'watch." + key +
                                     "' (known: pids, exes)");
    }
    if (arr == nullptr) return TypeError(origin, node, "watch." + key, "an array");
    for (const toml::node& item : *arr) {
      if (key == "pids") {
        const auto* i = item.as_integer();
        if (i == nullptr || i->get() <= 0 || i->get() > INT32_MAX) {
          return TypeError(origin, item, "watch.pids", "an array of positive pids");
        }
        c->pids.push_back(static_cast<pid_t>(i->get()));
      } else {
        const auto* s = item.as_string();
        if (s == nullptr) return TypeError(origin, item, "watch.exes", "an array of paths");
        c->exes.push_back(s->get());
      }
    }
  }
  return Status::Ok();
}

Status ReadBreaker(std::string_view origin, const toml::table& t, BreakerConfig* b) {
  for (const auto& [k, node] : t) {
    std::string key(k.str());
    std::string name = "breaker." + key;
    Status s;
    if (key == "threshold") {
      s = ReadDuration(origin, node, name, &b->threshold_ns);
      if (s.ok() && b->threshold_ns <= 0) {
        s = Status::InvalidArgument(Where(origin, node) + ": 'breaker.threshold' must be above 0");
      }
    } else if (key == "window") {
      s = ReadString(origin, node, name, &b->window);
    } else if (key == "cool_down") {
      s = ReadDuration(origin, node, name, &b->cool_down_ns);
    } else if (key == "recovery_windows") {
      s = ReadInt(origin, node, name, &b->recovery_windows);
    } else if (key == "webhook") {
      s = ReadString(origin, node, name, &b->webhook);
    } else {
      s = Status::InvalidArgument(
          Where(origin, node) + ": unknown key '" + name +
          "' (known: threshold, window, cool_down, recovery_windows, webhook)");
    }
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

Status ReadFindings(std::string_view origin, const toml::table& t, FindingsConfig* f) {
  for (const auto& [k, node] : t) {
    std::string key(k.str());
    Status s;
    if (key == "webhook") {
      s = ReadString(origin, node, "findings.webhook", &f->webhook);
    } else {
      s = Status::InvalidArgument(Where(origin, node) + ": unknown key 'findings." + key +
                                  "' (known: webhook)");
    }
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

Status ReadDetectors(std::string_view origin, const toml::table& t, DetectorsConfig* d) {
  for (const auto& [k, node] : t) {
    std::string key(k.str());
    std::string name = "detectors." + key;
    Status s;
    auto duration = [&](std::optional<int64_t>* out) {
      int64_t v = 0;
      Status r = ReadDuration(origin, node, name, &v);
      if (r.ok()) *out = v;
      return r;
    };
    auto integer = [&](std::optional<int64_t>* out) {
      int64_t v = 0;
      Status r = ReadInt(origin, node, name, &v);
      if (r.ok()) *out = v;
      return r;
    };
    if (key == "trend_window") {
      s = duration(&d->trend_window_ns);
    } else if (key == "trend_min_span") {
      s = duration(&d->trend_min_span_ns);
    } else if (key == "creation_sites_duration") {
      s = duration(&d->creation_sites_duration_ns);
    } else if (key == "creation_sites_interval") {
      s = duration(&d->creation_sites_interval_ns);
    } else if (key == "creation_sites_cooldown") {
      s = duration(&d->creation_sites_cooldown_ns);
    } else if (key == "creation_sites_max_goroutines") {
      s = integer(&d->creation_sites_max_goroutines);
    } else if (key == "fragmentation_ratio") {
      std::optional<double> v = node.value<double>();
      if (!v || !(node.is_floating_point() || node.is_integer())) {
        s = TypeError(origin, node, name, "a number");
      } else {
        d->fragmentation_ratio = *v;
      }
    } else if (key == "fragmentation_min_excess_mib") {
      s = integer(&d->fragmentation_min_excess_mib);
    } else if (key == "fragmentation_window") {
      s = duration(&d->fragmentation_window_ns);
    } else if (key == "finalizer_min_backlog") {
      s = integer(&d->finalizer_min_backlog);
    } else if (key == "finalizer_min_added") {
      s = integer(&d->finalizer_min_added);
    } else if (key == "finalizer_window") {
      s = duration(&d->finalizer_window_ns);
    } else if (key == "finalizer_min_span") {
      s = duration(&d->finalizer_min_span_ns);
    } else {
      s = Status::InvalidArgument(
          Where(origin, node) + ": unknown key '" + name +
          "' (known: trend_window, trend_min_span, creation_sites_duration, "
          "creation_sites_interval, creation_sites_cooldown, creation_sites_max_goroutines, "
          "fragmentation_ratio, fragmentation_min_excess_mib, fragmentation_window, "
          "finalizer_min_backlog, finalizer_min_added, finalizer_window, finalizer_min_span)");
    }
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

Status ReadTuner(std::string_view origin, const toml::table& t, TunerConfig* c) {
  for (const auto& [k, node] : t) {
    std::string key(k.str());
    Status s;
    if (key == "policy") {
      s = ReadString(origin, node, "tuner.policy", &c->policy);
    } else if (key == "apply") {
      std::optional<bool> b = node.value<bool>();
      if (!node.is_boolean() || !b) {
        s = TypeError(origin, node, "tuner.apply", "a boolean");
      } else {
        c->apply = *b;
      }
    } else {
      s = Status::InvalidArgument(Where(origin, node) + ": unknown key 'tuner." + key +
                                  "' (known: policy, apply)");
    }
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

Status ReadGctrace(std::string_view origin, const toml::node& node, ServeConfig* c) {
  const toml::array* arr = node.as_array();
  if (arr == nullptr) return TypeError(origin, node, "gctrace", "an array of tables ([[gctrace]])");
  for (const toml::node& item : *arr) {
    const toml::table* t = item.as_table();
    if (t == nullptr) return TypeError(origin, item, "gctrace", "an array of tables ([[gctrace]])");
    GctraceLogConfig g;
    for (const auto& [k, v] : *t) {
      std::string key(k.str());
      Status s;
      if (key == "path") {
        s = ReadString(origin, v, "gctrace.path", &g.path);
      } else if (key == "name") {
        s = ReadString(origin, v, "gctrace.name", &g.name);
      } else if (key == "pid") {
        int64_t pid = 0;
        s = ReadInt(origin, v, "gctrace.pid", &pid);
        if (s.ok() && (pid <= 0 || pid > INT32_MAX)) {
          s = TypeError(origin, v, "gctrace.pid", "a positive integer");
        }
        g.pid = static_cast<int32_t>(pid);
      } else {
        s = Status::InvalidArgument(Where(origin, v) + ": unknown key 'gctrace." + key +
                                    "' (known: path, name, pid)");
      }
      if (!s.ok()) return s;
    }
    if (g.path.empty()) return TypeError(origin, item, "gctrace.path", "set (the log file)");
    c->gctrace.push_back(std::move(g));
  }
  return Status::Ok();
}

}  // namespace

StatusOr<int64_t> ParseDuration(std::string_view text) {
  std::string t(text);
  for (const Unit& u : kUnits) {
    if (t.size() <= u.suffix.size() || t.compare(t.size() - u.suffix.size(), std::string::npos,
                                                 u.suffix.data(), u.suffix.size()) != 0) {
      continue;
    }
    std::string number = t.substr(0, t.size() - u.suffix.size());
    // "5ms" ends in "s" too: only accept when the rest is a plain number.
    char* end = nullptr;
    double v = std::strtod(number.c_str(), &end);
    if (end == number.c_str() || *end != '\0') continue;
    if (!std::isfinite(v) || v < 0) break;
    double ns = v * static_cast<double>(u.ns);
    if (ns > 9.2e18) break;
    return static_cast<int64_t>(std::llround(ns));
  }
  return Status::InvalidArgument("'" + t +
                                 "' is not a duration (a number and a unit: ns, us, ms, s, "
                                 "m, h or d, e.g. \"5ms\", \"1h\")");
}

std::string FormatDuration(int64_t ns) {
  for (auto it = std::rbegin(kUnits); it != std::rend(kUnits); ++it) {
    if (ns != 0 && ns % it->ns == 0) return std::to_string(ns / it->ns) + std::string(it->suffix);
  }
  return std::to_string(ns) + "ns";
}

StatusOr<ServeConfig> ParseServeConfig(std::string_view toml_text, std::string_view origin,
                                       ServeConfig base) {
  toml::table root;
  try {
    // toml++ is built with exceptions here: a syntax error throws.
    root = toml::parse(toml_text, origin);
  } catch (const toml::parse_error& e) {
    std::ostringstream o;
    o << origin << ":" << e.source().begin.line << ":" << e.source().begin.column << ": "
      << e.description();
    return Status::InvalidArgument(o.str());
  }
  ServeConfig c = std::move(base);
  for (const auto& [k, node] : root) {
    std::string key(k.str());
    Status s;
    if (key == "listen") {
      s = ReadString(origin, node, key, &c.listen);
    } else if (key == "unix_socket") {
      s = ReadString(origin, node, key, &c.unix_socket);
    } else if (key == "unix_socket_mode") {
      s = ReadInt(origin, node, key, &c.unix_socket_mode);
    } else if (key == "slo_pause") {
      s = ReadDuration(origin, node, key, &c.slo_pause_ns);
    } else if (key == "retention") {
      s = ReadDuration(origin, node, key, &c.retention_ns);
    } else if (key == "max_cycles_per_process") {
      s = ReadInt(origin, node, key, &c.max_cycles_per_process);
    } else if (key == "max_processes") {
      s = ReadInt(origin, node, key, &c.max_processes);
    } else if (key == "exited_retention") {
      s = ReadDuration(origin, node, key, &c.exited_retention_ns);
    } else if (key == "store") {
      s = ReadString(origin, node, key, &c.store);
    } else if (key == "store_retention") {
      s = ReadDuration(origin, node, key, &c.store_retention_ns);
    } else if (key == "token_file") {
      s = ReadString(origin, node, key, &c.token_file);
    } else if (key == "max_stream_clients") {
      s = ReadInt(origin, node, key, &c.max_stream_clients);
    } else if (key == "http_threads") {
      s = ReadInt(origin, node, key, &c.http_threads);
    } else if (key == "breaker") {
      const toml::table* t = node.as_table();
      s = t == nullptr ? TypeError(origin, node, key, "a table ([breaker])")
                       : ReadBreaker(origin, *t, &c.breaker);
    } else if (key == "findings") {
      const toml::table* t = node.as_table();
      s = t == nullptr ? TypeError(origin, node, key, "a table ([findings])")
                       : ReadFindings(origin, *t, &c.findings);
    } else if (key == "detectors") {
      const toml::table* t = node.as_table();
      s = t == nullptr ? TypeError(origin, node, key, "a table ([detectors])")
                       : ReadDetectors(origin, *t, &c.detectors);
    } else if (key == "tuner") {
      const toml::table* t = node.as_table();
      s = t == nullptr ? TypeError(origin, node, key, "a table ([tuner])")
                       : ReadTuner(origin, *t, &c.tuner);
    } else if (key == "gctrace") {
      s = ReadGctrace(origin, node, &c);
    } else if (key == "watch") {
      const toml::table* t = node.as_table();
      s = t == nullptr ? TypeError(origin, node, key, "a table ([watch])")
                       : ReadWatch(origin, *t, &c);
    } else {
      s = Status::InvalidArgument(Where(origin, node) + ": unknown option '" + key +
                                  "' (see docs/serve.md for the options)");
    }
    if (!s.ok()) return s;
  }
  Status valid = ValidateServeConfig(c);
  if (!valid.ok()) return Status::InvalidArgument(std::string(origin) + ": " + valid.message());
  return c;
}

StatusOr<ServeConfig> LoadServeConfig(const std::string& path, ServeConfig base) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("cannot read config file " + path);
  std::ostringstream text;
  text << in.rdbuf();
  if (text.str().size() > (1 << 20)) {
    return Status::InvalidArgument(path + ": config file larger than 1 MiB");
  }
  return ParseServeConfig(text.str(), path, std::move(base));
}

Status SplitListenAddress(const std::string& listen, std::string* host, int* port) {
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon + 1 >= listen.size()) {
    return Status::InvalidArgument("listen address '" + listen +
                                   "' must be host:port, e.g. 127.0.0.1:9464");
  }
  std::string h = listen.substr(0, colon);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  std::string p = listen.substr(colon + 1);
  char* end = nullptr;
  long v = std::strtol(p.c_str(), &end, 10);
  if (h.empty() || *end != '\0' || v < 0 || v > 65535) {
    return Status::InvalidArgument("listen address '" + listen +
                                   "' must be host:port with a port in 0..65535");
  }
  *host = h;
  *port = static_cast<int>(v);
  return Status::Ok();
}

Status ValidateServeConfig(const ServeConfig& c) {
  std::string host;
  int port = 0;
  Status s = SplitListenAddress(c.listen, &host, &port);
  if (!s.ok()) return s;
  auto positive = [](int64_t v, const char* name) {
    return v > 0 ? Status::Ok()
                 : Status::InvalidArgument(std::string("'") + name + "' must be positive");
  };
  for (Status p : {positive(c.slo_pause_ns, "slo_pause"), positive(c.retention_ns, "retention"),
                   positive(c.max_cycles_per_process, "max_cycles_per_process"),
                   positive(c.max_processes, "max_processes"),
                   positive(c.exited_retention_ns, "exited_retention"),
                   positive(c.store_retention_ns, "store_retention"),
                   positive(c.max_stream_clients, "max_stream_clients"),
                   positive(c.http_threads, "http_threads")}) {
    if (!p.ok()) return p;
  }
  if (c.max_cycles_per_process > 10'000'000) {
    return Status::InvalidArgument("'max_cycles_per_process' above 10000000 (about 2 GB)");
  }
  if (c.max_processes > 100'000) return Status::InvalidArgument("'max_processes' above 100000");
  if (c.http_threads > 4096) return Status::InvalidArgument("'http_threads' above 4096");
  const BreakerConfig& b = c.breaker;
  int64_t threshold = b.threshold_ns > 0 ? b.threshold_ns : c.slo_pause_ns;
  if (b.threshold_ns < 0 || threshold > 60'000'000'000) {
    return Status::InvalidArgument(
        "'breaker.threshold' (default: slo_pause) must be above 0 and at most 1m");
  }
  if (b.window != "1s" && b.window != "10s" && b.window != "1m") {
    return Status::InvalidArgument("'breaker.window' must be one of 1s, 10s, 1m");
  }
  if (b.cool_down_ns <= 0 || b.cool_down_ns > 3'600'000'000'000) {
    return Status::InvalidArgument("'breaker.cool_down' must be above 0 and at most 1h");
  }
  if (b.recovery_windows < 1 || b.recovery_windows > 1000) {
    return Status::InvalidArgument("'breaker.recovery_windows' must be in 1..1000");
  }
  if (!c.unix_socket.empty() && (c.unix_socket[0] != '/' || c.unix_socket.size() > 107)) {
    return Status::InvalidArgument("'unix_socket' must be an absolute path of at most 107 bytes");
  }
  if (c.unix_socket_mode < 0 || c.unix_socket_mode > 0777) {
    return Status::InvalidArgument(
        "'unix_socket_mode' must be a file mode in 0..0o777 (write it as 0o660)");
  }
  for (const auto& [key, url] :
       {std::pair<const char*, const std::string&>{"breaker.webhook", b.webhook},
        {"findings.webhook", c.findings.webhook}}) {
    std::string host, path;
    if (!url.empty() && !WebhookSender::SplitUrl(url, &host, &path).ok()) {
      return Status::InvalidArgument(std::string("'") + key +
                                     "' must be an http://host:port/path URL");
    }
  }
  if (c.tuner.policy != "pause-deviation" && c.tuner.policy != "memory-headroom" &&
      c.tuner.policy != "node-pressure" && c.tuner.policy != "off") {
    return Status::InvalidArgument(
        "'tuner.policy' must be one of pause-deviation, "
        "memory-headroom, node-pressure, off (got '" +
        c.tuner.policy + "')");
  }
  if (c.tuner.apply && c.tuner.policy == "off") {
    return Status::InvalidArgument("'tuner.apply' needs a 'tuner.policy' other than off");
  }
  if (c.max_stream_clients >= c.http_threads) {
    return Status::InvalidArgument(
        "'max_stream_clients' must be below 'http_threads' (each stream holds a thread)");
  }
  return Status::Ok();
}

}  // namespace gcpilot::serve
