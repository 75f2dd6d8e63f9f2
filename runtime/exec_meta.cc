#include "runtime/exec_meta.h"

#include <fcntl.h>
#include <simdjson.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "base/files.h"
#include "base/host_info.h"
#include "base/ids.h"
#include "base/json_read.h"
#include "base/unique_fd.h"
#include "oci/container_meta.h"
#include "runtime/subprocess.h"

namespace ttyaudit {
namespace {

namespace od = simdjson::ondemand;

std::string DirName(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

std::string BaseName(const std::string& path) {
  std::string p = path;
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  size_t slash = p.rfind('/');
  return slash == std::string::npos ? p : p.substr(slash + 1);
}

bool IsFile(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// The user name of `uid` in the container's /etc/passwd, or empty.
std::string ContainerUserName(const std::string& rootfs, int64_t uid) {
  if (rootfs.empty() || uid < 0) return "";
  std::ifstream in(rootfs + "/etc/passwd");
  std::string line;
  while (std::getline(in, line)) {
    size_t a = line.find(':');
    size_t b = a == std::string::npos ? a : line.find(':', a + 1);
    size_t c = b == std::string::npos ? b : line.find(':', b + 1);
    if (c == std::string::npos) continue;
    if (line.substr(b + 1, c - b - 1) == std::to_string(uid)) return line.substr(0, a);
  }
  return "";
}

// A side of consoleSize as a pty takes it (16 bits); anything else counts as absent (0), so
// that no reader of the session sizes a screen by it.
int ConsoleSide(int64_t n) { return n > 0 && n <= 0xffff ? static_cast<int>(n) : 0; }

}  // namespace

SessionMeta MetaFromBundle(const RuncArgs& args, const ProcessSpec& proc, const std::string& runc,
                           const std::string& node_name);

Result<ProcessSpec> ParseProcessSpec(std::string_view json) {
  JsonObjectText text;
  if (auto st = text.Open(json, "process spec"); !st) return Error{st.message()};
  ProcessSpec p;
  auto st = DecodeJsonObject(
      text.object(), JsonPlace("process spec"),
      {
          {"terminal", JsonBool(p.terminal)},
          {"args", JsonStringArray(p.args)},
          {"env", JsonStringArray(p.env)},
          {"cwd", JsonString(p.cwd)},
          {"user", JsonObjectOf({{"uid", JsonInteger(p.uid)}, {"gid", JsonInteger(p.gid)}})},
          {"consoleSize",
           JsonObjectOf({{"width", JsonInteger(p.width)}, {"height", JsonInteger(p.height)}})},
      },
      JsonUnknownKeys::kSkip);
  if (!st) return Error{st.message()};
  p.width = ConsoleSide(p.width);
  p.height = ConsoleSide(p.height);
  return p;
}

Result<ProcessSpec> ReadProcessSpec(const std::string& path) {
  auto text = ReadSmallFile(path);
  if (!text) return text.error();
  auto p = ParseProcessSpec(text.value());
  if (!p) return Error{path + ": " + p.message()};
  return p;
}

std::string FindBundle(const std::string& runc, const RuncArgs& args) {
  const std::string& pid_file = args.exec.pid_file;
  if (!pid_file.empty()) {
    std::string dir = DirName(pid_file);
    if (IsFile(dir + "/config.json")) return dir;
  }
  std::vector<std::string> argv = {runc, "--root", args.RootOrDefault(), "state",
                                   args.exec.container_id};
  auto c = RunCapture(runc, argv);
  if (!c || c->exit_code != 0) return "";
  simdjson::padded_string padded(c->out);
  od::parser parser;
  od::document doc;
  std::string_view bundle;
  if (parser.iterate(padded).get(doc) || doc["bundle"].get_string().get(bundle)) return "";
  return std::string(bundle);
}

void ApplyAnnotations(const Annotations& a, const std::string& runtime_root, SessionMeta& m) {
  ContainerMeta k8s = ContainerMetaFromAnnotations(a);
  if (!k8s.runtime.empty()) {
    m.runtime = k8s.runtime;
    m.k8s_namespace = k8s.k8s_namespace;
    m.pod = k8s.pod;
    m.pod_uid = k8s.pod_uid;
    m.container = k8s.container;
    m.image = k8s.image;
    return;
  }
  // containerd's shim runs runc with --root <runc root>/<containerd namespace>; dockerd's
  // containerd namespace is "moby".
  m.runtime = BaseName(runtime_root) == "moby" ? "docker" : "containerd";
}

Result<DockerConfig> ParseDockerConfig(std::string_view json) {
  JsonObjectText text;
  if (auto st = text.Open(json, "docker config"); !st) return Error{st.message()};
  DockerConfig c;
  auto st = DecodeJsonObject(text.object(), JsonPlace("docker config"),
                             {
                                 {"Name", JsonString(c.name)},
                                 {"Config", JsonObjectOf({{"Image", JsonString(c.image)}})},
                             },
                             JsonUnknownKeys::kSkip);
  if (!st) return Error{st.message()};
  if (c.name.starts_with("/")) c.name.erase(0, 1);
  return c;
}

void ApplyDockerConfig(const std::string& hostname_mount, SessionMeta& m) {
  if (hostname_mount.empty()) return;
  auto text = ReadSmallFile(DirName(hostname_mount) + "/config.v2.json");
  if (!text) return;
  auto config = ParseDockerConfig(text.value());
  if (!config) return;  // a config.v2.json that is not Docker's: keep what the bundle said
  if (!config->name.empty()) m.container = config->name;
  if (!config->image.empty()) m.image = config->image;
}

SessionMeta BuildExecMeta(const RuncArgs& args, const ProcessSpec& proc, const std::string& runc,
                          const std::string& node_name, const std::string& run_dir) {
  SessionMeta m = MetaFromBundle(args, proc, runc, node_name);
  if (!run_dir.empty()) {
    if (auto c = LoadContainerMeta(run_dir, args.exec.container_id); c.ok())
      ApplyContainerMeta(c.value(), m);
  }
  return m;
}

SessionMeta MetaFromBundle(const RuncArgs& args, const ProcessSpec& proc, const std::string& runc,
                           const std::string& node_name) {
  SessionMeta m;
  m.id = NewUuidV7();
  m.source = "runtime";
  m.start_ns = RealtimeNanos();
  if (!node_name.empty()) {
    m.node = node_name;
  } else {
    char host[256] = {};
    if (::gethostname(host, sizeof host - 1) == 0) m.node = host;
  }
  m.machine_id = MachineId();
  m.argv = proc.args.empty() ? args.exec.command : proc.args;
  m.env = RedactEnv(proc.env.empty() ? args.exec.env : proc.env);
  m.cwd = proc.cwd.empty() ? args.exec.cwd : proc.cwd;
  m.uid = proc.uid;
  m.gid = proc.gid;
  m.terminal = args.IsTerminalExec();
  if (proc.width > 0 && proc.height > 0) {
    m.width = proc.width;
    m.height = proc.height;
  }
  m.container_id = args.exec.container_id;
  m.runtime_root = args.RootOrDefault();
  m.bundle = FindBundle(runc, args);
  m.runtime = BaseName(m.runtime_root) == "moby" ? "docker" : "containerd";
  if (m.bundle.empty()) return m;
  auto info = ReadBundleConfig(m.bundle);
  if (!info) return m;
  ApplyAnnotations(info->annotations, m.runtime_root, m);
  if (m.runtime == "docker") ApplyDockerConfig(info->hostname_mount, m);
  std::string rootfs = info->root_path;
  if (!rootfs.empty() && rootfs[0] != '/') rootfs = m.bundle + "/" + rootfs;
  m.user = ContainerUserName(rootfs, m.uid);
  if (m.user.empty() && m.uid >= 0) m.user = std::to_string(m.uid);
  return m;
}

}  // namespace ttyaudit
