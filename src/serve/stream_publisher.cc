// Model changes as server-sent events (see stream_publisher.h).
#include "serve/stream_publisher.h"

#include "serve/agent_http.h"

namespace gcpilot::serve {

using nlohmann::json;

void StreamPublisher::OnProcess(const ProcessState& p) {
  if (!hub_->has_clients()) return;  // Building the JSON is most of the cost.
  Health h = p.exited ? Health::kExited : Health::kOk;
  hub_->Publish(p.key.pid, "process", DumpJson(ProcessToJson(p, h, wall_, nullptr)));
}

void StreamPublisher::OnCycle(const ProcessState& p, const StoredCycle& c) {
  if (!hub_->has_clients()) return;  // Building the JSON is most of the cost.
  hub_->Publish(p.key.pid, "cycle", CycleEventText(p.key, c, wall_));
}

void StreamPublisher::OnStop(const ProcessState& p, const StoredStop& s) {
  if (!hub_->has_clients()) return;  // Building the JSON is most of the cost.
  hub_->Publish(p.key.pid, "stop",
                DumpJson(json{{"pid", p.key.pid},
                              {"generation", p.key.generation},
                              {"stop", StopToApiJson(s, wall_)}}));
}

void StreamPublisher::OnWindow(const ProcessState& p, const WindowStats& w, Health h) {
  if (!hub_->has_clients()) return;  // Building the JSON is most of the cost.
  hub_->Publish(p.key.pid, "window",
                DumpJson(json{{"pid", p.key.pid},
                              {"generation", p.key.generation},
                              {"health", HealthName(h)},
                              {"totals",
                               {{"cycles", p.totals.cycles},
                                {"forced_cycles", p.totals.forced_cycles},
                                {"stops", p.totals.stops},
                                {"drops", p.totals.drops}}},
                              {"gauges", GaugesToJson(p)},
                              {"window", WindowToJson(w, wall_)}}));
}

}  // namespace gcpilot::serve
