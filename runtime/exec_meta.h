// What a runtime exec tells about itself: the --process file, the container's bundle and its
// annotations (Kubernetes through containerd's CRI or CRI-O, Docker), turned into SessionMeta.
// The bundle's config.json is read by oci/oci_bundle.h.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"
#include "oci/oci_bundle.h"
#include "record/session_meta.h"
#include "runtime/runc_args.h"

namespace ttyaudit {

/// The fields of an OCI process (runc's --process file) that a session records.
struct ProcessSpec {
  bool terminal = false;
  std::vector<std::string> args;
  std::vector<std::string> env;
  std::string cwd;
  int64_t uid = -1;
  int64_t gid = -1;
  int width = 0;  // consoleSize, 0 when absent
  int height = 0;
};

/// Parses an OCI process JSON object. Unknown fields are ignored.
Result<ProcessSpec> ParseProcessSpec(std::string_view json);
/// Reads and parses the file (it must be read before the runtime returns: the shim deletes it).
Result<ProcessSpec> ReadProcessSpec(const std::string& path);

/// The bundle of container `id`: the --pid-file's directory when it holds a config.json
/// (containerd's shim puts exec pid files in the bundle), else `bundle` from
/// `runc --root ROOT state ID`, run with the real runc. Empty when neither tells.
std::string FindBundle(const std::string& runc, const RuncArgs& args);

/// Fills container fields of `m` from annotations: CRI (io.kubernetes.cri.*), CRI-O
/// (io.kubernetes.pod.*, io.kubernetes.container.name), or, with none of those, Docker (when
/// the runc root is dockerd's "moby" namespace) or plain containerd.
void ApplyAnnotations(const Annotations& a, const std::string& runtime_root, SessionMeta& m);

/// What a session takes from Docker's config.v2.json: the container's name, without Docker's
/// leading '/', and its image, as the client that created the container named them.
struct DockerConfig {
  std::string name;
  std::string image;
};

/// Parses Docker's config.v2.json (dockerd writes it from the create request; the fields a
/// session takes are the API client's). Unknown fields are ignored; an error when it is not a
/// JSON object or Name or Config.Image is not a string.
Result<DockerConfig> ParseDockerConfig(std::string_view json);

/// For Docker: the container's name and image from <dir>/config.v2.json, where <dir> is the
/// directory of `hostname_mount`. Leaves `m` as it was when the file is not there or is not
/// Docker's, and keeps what the bundle said where the file names nothing.
void ApplyDockerConfig(const std::string& hostname_mount, SessionMeta& m);

/// SessionMeta for an exec: ids, node, machine id, the process's argv, redacted env, cwd,
/// uid/gid, runc root, bundle and what the bundle's annotations say, completed with what
/// ttyaudit-hook saved for the container under `run_dir` (when it did). `source` is "runtime".
SessionMeta BuildExecMeta(const RuncArgs& args, const ProcessSpec& proc, const std::string& runc,
                          const std::string& node_name, const std::string& run_dir = "");

}  // namespace ttyaudit
