// An OCI bundle's config.json as ttyaudit touches it: ttyaudit-hook added to its hooks at
// `create`, and what an exec's session takes from it (annotations, the hostname mount, the
// rootfs). Also the state JSON that the runtime gives a hook.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"

namespace ttyaudit {

using Annotations = std::vector<std::pair<std::string, std::string>>;

struct HookOptions {
  /// Extra "NAME=value" environment for the hook (e.g. TTYAUDIT_CONFIG); runc gives hooks an
  /// empty environment otherwise.
  std::vector<std::string> env;
  /// Seconds runc lets the hook run before killing it (0: no timeout, which the OCI spec
  /// allows but which can stall a container for good).
  int timeout_s = 10;
};

/// Adds `hook_binary` to <bundle_dir>/config.json as a createRuntime hook (args
/// [hook_binary, "createRuntime"]) and a poststop hook (args [hook_binary, "poststop"]),
/// after the hooks already there, which are kept as they are, as is every other member of
/// the file. Idempotent: an entry whose path is `hook_binary` is replaced, not repeated, so a
/// second call leaves the file byte for byte the same. The file is replaced atomically
/// (temporary file, fsync, rename) with its mode kept. On error the file is untouched and
/// the message names the file and what was wrong ("config.json: hooks.poststop: want an
/// array").
Status AddHooks(const std::string& bundle_dir, const std::string& hook_binary,
                const HookOptions& opts = {});

/// The same transformation on config.json text (no files), for tests and reuse.
Result<std::string> AddHooksToConfig(std::string_view config_json, const std::string& hook_binary,
                                     const HookOptions& opts = {});

/// What a bundle's config.json says about the container.
struct BundleInfo {
  Annotations annotations;
  std::string hostname_mount;  // source of the /etc/hostname bind mount (Docker puts it in
                               // <data-root>/containers/<id>/), or empty
  std::string root_path;       // root.path: the rootfs, relative to the bundle or absolute
};

/// Parses a bundle's config.json text. Annotations must be strings; mounts and root that are
/// not what the OCI spec says are skipped.
Result<BundleInfo> ParseBundleConfig(std::string_view json);

/// Reads and parses <bundle_dir>/config.json (at most 4 MiB); errors name the file.
Result<BundleInfo> ReadBundleConfig(const std::string& bundle_dir);

/// The state the runtime writes to a hook's stdin (OCI runtime spec, "State").
struct HookState {
  std::string oci_version;
  std::string id;
  std::string status;  // "creating", "created", "running", "stopped"
  int64_t pid = 0;     // host pid of the container's init; 0 once stopped
  std::string bundle;
  Annotations annotations;
};

/// Parses the state JSON (simdjson On-Demand). `id` is required; unknown members are skipped.
Result<HookState> ParseHookState(std::string_view json);

/// The value of annotation `key`, or "" if absent.
std::string AnnotationValue(const Annotations& a, std::string_view key);

}  // namespace ttyaudit
