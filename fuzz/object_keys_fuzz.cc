// Annotations into object keys (store/keys.h): a pod's namespace, name and container name, a
// container id, a node or user name and a session id all become components of keys in the
// bucket. No value may name a key outside its session's place. Also the keys a bucket lists
// back (segment and identity keys), which whoever can write the bucket controls.
//
// Input: lines. Line 1: the runtime root; 2: the session id; 3: the node; 4: the user; 5: the
// container id; 6: the start time (Unix ns, decimal); then annotation keys and values, one line
// each. The whole input is also read as a listed key.
#include <algorithm>
#include <charconv>
#include <vector>

#include "fuzz/fuzz_input.h"
#include "oci/container_meta.h"
#include "runtime/exec_meta.h"
#include "store/keys.h"

using ttyaudit::fuzz::Check;
using ttyaudit::fuzz::CheckKeyShape;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ttyaudit;
  std::string_view text = fuzz::Text(data, size);
  std::vector<std::string> lines;
  fuzz::ForEachPiece(text, '\n', [&](std::string_view l) { lines.emplace_back(l); });
  lines.resize(std::max<size_t>(lines.size(), 6));
  Annotations annotations;
  for (size_t i = 6; i + 1 < lines.size(); i += 2) annotations.emplace_back(lines[i], lines[i + 1]);

  SessionMeta m;
  m.source = "runtime";
  m.id = lines[1];
  m.node = lines[2];
  m.user = lines[3];
  m.container_id = lines[4];
  std::from_chars(lines[5].data(), lines[5].data() + lines[5].size(), m.start_ns);
  ApplyAnnotations(annotations, lines[0], m);

  for (const char* source : {"runtime", "host"}) {
    m.source = source;
    std::string key = SessionKey(m);
    CheckKeyShape(key, "sessions/", 5);
    Check(key.ends_with(".cast"), "a session key ends in .cast");
    std::string manifest = SessionManifestKey(m);
    Check(manifest.substr(0, manifest.size() - 5) == key.substr(0, key.size() - 5),
          "the manifest sits beside its recording");
    CheckKeyShape(IndexKey(m), "index/", 3);
    Check(IsIndexEntryKey(IndexKey(m)), "an index key is an index entry's");
  }
  CheckKeyShape(LiveChunkKey(m.id, static_cast<uint64_t>(m.start_ns)), "live/", 2);
  Check(LiveChunkKey(m.id, 7).starts_with(LiveChunkPrefix(m.id)), "live chunks share a prefix");
  std::string identity = IdentityKey(m.id);
  CheckKeyShape(identity, "identity/", 1);
  auto id = SessionIdOfIdentityKey(identity);
  Check(id.has_value() && IdentityKey(*id) == identity, "an identity key names its session");

  std::string segment = SegmentKey(m.start_ns, m.node, m.id);
  CheckKeyShape(segment, std::string(kSegmentPrefix), 3);
  auto ms = SegmentKeyMillis(segment);
  Check(ms.has_value(), "a segment key reads back");
  Check(*ms == std::max<int64_t>(m.start_ns / 1000000, 0), "a segment key carries its time");

  // Keys as a bucket lists them.
  std::string listed(text);
  if (auto t = SegmentKeyMillis(listed)) {
    Check(*t >= 0, "a listed segment's time is not before 1970");
    Check(listed.starts_with(SegmentListStart(*t)), "a listed segment sorts by its time");
  }
  if (auto sid = SessionIdOfIdentityKey(listed))
    Check(sid->find('/') == std::string::npos && !sid->empty(), "an identity names one id");
  return 0;
}
