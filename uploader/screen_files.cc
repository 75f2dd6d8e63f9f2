#include "uploader/screen_files.h"

#include <simdjson.h>
#include <sys/stat.h>

#include <optional>
#include <vector>

#include "base/files.h"
#include "catalog/segment.h"
#include "screen/keyframes.h"
#include "screen/screen_record.h"
#include "store/keys.h"

namespace ttyaudit {
namespace {

// The start times of the manifest's commands: where keyframes go besides every few seconds.
std::vector<double> CommandStarts(std::string_view manifest) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  simdjson::dom::array commands;
  std::vector<double> starts;
  if (parser.parse(manifest.data(), manifest.size()).get(doc) ||
      doc["commands"].get_array().get(commands))
    return starts;
  for (const CommandMark& m : CommandMarks(simdjson::minify(commands))) starts.push_back(m.start);
  return starts;
}

bool Exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

}  // namespace

Status ShipScreenFiles(Store& store, const std::string& spool_dir, const SpoolEntry& e,
                       std::string_view manifest, const std::string& cast_key,
                       const std::function<void(LogLevel, std::string_view)>& log) {
  const std::string text_path = SpoolScreenTextPath(spool_dir, e.id);
  const std::string frames_path = SpoolKeyframesPath(spool_dir, e.id);
  if (!Exists(text_path) || !Exists(frames_path)) {
    auto rec = BuildScreenRecord(e.cast_path, CommandStarts(manifest));
    if (!rec.ok()) {
      log(LogLevel::kWarning, "session " + e.id + ": no screen text or keyframes: " +
                                  rec.message() + "; search --text reads its raw output");
      return Status::Ok();
    }
    // fsync'd before their rename, so that a crash never leaves a name over lost bytes that a
    // retry would take for the finished file.
    if (Status s = ReplaceFile(frames_path, KeyframesJsonl(*rec), Durability::kFile); !s) return s;
    if (Status s = ReplaceFile(text_path, rec->text, Durability::kFile); !s) return s;
  }
  auto text = ReadFile(text_path);
  if (!text.ok()) return text.status();
  auto frames = ReadFile(frames_path);
  if (!frames.ok()) return frames.status();
  PutOptions o;
  o.content_type = "application/x-ndjson";
  if (Status s = store.Put(KeyframesKeyFor(cast_key), *frames, o); !s) return s;
  o.content_type = "text/plain; charset=utf-8";
  return store.Put(ScreenTextKeyFor(cast_key), *text, o);
}

Status JournalScreenText(SegmentJournal& journal, const std::string& spool_dir, const SpoolEntry& e,
                         std::string_view node) {
  auto text = ReadFileIfExists(SpoolScreenTextPath(spool_dir, e.id));
  if (!text.ok()) return text.status();
  return journal.AddLine(ScreenSegmentLine(e.id, node, *text));
}

}  // namespace ttyaudit
