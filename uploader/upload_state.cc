#include "uploader/upload_state.h"

#include <simdjson.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/files.h"
#include "base/json.h"
#include "base/json_read.h"
#include "record/spool.h"

namespace ttyaudit {

namespace od = simdjson::ondemand;

const char* UploadPhaseName(UploadState::Phase p) {
  switch (p) {
    case UploadState::kLive:
      return "live";
    case UploadState::kCast:
      return "cast";
    case UploadState::kManifest:
      return "manifest";
    case UploadState::kIndex:
      return "index";
    case UploadState::kCleanup:
      return "cleanup";
  }
  return "live";
}

Result<UploadState> LoadUploadState(const std::string& path) {
  UploadState s;
  auto read = ReadFileIfExists(path, 16 << 20);
  if (!read.ok()) return read.error();
  if (!*read) return s;
  const std::string& text = **read;
  JsonPlace at("state file `" + path + "`");
  JsonObjectText json;
  if (auto st = json.Open(text, at.origin()); !st) return Error{st.message()};
  auto phase = [&s](od::value v, const JsonPlace& at) -> Status {
    std::string name;
    if (Status st = JsonString(name)(v, at); !st) return st;
    for (int i = UploadState::kLive; i <= UploadState::kCleanup; ++i)
      if (name == UploadPhaseName(static_cast<UploadState::Phase>(i)))
        s.phase = static_cast<UploadState::Phase>(i);
    return {};
  };
  // [[number, "etag"], ...]
  auto parts = [&s](od::value v, const JsonPlace& at) -> Status {
    od::array arr;
    if (v.get_array().get(arr)) return at.Bad("want an array");
    for (auto item : arr) {
      od::array pair;
      if (item.get_array().get(pair)) return at.Bad("want [number, etag] pairs");
      CompletedPart part;
      int i = 0;
      for (auto x : pair) {
        if (i == 0) {
          int64_t n;
          if (x.get_int64().get(n)) return at.Bad("part number");
          part.number = static_cast<int>(n);
        } else {
          std::string_view etag;
          if (x.get_string().get(etag)) return at.Bad("part etag");
          part.etag = std::string(etag);
        }
        ++i;
      }
      s.cast_upload.parts.push_back(part);
    }
    return {};
  };
  if (Status st = DecodeJsonObject(json.object(), at,
                                   {
                                       {"phase", phase},
                                       {"live_offset", JsonInteger(s.live_offset)},
                                       {"live_seq", JsonInteger(s.live_seq)},
                                       {"upload_id", JsonString(s.cast_upload.upload_id)},
                                       {"part_size", JsonInteger(s.cast_upload.part_size)},
                                       {"parts", parts},
                                   },
                                   JsonUnknownKeys::kSkip);
      !st)
    return Error{st.message()};
  return s;
}

Status SaveUploadState(const std::string& path, const UploadState& s) {
  JsonWriter w;
  w.BeginObject();
  w.Key("phase").String(UploadPhaseName(s.phase));
  w.Key("live_offset").Uint(s.live_offset);
  w.Key("live_seq").Uint(s.live_seq);
  w.Key("upload_id").String(s.cast_upload.upload_id);
  w.Key("part_size").Uint(s.cast_upload.part_size);
  w.Key("parts").BeginArray();
  for (const auto& p : s.cast_upload.parts) w.BeginArray().Int(p.number).String(p.etag).EndArray();
  w.EndArray().EndObject();
  return ReplaceFile(path, w.str() + "\n", Durability::kFile);
}

int CleanOrphanStates(const std::string& spool_dir) {
  int cleaned = 0;
  for (const auto& id : SpoolUploadStateIds(spool_dir)) {
    struct stat st;
    if (stat(SpoolCastPath(spool_dir, id).c_str(), &st) == 0) continue;
    const std::string state_path = SpoolUploadStatePath(spool_dir, id);
    auto state = LoadUploadState(state_path);
    if (!state.ok() || state->phase != UploadState::kCleanup) continue;
    unlink(SpoolManifestPath(spool_dir, id).c_str());
    unlink(SpoolScreenTextPath(spool_dir, id).c_str());
    unlink(SpoolKeyframesPath(spool_dir, id).c_str());
    unlink(state_path.c_str());
    ++cleaned;
  }
  return cleaned;
}

}  // namespace ttyaudit
