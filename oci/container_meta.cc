#include "oci/container_meta.h"

#include <dirent.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <signal.h>
#include <simdjson.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "base/files.h"
#include "base/ids.h"
#include "base/json.h"
#include "base/json_read.h"
#include "config/trust.h"

namespace ttyaudit {
namespace {

namespace od = simdjson::ondemand;

std::string ContainerPath(const std::string& run_dir, const std::string& id) {
  return run_dir + "/containers/" + SanitizeKeyComponent(id, 255) + ".json";
}

std::string SessionsDir(const std::string& run_dir, const std::string& id) {
  return run_dir + "/sessions/" + SanitizeKeyComponent(id, 255);
}

}  // namespace

ContainerMeta ContainerMetaFromAnnotations(const Annotations& a) {
  ContainerMeta m;
  auto get = [&](std::string_view k) { return AnnotationValue(a, k); };
  if (!get("io.kubernetes.cri.container-type").empty() ||
      !get("io.kubernetes.cri.sandbox-name").empty() ||
      !get("io.kubernetes.cri.sandbox-namespace").empty()) {
    m.runtime = "kubernetes-cri";
    m.k8s_namespace = get("io.kubernetes.cri.sandbox-namespace");
    m.pod = get("io.kubernetes.cri.sandbox-name");
    m.pod_uid = get("io.kubernetes.cri.sandbox-uid");
    m.container = get("io.kubernetes.cri.container-name");
    m.container_type = get("io.kubernetes.cri.container-type");
    m.sandbox_id = get("io.kubernetes.cri.sandbox-id");
    m.image = get("io.kubernetes.cri.image-name");
  } else if (!get("io.kubernetes.pod.name").empty() ||
             !get("io.kubernetes.pod.namespace").empty() ||
             !get("io.kubernetes.cri-o.ContainerType").empty()) {
    m.runtime = "cri-o";
    m.k8s_namespace = get("io.kubernetes.pod.namespace");
    m.pod = get("io.kubernetes.pod.name");
    m.pod_uid = get("io.kubernetes.pod.uid");
    m.container = get("io.kubernetes.container.name");
    m.container_type = get("io.kubernetes.cri-o.ContainerType");
    m.sandbox_id = get("io.kubernetes.cri-o.SandboxID");
    m.image = get("io.kubernetes.cri-o.ImageName");
  }
  return m;
}

ContainerMeta ContainerMetaFromState(const HookState& st) {
  ContainerMeta m = ContainerMetaFromAnnotations(st.annotations);
  m.id = st.id;
  m.pid = st.pid;
  m.bundle = st.bundle;
  m.annotations = st.annotations;
  if (m.runtime.empty())
    m.runtime = st.bundle.find("/moby/") != std::string::npos ? "docker" : "containerd";
  if (m.pid > 0) m.cgroup = CgroupOfPid(static_cast<pid_t>(m.pid));
  m.created_ns = RealtimeNanos();
  return m;
}

// libsystemd is opened here, not linked: ttyaudit-runtime links this file (recorders read and
// register container metadata) and runs on every runc call, where loading libsystemd and its
// six dependencies cost more than the rest of a pass-through call (see base/log.cc).
std::string CgroupOfPid(pid_t pid) {
  using GetCgroup = int (*)(pid_t, char**);
  static GetCgroup sd_pid_get_cgroup = [] {
    void* lib = dlopen("libsystemd.so.0", RTLD_LAZY | RTLD_LOCAL);
    return lib ? reinterpret_cast<GetCgroup>(dlsym(lib, "sd_pid_get_cgroup")) : nullptr;
  }();
  char* cg = nullptr;
  if (sd_pid_get_cgroup && sd_pid_get_cgroup(pid, &cg) >= 0 && cg != nullptr) {
    std::string out(cg);
    free(cg);
    if (!out.empty() && out != "/") return out;
  }
  // /proc/PID/cgroup lines are "ID:CONTROLLERS:PATH".
  std::string text = ReadSmallFileOrEmpty("/proc/" + std::to_string(pid) + "/cgroup", 16384);
  std::string unified, memory, first;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string::npos) nl = text.size();
    std::string line = text.substr(start, nl - start);
    start = nl + 1;
    size_t c1 = line.find(':');
    size_t c2 = c1 == std::string::npos ? c1 : line.find(':', c1 + 1);
    if (c2 == std::string::npos) continue;
    std::string controllers = line.substr(c1 + 1, c2 - c1 - 1);
    std::string path = line.substr(c2 + 1);
    if (first.empty()) first = path;
    if (line.compare(0, 3, "0::") == 0) unified = path;
    if (controllers.find("memory") != std::string::npos) memory = path;
  }
  if (!memory.empty()) return memory;
  if (!unified.empty()) return unified;
  return first;
}

std::string ContainerMetaToJson(const ContainerMeta& m) {
  JsonWriter w;
  w.BeginObject();
  w.Key("id").String(m.id);
  w.Key("pid").Int(m.pid);
  w.Key("bundle").String(m.bundle);
  w.Key("runtime").String(m.runtime);
  w.Key("namespace").String(m.k8s_namespace);
  w.Key("pod").String(m.pod);
  w.Key("pod_uid").String(m.pod_uid);
  w.Key("container").String(m.container);
  w.Key("container_type").String(m.container_type);
  w.Key("sandbox_id").String(m.sandbox_id);
  w.Key("image").String(m.image);
  w.Key("cgroup").String(m.cgroup);
  w.Key("created_ns").Int(m.created_ns);
  w.Key("annotations").BeginObject();
  for (const auto& [k, v] : m.annotations) w.Key(k).String(v);
  w.EndObject();
  w.EndObject();
  return w.Take();
}

Result<ContainerMeta> ParseContainerMeta(std::string_view json) {
  JsonObjectText text;
  if (auto st = text.Open(json, "container metadata"); !st) return Error{st.message()};
  ContainerMeta m;
  auto st = DecodeJsonObject(text.object(), JsonPlace("container metadata"),
                             {
                                 {"id", JsonString(m.id)},
                                 {"pid", JsonInteger(m.pid)},
                                 {"bundle", JsonString(m.bundle)},
                                 {"runtime", JsonString(m.runtime)},
                                 {"namespace", JsonString(m.k8s_namespace)},
                                 {"pod", JsonString(m.pod)},
                                 {"pod_uid", JsonString(m.pod_uid)},
                                 {"container", JsonString(m.container)},
                                 {"container_type", JsonString(m.container_type)},
                                 {"sandbox_id", JsonString(m.sandbox_id)},
                                 {"image", JsonString(m.image)},
                                 {"cgroup", JsonString(m.cgroup)},
                                 {"created_ns", JsonInteger(m.created_ns)},
                                 {"annotations", JsonStringMap(m.annotations)},
                             },
                             JsonUnknownKeys::kSkip);
  if (!st) return Error{st.message()};
  return m;
}

Status SaveContainerMeta(const std::string& run_dir, const ContainerMeta& m) {
  if (auto s = EnsurePrivateDir(run_dir, "run dir"); !s) return s;
  if (auto s = MakeDirs(run_dir + "/containers", 0700); !s) return s;
  // The run dir is tmpfs: a crash loses the containers too.
  return ReplaceFile(ContainerPath(run_dir, m.id), ContainerMetaToJson(m), Durability::kNone);
}

Result<ContainerMeta> LoadContainerMeta(const std::string& run_dir, const std::string& id) {
  const std::string path = ContainerPath(run_dir, id);
  auto text = ReadFile(path, 1 << 20);
  if (!text) return text.error();
  auto m = ParseContainerMeta(*text);
  if (!m) return Error{path + ": " + m.message()};
  return m;
}

Status RemoveContainerMeta(const std::string& run_dir, const std::string& id) {
  const std::string path = ContainerPath(run_dir, id);
  if (unlink(path.c_str()) != 0 && errno != ENOENT) return SysError("unlink", path, errno);
  const std::string dir = SessionsDir(run_dir, id);
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d)) {
      // Also a temporary that a crash left (".<name>.tmp-..."); "." and ".." fail harmlessly.
      unlinkat(dirfd(d), e->d_name, 0);
    }
    closedir(d);
  }
  if (rmdir(dir.c_str()) != 0 && errno != ENOENT) return SysError("rmdir", dir, errno);
  return {};
}

int64_t ProcessStartTime(pid_t pid) {
  std::string stat = ReadSmallFileOrEmpty("/proc/" + std::to_string(pid) + "/stat", 1024);
  size_t rp = stat.rfind(')');  // comm may hold spaces and parentheses
  if (rp == std::string::npos) return -1;
  // After ") " come fields 3 (state) onwards; the start time is field 22.
  const char* p = stat.c_str() + rp + 1;
  for (int field = 3; field <= 22; ++field) {
    while (*p == ' ') ++p;
    if (*p == '\0') return -1;
    if (field == 22) return strtoll(p, nullptr, 10);
    while (*p && *p != ' ') ++p;
  }
  return -1;
}

Status RegisterSession(const std::string& run_dir, const std::string& container_id,
                       const std::string& session_id, pid_t pid) {
  const std::string dir = SessionsDir(run_dir, container_id);
  if (auto s = EnsurePrivateDir(run_dir, "run dir"); !s) return s;
  if (auto s = MakeDirs(dir, 0700); !s) return s;
  const std::string text = std::to_string(pid) + " " + std::to_string(ProcessStartTime(pid)) + "\n";
  return ReplaceFile(dir + "/" + SanitizeKeyComponent(session_id) + ".pid", text,
                     Durability::kNone);
}

void UnregisterSession(const std::string& run_dir, const std::string& container_id,
                       const std::string& session_id) {
  const std::string path =
      SessionsDir(run_dir, container_id) + "/" + SanitizeKeyComponent(session_id) + ".pid";
  unlink(path.c_str());
}

Result<int> SealContainerSessions(const std::string& run_dir, const std::string& container_id,
                                  int sig) {
  const std::string dir = SessionsDir(run_dir, container_id);
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) {
    if (errno == ENOENT) return 0;
    return SysError("opendir", dir, errno);
  }
  int signalled = 0;
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name.size() < 5 || name.compare(name.size() - 4, 4, ".pid") != 0) continue;
    std::string text = ReadSmallFileOrEmpty(dir + "/" + name, 128);
    char* end = nullptr;
    long pid = strtol(text.c_str(), &end, 10);
    long long start = end ? strtoll(end, nullptr, 10) : -1;
    if (pid > 0 && start >= 0 && ProcessStartTime(static_cast<pid_t>(pid)) == start &&
        kill(static_cast<pid_t>(pid), sig) == 0) {
      ++signalled;
    } else {
      unlinkat(dirfd(d), e->d_name, 0);  // the recorder is gone
    }
  }
  closedir(d);
  return signalled;
}

void ApplyContainerMeta(const ContainerMeta& c, SessionMeta& m) {
  auto fill = [](std::string& field, const std::string& v) {
    if (field.empty()) field = v;
  };
  fill(m.runtime, c.runtime);
  fill(m.k8s_namespace, c.k8s_namespace);
  fill(m.pod, c.pod);
  fill(m.pod_uid, c.pod_uid);
  fill(m.container, c.container);
  fill(m.image, c.image);
  fill(m.container_id, c.id);
  fill(m.bundle, c.bundle);
}

SessionRegistration::SessionRegistration(std::string run_dir, std::string container_id,
                                         std::string session_id, pid_t pid)
    : run_dir_(std::move(run_dir)),
      container_id_(std::move(container_id)),
      session_id_(std::move(session_id)) {
  status_ = RegisterSession(run_dir_, container_id_, session_id_, pid);
}

SessionRegistration::~SessionRegistration() {
  if (status_.ok()) UnregisterSession(run_dir_, container_id_, session_id_);
}

}  // namespace ttyaudit
