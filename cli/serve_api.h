// What `ttyaudit serve` answers, apart from the HTTP server itself (serve.h): the listen address
// and token rules, the query that a page's URL holds, the JSON the pages read, and the recording
// as the player gets it.
//
// Every string here comes from a recording or a bucket. The JSON is data for pages that insert
// it as text (textContent), and the player's stream has gone through TerminalFilter, so that a
// recording cannot set a title, write the clipboard or make the page's terminal answer.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "cli/search.h"
#include "cli/sessions.h"
#include "cli/terminal_filter.h"
#include "cli/verify.h"
#include "record/cast_reader.h"

namespace ttyaudit {

struct ListenAddress {
  std::string host;  // as given: "127.0.0.1", "::1", "0.0.0.0", "localhost", a name
  int port = 0;
};

/// Parses HOST:PORT, [V6]:PORT or PORT (on 127.0.0.1). An error says what is wrong.
Result<ListenAddress> ParseListen(const std::string& text);

/// True for addresses only this machine reaches: 127.0.0.0/8, ::1 and "localhost".
bool IsLoopback(const std::string& host);

/// Whether `given` equals `expected`, in time that depends only on their lengths.
bool TokenEquals(std::string_view expected, std::string_view given);

/// The token of a --token-file: its first line, whitespace trimmed. An error when the file
/// cannot be read, or holds fewer than 16 characters.
Result<std::string> ReadTokenFile(const std::string& path);

/// The filters of a list page's query string (the names of `ttyaudit search`'s options, without
/// the dashes: since, until, user, command, text, namespace, pod, container, node, image,
/// escalated, exit_code, state, uid, live) as a search of `store_url`.
SearchQuery QueryFromParams(const std::multimap<std::string, std::string>& params,
                            const std::string& store_url);

/// One session of a list, as a JSON object: where it ran, who, when, state, argv.
std::string SessionSummaryJson(const SessionRecord& s);

/// Everything the replay page shows beside the player: the summary plus cwd, env (as recorded,
/// secrets already redacted), the Kubernetes identity, and the commands (the manifest's
/// array, each marked "escalated" when it ran with another uid or euid than the session's).
std::string SessionDetailJson(const SessionRecord& s, uint64_t cast_size);

/// A session still recording in a bucket: nothing sealed to verify yet.
EvidenceState PendingEvidence();
/// {"id", "state", "problems": [...], "key_id"}.
std::string EvidenceJson(const std::string& id, const EvidenceState& e);

/// One page of a list: {"sessions": [...], "page", "per_page", "more", "warnings": [...]}.
std::string SessionPageJson(const std::vector<SessionRecord>& sessions, size_t page,
                            size_t per_page, bool more, const std::vector<std::string>& warnings);

/// The bucket's layout one level down from `at` (date, then namespace, pod, container), with
/// the number of sessions under each: {"level": "date"|..., "items": [{"name","count"}]}.
/// `at` holds the levels chosen so far ("date", "namespace", "pod"); sessions outside them are
/// not counted. Host sessions sit under namespace "_host", pod = node, container = user, as in
/// the bucket.
std::string BrowseJson(const std::vector<SessionRecord>& sessions,
                       const std::map<std::string, std::string>& at);

/// The bucket-layout names of a session: date (UTC), namespace, pod, container.
struct LayoutPath {
  std::string date, k8s_namespace, pod, container;
};
LayoutPath LayoutOf(const SessionMeta& m);

/// Turns the bytes of a recording, fed in pieces of any size, into asciicast v2 for a page.
///  - kPlayer: what the player gets, from the recording's first byte: a minimal header made
///    from `m` (width, height, timestamp: nothing else of the recording's header), then the
///    "o" events through TerminalFilter, the "r" (resize) and "m" (marker) events; "i" (typed
///    input) is dropped.
///  - kPlayerPart: the same for a part that starts after the header; times start at its first
///    event.
///  - kExport: the download, as `ttyaudit export` writes it: the header line as recorded, every
///    event, bytes that are not UTF-8 as U+FFFD, no ttyaudit "b" lines.
class PlayerStream {
 public:
  enum class Mode { kPlayer, kPlayerPart, kExport };
  PlayerStream(const SessionMeta& m, Mode mode);
  /// For a part that starts at a keyframe (kPlayerPart): its first event paints `screen` (a
  /// keyframe's, docs/SCREEN.md; of `cols` x `rows`), and the events of the first `lead_bytes`
  /// fed (those between the keyframe and the part's first byte) come at time 0, so that the
  /// part's first frame is the screen as it was. Call before the first Feed.
  void StartFrom(std::string_view screen, int cols, int rows, uint64_t lead_bytes);
  /// Appends to `out` the lines that `bytes` completes.
  void Feed(std::string_view bytes, std::string& out);
  /// Ends the stream (a last line without a newline is dropped: it was cut short).
  void Finish(std::string& out);
  /// Lines that were not events and were skipped.
  uint64_t skipped() const { return skipped_; }

 private:
  void Line(std::string& out);
  Mode mode_;
  bool at_header_;
  bool have_base_ = false;
  double base_ = 0;
  double last_ = 0;     // times never go back
  std::string header_;  // written before the first line
  std::string pending_;
  bool too_long_ = false;
  uint64_t skipped_ = 0;
  uint64_t lead_left_ = 0;  // bytes still to feed before the part's own events
  bool leading_ = false;    // the line being completed began inside the lead
  EventLineParser parser_;
  TerminalFilter filter_;
};

/// A part of a large recording: the bytes [begin, end) of the object that hold whole lines.
/// Parts are `part_size` bytes of the object each, cut at the first newline at or after each
/// boundary; part 0 starts at the header.
struct CastPart {
  uint64_t begin = 0, end = 0;
  uint64_t count = 1;  // parts in the recording
};

/// Where part `index` of an object of `size` bytes lies, reading the bytes around its
/// boundaries with `read` (offset, length -> bytes). An error for a part past the end.
Result<CastPart> FindCastPart(uint64_t size, uint64_t part_size, uint64_t index,
                              const std::function<Result<std::string>(uint64_t, uint64_t)>& read);

}  // namespace ttyaudit
