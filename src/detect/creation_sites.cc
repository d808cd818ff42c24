// Creation-site ranking and evidence (see creation_sites.h).
#include "detect/creation_sites.h"

#include <algorithm>
#include <map>

namespace gcpilot::detect {

std::string SiteCount::Key() const {
  std::string k = function.empty() ? "?" : function;
  if (!file.empty()) {
    // The last two path elements are enough to find the file in a repo.
    size_t cut = file.rfind('/');
    if (cut != std::string::npos && cut > 0) cut = file.rfind('/', cut - 1);
    k += " (" + (cut == std::string::npos ? file : file.substr(cut + 1)) + ":" +
         std::to_string(line) + ")";
  }
  return k;
}

void CreationSiteTracking::Add(SiteSample s) {
  std::sort(s.sites.begin(), s.sites.end(),
            [](const SiteCount& a, const SiteCount& b) { return a.live > b.live; });
  if (s.sites.size() > kMaxSitesPerSample) s.sites.resize(kMaxSitesPerSample);
  ++walks;
  total_cpu_ns += s.cpu_ns;
  max_wall_ns = std::max(max_wall_ns, s.wall_ns);
  total_bytes_read += s.bytes_read;
  samples.push_back(std::move(s));
  if (samples.size() > kMaxSamples) samples.erase(samples.begin() + 1);
}

std::vector<SiteGrowth> RankCreationSites(const CreationSiteTracking& t, size_t top) {
  std::vector<SiteGrowth> out;
  if (t.samples.empty()) return out;
  const SiteSample& first = t.samples.front();
  const SiteSample& last = t.samples.back();
  std::map<std::string, int64_t> base;
  for (const SiteCount& c : first.sites) base[c.Key()] += c.live;
  const double span_s = static_cast<double>(last.t_ns - first.t_ns) / 1e9;
  for (const SiteCount& c : last.sites) {
    SiteGrowth g;
    g.site = c;
    auto it = base.find(c.Key());
    g.first_live = it == base.end() ? 0 : it->second;
    g.last_live = c.live;
    g.growth = t.samples.size() > 1 ? g.last_live - g.first_live : 0;
    g.per_sec = span_s > 0 ? static_cast<double>(g.growth) / span_s : 0;
    out.push_back(std::move(g));
  }
  std::sort(out.begin(), out.end(), [](const SiteGrowth& a, const SiteGrowth& b) {
    if (a.growth != b.growth) return a.growth > b.growth;
    if (a.last_live != b.last_live) return a.last_live > b.last_live;
    return a.site.Key() < b.site.Key();
  });
  if (out.size() > top) out.resize(top);
  return out;
}

std::vector<SiteGrowth> GrowingCreationSites(const CreationSiteTracking& t, size_t top,
                                             int64_t min_growth) {
  std::vector<SiteGrowth> ranked = RankCreationSites(t, SIZE_MAX);
  std::vector<SiteGrowth> out;
  for (SiteGrowth& g : ranked) {
    if (out.size() == top) break;
    if (g.growth > 0 && g.growth >= min_growth) out.push_back(std::move(g));
  }
  return out;
}

nlohmann::json CreationSitesEvidence(const CreationSiteTracking& t, size_t top) {
  using nlohmann::json;
  json sites = json::array();
  for (const SiteGrowth& g : RankCreationSites(t, top)) {
    sites.push_back(json{{"function", g.site.function},
                         {"file", g.site.file},
                         {"line", g.site.line},
                         {"goroutine_function", g.site.goroutine_function},
                         {"live", g.last_live},
                         {"live_at_start", g.first_live},
                         {"growth", g.growth},
                         {"growth_per_sec", g.per_sec}});
  }
  json j{
      {"tracking",
       json{{"started_ns", t.started_ns},
            {"ended_ns", t.ended_ns == 0 ? json(nullptr) : json(t.ended_ns)},
            {"planned_s", static_cast<double>(t.planned_ns) / 1e9},
            {"samples", t.samples.size()},
            {"first_sample_ns", t.samples.empty() ? json(nullptr) : json(t.samples.front().t_ns)},
            {"last_sample_ns", t.samples.empty() ? json(nullptr) : json(t.samples.back().t_ns)},
            {"live_goroutines", t.samples.empty() ? json(nullptr) : json(t.samples.back().live)},
            {"truncated", !t.samples.empty() && t.samples.back().truncated},
            {"last_error", t.last_error}}},
      {"sites", sites},
      {"cost",
       json{{"method",
             "reads the process's memory (runtime.allgs and each g's status, gopc and "
             "startpc) with process_vm_readv: no uprobe, no ptrace stop, no stop of the "
             "world"},
            {"walks", t.walks},
            {"agent_cpu_ms", static_cast<double>(t.total_cpu_ns) / 1e6},
            {"agent_cpu_ms_per_walk", t.walks == 0 ? 0.0
                                                   : static_cast<double>(t.total_cpu_ns) / 1e6 /
                                                         static_cast<double>(t.walks)},
            {"max_walk_ms", static_cast<double>(t.max_wall_ns) / 1e6},
            {"bytes_read", t.total_bytes_read},
            {"goroutines_walked", t.samples.empty() ? 0 : t.samples.back().walked}}}};
  return j;
}

std::string GrowingSitesText(const std::vector<SiteGrowth>& growing) {
  std::string out;
  for (const SiteGrowth& g : growing) {
    if (!out.empty()) out += ", ";
    out += g.site.Key() + " +" + std::to_string(g.growth) + " (" + std::to_string(g.last_live) +
           " live)";
  }
  return out;
}

}  // namespace gcpilot::detect
