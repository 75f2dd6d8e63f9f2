// Every object key of a store, in one place. Keys are relative to the store's root (the store
// adds its own prefix, store/store.h); each component that comes from a session is made safe
// by SanitizeKeyComponent, so no recording can name a key outside its own.
//
//   sessions/date=YYYY-MM-DD/<namespace>/<pod>/<container>/<id>.cast   the recording
//   sessions/date=YYYY-MM-DD/<namespace>/<pod>/<container>/<id>.json   its manifest
//   sessions/date=YYYY-MM-DD/<namespace>/<pod>/<container>/<id>.screen.txt   its screen text
//   sessions/date=YYYY-MM-DD/<namespace>/<pod>/<container>/<id>.keyframes.jsonl   its keyframes
//       (docs/SCREEN.md); host sessions file under _host/<node>/<user> instead
//   index/date=YYYY-MM-DD/node=<node>/<id>.json   the manifest plus "key", "cast_size",
//                                                 "cast_sha256": what search lists
//   live/<id>/<seq, 8 digits>.part   the .cast so far, in whole lines, while it records
//   identity/<id>.json   the Kubernetes identity `ttyaudit correlate` found for a session
//   sessions/.../<id>.sig   the manifest's signature by its node's key (store/signing.h)
//   keys/<node>/<key_id>.pub   a node's public key, published by its uploader
//   index-segments/date=YYYY-MM-DD/hour=HH/<ms>-<node>-<first id>.jsonl   many sessions' index
//   screen-segments/date=YYYY-MM-DD/hour=HH/<ms>-<node>-<first id>.jsonl  lines, and screen
//                                                 texts (docs/CATALOG.md)
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "record/session_meta.h"

namespace ttyaudit {

/// The key of the sealed recording, under `prefix` (no leading or trailing '/'; empty for the
/// store's own keys, or a store's prefix to show where it is in a bucket).
std::string SessionKey(const SessionMeta& m, std::string_view prefix = "");
/// The key of the manifest beside SessionKey(m): the same with .json.
std::string SessionManifestKey(const SessionMeta& m);

/// The key of the screen text beside a recording's key (`cast_key` ends in .cast): the same
/// with .screen.txt.
std::string ScreenTextKeyFor(std::string_view cast_key);
/// The key of the keyframes beside a recording's key: the same with .keyframes.jsonl.
std::string KeyframesKeyFor(std::string_view cast_key);

/// index/date=YYYY-MM-DD/node=<node>/<id>.json, under `prefix`.
std::string IndexKey(const SessionMeta& m, std::string_view prefix = "");
/// "index/": the prefix of every index entry.
std::string IndexPrefix();
/// The prefix of the index entries of sessions that started on the (UTC) day of `ns`.
std::string IndexDayPrefix(int64_t ns);
/// True for a key under IndexPrefix() that names an index entry (ends in .json).
bool IsIndexEntryKey(std::string_view key);

/// The key of live chunk `seq` of session `id`: live/<id>/<seq, 8 digits>.part. A chunk holds
/// whole asciicast lines; chunk 0 starts with the header line as it was at the start, and the
/// chunks in the order of their keys are the .cast as recorded so far.
std::string LiveChunkKey(std::string_view id, uint64_t seq);
/// live/<id>/: the prefix under which every live chunk of `id` sits.
std::string LiveChunkPrefix(std::string_view id);

/// identity/<id>.json
std::string IdentityKey(std::string_view id);
/// "identity/": the prefix of every identity.
std::string IdentityPrefix();
/// The session id an identity key names, or nullopt for a key that is not one.
std::optional<std::string> SessionIdOfIdentityKey(std::string_view key);

/// The signature object beside a session key (…/<id>.cast): …/<id>.sig.
std::string SignatureKeyFor(std::string_view cast_key);
/// keys/<node>/<key_id>.pub: node `node`'s public key `key_id`.
std::string NodePublicKeyKey(std::string_view node, std::string_view key_id);
/// "keys/": the prefix of every published node key.
std::string NodeKeysPrefix();

/// Where the catalog's index segments live (docs/CATALOG.md).
constexpr std::string_view kSegmentPrefix = "index-segments/";
/// Where the catalog's screen segments live: sessions' screen texts, many to an object, named
/// and listed as index segments are (docs/CATALOG.md).
constexpr std::string_view kScreenSegmentPrefix = "screen-segments/";

/// The key of a segment under `prefix` (kSegmentPrefix or kScreenSegmentPrefix) written at
/// `written_ns` by `node` whose first line is session `first_id` (both sanitized into one key
/// component each).
std::string SegmentKey(int64_t written_ns, std::string_view node, std::string_view first_id,
                       std::string_view prefix = kSegmentPrefix);

/// The write time (Unix ms) a segment key under `prefix` carries, or nullopt for a key not of
/// SegmentKey's form (which readers skip).
std::optional<int64_t> SegmentKeyMillis(std::string_view key,
                                        std::string_view prefix = kSegmentPrefix);

/// The key to list after so as to see every segment under `prefix` written at or after `ms`.
std::string SegmentListStart(int64_t ms, std::string_view prefix = kSegmentPrefix);

/// A probe object `ttyaudit doctor` writes and removes to see that the store takes writes:
/// doctor-probe/<ns>.
std::string DoctorProbeKey(int64_t ns);

}  // namespace ttyaudit
