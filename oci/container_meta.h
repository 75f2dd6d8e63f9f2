// Where ttyaudit-hook leaves a container's metadata for the recorders of later execs, and how
// it tells their open sessions to seal when the container stops.
//
// Layout under the run directory (tmpfs, gone at reboot like the containers; default
// /run/ttyaudit, TTYAUDIT_RUN_DIR overrides it for tests), root-only (0700):
//   containers/<id>.json          ContainerMeta, written atomically at createRuntime and
//                                 removed at poststop. A recorder reads it by the exec's
//                                 container id: no runc call, no bundle parsing.
//   sessions/<id>/<session>.pid   "PID STARTTIME\n" of each recorder recording an exec in
//                                 container <id>, written when recording starts, removed when
//                                 it ends. STARTTIME (field 22 of /proc/PID/stat) keeps a
//                                 reused pid from being signalled.
// Sealing: poststop sends SIGTERM to every recorder listed for the container whose start time
// still matches. A recorder treats SIGTERM as "end now": drain what the pty holds, write the
// end state, seal the manifest. Normally the exec's process dies with the container and the
// recorder ends on its own; the signal covers a recorder that would otherwise wait forever
// (a pty held open outside the container, a stuck shim).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"
#include "base/run_dir.h"
#include "oci/oci_bundle.h"
#include "record/session_meta.h"

namespace ttyaudit {

struct ContainerMeta {
  std::string id;
  int64_t pid = 0;  // host pid of the container's init
  std::string bundle;
  std::string runtime;  // "kubernetes-cri", "cri-o", "docker" or "containerd"
  std::string k8s_namespace;
  std::string pod;
  std::string pod_uid;
  std::string container;
  std::string container_type;  // CRI "sandbox" or "container"
  std::string sandbox_id;
  std::string image;
  std::string cgroup;
  int64_t created_ns = 0;  // Unix ns when the hook ran
  Annotations annotations;
};

/// The Kubernetes fields a container's annotations give (CRI: io.kubernetes.cri.*; CRI-O:
/// io.kubernetes.pod.*, io.kubernetes.container.name, io.kubernetes.cri-o.*), with runtime
/// "kubernetes-cri" or "cri-o"; runtime stays empty when they name neither.
ContainerMeta ContainerMetaFromAnnotations(const Annotations& a);

/// Fills the Kubernetes/Docker fields from the state's annotations and bundle (CRI:
/// io.kubernetes.cri.*; CRI-O: io.kubernetes.pod.*, io.kubernetes.container.name,
/// io.kubernetes.cri-o.ImageName; Docker: a bundle under a "moby" namespace).
ContainerMeta ContainerMetaFromState(const HookState& state);

/// The cgroup of `pid`: libsystemd's sd_pid_get_cgroup, else the unified ("0::") or memory
/// line of /proc/PID/cgroup; "" if neither can be read.
std::string CgroupOfPid(pid_t pid);

std::string ContainerMetaToJson(const ContainerMeta& m);
Result<ContainerMeta> ParseContainerMeta(std::string_view json);

/// Writes <run_dir>/containers/<id>.json atomically (directories created, 0700).
Status SaveContainerMeta(const std::string& run_dir, const ContainerMeta& m);
/// Reads the metadata of container `id`; an error naming the file when absent.
Result<ContainerMeta> LoadContainerMeta(const std::string& run_dir, const std::string& id);
/// Removes the metadata file and the container's sessions directory; absent is fine.
Status RemoveContainerMeta(const std::string& run_dir, const std::string& id);

/// Lists a recorder (`pid`, normally getpid()) as recording `session_id` in `container_id`.
Status RegisterSession(const std::string& run_dir, const std::string& container_id,
                       const std::string& session_id, pid_t pid);
/// Removes that entry; absent is fine.
void UnregisterSession(const std::string& run_dir, const std::string& container_id,
                       const std::string& session_id);
/// Sends `sig` to every listed recorder of the container that is still the process that
/// registered; returns how many were signalled. Stale entries are removed.
Result<int> SealContainerSessions(const std::string& run_dir, const std::string& container_id,
                                  int sig);

/// Copies what the hook learnt into a session's metadata, keeping the fields already set
/// (runtime, namespace, pod, pod_uid, container, image; container_id and bundle if empty).
void ApplyContainerMeta(const ContainerMeta& c, SessionMeta& m);

/// A recorder's entry in the container's session list for as long as it lives (RAII):
/// RegisterSession at construction, UnregisterSession at destruction. `ok()` false (and the
/// error in `status()`) when it could not be written; sealing at poststop then misses it.
class SessionRegistration {
 public:
  SessionRegistration(std::string run_dir, std::string container_id, std::string session_id,
                      pid_t pid);
  ~SessionRegistration();
  SessionRegistration(const SessionRegistration&) = delete;
  SessionRegistration& operator=(const SessionRegistration&) = delete;
  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }

 private:
  std::string run_dir_, container_id_, session_id_;
  Status status_;
};

/// Field 22 of /proc/PID/stat (start time in clock ticks since boot), or -1.
int64_t ProcessStartTime(pid_t pid);

}  // namespace ttyaudit
