#include "screen/keyframes.h"

#include <algorithm>
#include <cmath>

#include "base/json.h"
#include "base/json_read.h"

namespace ttyaudit {

namespace od = simdjson::ondemand;

std::string KeyframesJsonl(const ScreenRecord& rec) {
  JsonWriter h;
  h.BeginObject().Key("v").Int(1).Key("duration").Double(rec.duration, 3);
  h.Key("output_bytes").Uint(rec.output_bytes).Key("keyframes").Uint(rec.keyframes.size());
  h.Key("text_truncated").Bool(rec.text_truncated);
  h.Key("keyframes_thinned").Bool(rec.keyframes_thinned);
  h.Key("output_truncated").Bool(rec.output_truncated).EndObject();
  std::string out = h.Take() + "\n";
  for (const Keyframe& k : rec.keyframes) {
    JsonWriter w;
    w.BeginObject().Key("t").Double(k.time, 6).Key("offset").Uint(k.offset);
    w.Key("cols").Int(k.cols).Key("rows").Int(k.rows).Key("why").String(k.why);
    w.Key("screen").String(k.screen).EndObject();
    out += w.Take() + "\n";
  }
  return out;
}

namespace {

Status ReadHeader(std::string_view line, const JsonPlace& at, KeyframesHeader& h) {
  JsonObjectText text;
  if (Status s = text.Open(line, at.Name()); !s) return s;
  int64_t version = 0;
  Status st = DecodeJsonObject(
      text.object(), at,
      {{"v",
        [&](od::value v, const JsonPlace& p) -> Status {
          return v.get_int64().get(version) ? p.Bad("want an integer") : Status::Ok();
        }},
       {"duration",
        [&](od::value v, const JsonPlace& p) -> Status {
          return v.get_double().get(h.duration) ? p.Bad("want a number") : Status::Ok();
        }},
       {"output_bytes",
        [&](od::value v, const JsonPlace& p) -> Status {
          return v.get_uint64().get(h.output_bytes) ? p.Bad("want a count") : Status::Ok();
        }},
       {"text_truncated",
        [&](od::value v, const JsonPlace& p) -> Status {
          return v.get_bool().get(h.text_truncated) ? p.Bad("want true or false") : Status::Ok();
        }},
       {"keyframes_thinned",
        [&](od::value v, const JsonPlace& p) -> Status {
          return v.get_bool().get(h.keyframes_thinned) ? p.Bad("want true or false") : Status::Ok();
        }},
       {"output_truncated",
        [&](od::value v, const JsonPlace& p) -> Status {
          return v.get_bool().get(h.output_truncated) ? p.Bad("want true or false") : Status::Ok();
        }}},
      JsonUnknownKeys::kSkip);
  if (!st) return st;
  if (version != 1) return at.Bad("version " + std::to_string(version) + " is not known");
  return Status::Ok();
}

Status ReadKeyframe(std::string_view line, const JsonPlace& at, Keyframe& k) {
  JsonObjectText text;
  if (Status s = text.Open(line, at.Name()); !s) return s;
  int64_t cols = 0, rows = 0;
  bool have_screen = false;
  Status st = DecodeJsonObject(
      text.object(), at,
      {{"t",
        [&](od::value v, const JsonPlace& p) -> Status {
          return v.get_double().get(k.time) || !std::isfinite(k.time) || k.time < 0
                     ? p.Bad("want a time in seconds")
                     : Status::Ok();
        }},
       {"offset",
        [&](od::value v, const JsonPlace& p) -> Status {
          return v.get_uint64().get(k.offset) ? p.Bad("want a byte offset") : Status::Ok();
        }},
       {"cols",
        [&](od::value v, const JsonPlace& p) -> Status {
          return v.get_int64().get(cols) || cols < 1 || cols > 100000 ? p.Bad("want a width")
                                                                      : Status::Ok();
        }},
       {"rows",
        [&](od::value v, const JsonPlace& p) -> Status {
          return v.get_int64().get(rows) || rows < 1 || rows > 100000 ? p.Bad("want a height")
                                                                      : Status::Ok();
        }},
       {"why",
        [&](od::value v, const JsonPlace& p) -> Status {
          return ReadJsonString(v, k.why) ? Status::Ok() : p.Bad("want a string");
        }},
       {"screen",
        [&](od::value v, const JsonPlace& p) -> Status {
          have_screen = ReadJsonString(v, k.screen);
          return have_screen ? Status::Ok() : p.Bad("want a string");
        }}},
      JsonUnknownKeys::kSkip);
  if (!st) return st;
  if (!have_screen || cols == 0 || rows == 0) return at.Bad("not a keyframe");
  k.cols = static_cast<int>(cols);
  k.rows = static_cast<int>(rows);
  return Status::Ok();
}

}  // namespace

Result<KeyframesFile> ParseKeyframes(std::string_view jsonl, const std::string& origin,
                                     size_t max_bytes) {
  if (jsonl.size() > max_bytes)
    return Error{origin + ": over " + std::to_string(max_bytes) + " bytes"};
  KeyframesFile f;
  size_t n = 0;
  while (!jsonl.empty()) {
    size_t nl = jsonl.find('\n');
    std::string_view line = jsonl.substr(0, nl);
    jsonl.remove_prefix(nl == std::string_view::npos ? jsonl.size() : nl + 1);
    if (line.empty()) continue;
    JsonPlace at(origin + ": line " + std::to_string(++n));
    if (n == 1) {
      if (Status s = ReadHeader(line, at, f.header); !s) return Error{s.message()};
      continue;
    }
    Keyframe k;
    if (Status s = ReadKeyframe(line, at, k); !s) return Error{s.message()};
    if (!f.keyframes.empty() &&
        (k.time < f.keyframes.back().time || k.offset < f.keyframes.back().offset))
      return at.Bad("keyframes out of order");
    f.keyframes.push_back(std::move(k));
  }
  if (n == 0) return Error{origin + ": empty"};
  return f;
}

const Keyframe* KeyframeAt(const std::vector<Keyframe>& frames, double time) {
  if (frames.empty()) return nullptr;
  auto it = std::upper_bound(frames.begin(), frames.end(), time,
                             [](double t, const Keyframe& k) { return t < k.time; });
  return it == frames.begin() ? &frames.front() : &*(it - 1);
}

}  // namespace ttyaudit
