#include "cli/serve_live.h"

#include <cstdio>
#include <memory>
#include <string>
#include <utility>

#include "base/json.h"
#include "base/utf8.h"
#include "cli/live.h"

namespace ttyaudit {
namespace {

std::string Event(const char* name, const std::string& json) {
  return std::string("event: ") + name + "\ndata: " + json + "\n\n";
}

std::string JsonText(std::string_view s) {
  std::string out;
  AppendJsonString(out, ToValidUtf8Lossy(s));
  return out;
}

}  // namespace

LiveEventStream::LiveEventStream(const Config& cfg, std::string store_url, std::string id)
    : cfg_(cfg), store_url_(std::move(store_url)), id_(std::move(id)) {}

LiveEventStream::~LiveEventStream() = default;

bool LiveEventStream::Next(int timeout_ms, std::string& out) {
  if (done_) return false;
  if (!follower_) {
    auto f = LiveFollower::Open(cfg_, store_url_, id_);
    if (!f.ok()) {
      out += Event("failed", JsonText(f.message()));
      done_ = true;
      return true;
    }
    follower_ = std::move(f.value());
    const SessionMeta& m = follower_->Meta();
    JsonWriter w;
    w.BeginObject().Key("width").Int(m.width).Key("height").Int(m.height).EndObject();
    out += Event("header", w.Take());
  }
  auto events = follower_->PollEvents(timeout_ms);
  if (!events.ok()) {
    out += Event("failed", JsonText(events.message()));
    done_ = true;
    return true;
  }
  std::string text;  // consecutive output, sent as one event
  auto flush = [&] {
    if (text.empty()) return;
    out += Event("output", JsonText(text));
    text.clear();
  };
  for (const CastEvent& ev : *events) {
    if (ev.code == "o") {
      filter_.Feed(ev.data, text);
    } else if (ev.code == "r") {
      flush();
      int w = 0, h = 0;
      if (std::sscanf(ev.data.c_str(), "%dx%d", &w, &h) == 2 && w > 0 && h > 0 && w < 10000 &&
          h < 10000)
        out += Event("resize", "[" + std::to_string(w) + "," + std::to_string(h) + "]");
    }
  }
  if (follower_->Ended()) {
    filter_.Finish(text);
    flush();
    out += Event("end", "{}");
    done_ = true;
    return true;
  }
  flush();
  if (out.empty()) out = ": idle\n\n";  // a write that tells whether the page is still there
  return true;
}

}  // namespace ttyaudit
