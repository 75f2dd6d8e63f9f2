#include "sandbox/cgroup.h"

#include <dirent.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <tuple>

namespace ttyaudit {
namespace {

constexpr const char* kParent = "ttyaudit";
constexpr const char* kSlice = "ttyaudit.slice";
constexpr int kScopeWaitMs = 2000;
constexpr const char* kSystemdPrivate = "/run/systemd/private";

bool Exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

std::string ReadSmall(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool HasWord(const std::string& text, const std::string& word) {
  std::istringstream in(text);
  for (std::string w; in >> w;)
    if (w == word) return true;
  return false;
}

Status WriteFile(const std::string& path, const std::string& text) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return SysError("open", path, errno);
  ssize_t n = ::write(fd, text.data(), text.size());
  int err = errno;
  ::close(fd);
  if (n != static_cast<ssize_t>(text.size())) return SysError("write", path, n < 0 ? err : EIO);
  return {};
}

Status MakeDir(const std::string& path) {
  if (::mkdir(path.c_str(), 0755) < 0 && errno != EEXIST) return SysError("mkdir", path, errno);
  return {};
}

// Removes the empty cgroups of recorders that have ended (rmdir refuses a populated one).
void SweepEmpty(const std::string& parent) {
  DIR* d = ::opendir(parent.c_str());
  if (!d) return;
  while (dirent* e = ::readdir(d)) {
    if (e->d_type != DT_DIR || e->d_name[0] == '.') continue;
    ::rmdir((parent + "/" + e->d_name).c_str());
  }
  ::closedir(d);
}

bool ValidName(const std::string& name) {
  if (name.empty() || name.size() > 128) return false;
  for (char c : name)
    if (!(isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_')) return false;
  return true;
}

// One controller's directory for the process and the limit to write there.
struct Prepared {
  std::string dir;
  std::vector<std::pair<std::string, std::string>> limits;  // file, value
};

Result<CgroupPlacement> Place(const std::vector<Prepared>& dirs) {
  CgroupPlacement p;
  p.how = "cgroupfs";
  for (const Prepared& d : dirs) {
    if (Status st = MakeDir(d.dir); !st) return Error{st.message()};
    for (const auto& [file, value] : d.limits)
      if (Status st = WriteFile(d.dir + "/" + file, value); !st) return Error{st.message()};
    p.dirs.push_back(d.dir);
  }
  // Moved only once every directory holds its limits: never in a cgroup without them.
  const std::string self = std::to_string(::getpid());
  for (const Prepared& d : dirs)
    if (Status st = WriteFile(d.dir + "/cgroup.procs", self); !st) return Error{st.message()};
  return p;
}

// --- systemd, through libsystemd's sd-bus, opened with dlopen -------------------------------

struct SdBusError {  // sd_bus_error's public layout
  const char* name = nullptr;
  const char* message = nullptr;
  int need_free = 0;
};
struct sd_bus;
struct sd_bus_message;

struct SdBus {
  void* lib = nullptr;
  int (*open_system)(sd_bus**);
  int (*bus_new)(sd_bus**);
  int (*set_address)(sd_bus*, const char*);
  int (*start)(sd_bus*);
  sd_bus* (*flush_close_unref)(sd_bus*);
  int (*new_method_call)(sd_bus*, sd_bus_message**, const char*, const char*, const char*,
                         const char*);
  int (*append)(sd_bus_message*, const char*, ...);
  int (*open_container)(sd_bus_message*, char, const char*);
  int (*close_container)(sd_bus_message*);
  int (*call)(sd_bus*, sd_bus_message*, uint64_t, SdBusError*, sd_bus_message**);
  sd_bus_message* (*message_unref)(sd_bus_message*);
  void (*error_free)(SdBusError*);

  ~SdBus() {
    if (lib) ::dlclose(lib);
  }
  template <class F>
  bool Load(F& f, const char* name) {
    f = reinterpret_cast<F>(::dlsym(lib, name));
    return f != nullptr;
  }
  Status Open() {
    lib = ::dlopen("libsystemd.so.0", RTLD_NOW | RTLD_LOCAL);
    if (!lib) return Error{std::string("dlopen libsystemd.so.0: ") + ::dlerror()};
    if (!Load(open_system, "sd_bus_open_system") || !Load(bus_new, "sd_bus_new") ||
        !Load(set_address, "sd_bus_set_address") || !Load(start, "sd_bus_start") ||
        !Load(flush_close_unref, "sd_bus_flush_close_unref") ||
        !Load(new_method_call, "sd_bus_message_new_method_call") ||
        !Load(append, "sd_bus_message_append") ||
        !Load(open_container, "sd_bus_message_open_container") ||
        !Load(close_container, "sd_bus_message_close_container") || !Load(call, "sd_bus_call") ||
        !Load(message_unref, "sd_bus_message_unref") || !Load(error_free, "sd_bus_error_free"))
      return Error{"libsystemd.so.0: a sd-bus function is missing"};
    return {};
  }
};

// As systemctl does: root talks to systemd directly on its private socket (no bus daemon
// needed), anyone else through the system bus. `address` (tests) is such a private socket.
Result<sd_bus*> ConnectBus(SdBus& sd, const std::string& address) {
  std::string direct = address;
  if (direct.empty() && ::geteuid() == 0 && Exists(kSystemdPrivate))
    direct = std::string("unix:path=") + kSystemdPrivate;
  sd_bus* bus = nullptr;
  int rc;
  if (direct.empty()) {
    rc = sd.open_system(&bus);
  } else {
    rc = sd.bus_new(&bus);
    if (rc >= 0) rc = sd.set_address(bus, direct.c_str());
    if (rc >= 0) rc = sd.start(bus);
  }
  if (rc < 0) {
    if (bus) sd.flush_close_unref(bus);
    return SysError("sd-bus connect", direct.empty() ? "the system bus" : direct, -rc);
  }
  return bus;
}

// StartTransientUnit(name, "fail", properties, no auxiliary units).
Status StartScope(SdBus& sd, sd_bus* bus, const std::string& unit, const CgroupLimits& limits) {
  sd_bus_message* m = nullptr;
  int rc = sd.new_method_call(bus, &m, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                              "org.freedesktop.systemd1.Manager", "StartTransientUnit");
  const uint32_t pid = static_cast<uint32_t>(::getpid());
  if (rc >= 0) rc = sd.append(m, "ss", unit.c_str(), "fail");
  if (rc >= 0) rc = sd.open_container(m, 'a', "(sv)");
  if (rc >= 0) rc = sd.append(m, "(sv)", "Description", "s", "ttyaudit recorder");
  if (rc >= 0) rc = sd.append(m, "(sv)", "Slice", "s", kSlice);
  if (rc >= 0) rc = sd.append(m, "(sv)", "PIDs", "au", 1, pid);
  if (rc >= 0) rc = sd.append(m, "(sv)", "MemoryMax", "t", uint64_t{limits.memory_max});
  if (rc >= 0) rc = sd.append(m, "(sv)", "TasksMax", "t", uint64_t{limits.pids_max});
  if (rc >= 0) rc = sd.append(m, "(sv)", "CollectMode", "s", "inactive-or-failed");
  if (rc >= 0) rc = sd.close_container(m);
  if (rc >= 0) rc = sd.append(m, "a(sa(sv))", 0);
  if (rc < 0) {
    if (m) sd.message_unref(m);
    return SysError("sd-bus build StartTransientUnit", unit, -rc);
  }
  SdBusError err;
  sd_bus_message* reply = nullptr;
  rc = sd.call(bus, m, 5'000'000, &err, &reply);
  sd.message_unref(m);
  if (reply) sd.message_unref(reply);
  if (rc < 0) {
    std::string why = err.message ? err.message : "";
    sd.error_free(&err);
    return Error{"systemd StartTransientUnit " + unit + ": " + (why.empty() ? "failed" : why)};
  }
  return {};
}

// The cgroup paths of this process, one per hierarchy line of /proc/self/cgroup whose
// controllers include `want` (v2's line has none).
std::vector<std::string> OwnCgroupDirs(const std::string& root) {
  std::vector<std::string> dirs;
  std::istringstream in(ReadSmall("/proc/self/cgroup"));
  for (std::string line; std::getline(in, line);) {
    size_t a = line.find(':'), b = line.find(':', a + 1);
    if (a == std::string::npos || b == std::string::npos) continue;
    std::string ctrls = line.substr(a + 1, b - a - 1), path = line.substr(b + 1);
    if (ctrls.empty()) {
      dirs.push_back((Exists(root + "/cgroup.controllers") ? root : root + "/unified") + path);
    } else if (ctrls == "memory" || ctrls == "pids") {
      dirs.push_back(root + "/" + ctrls + path);
    }
  }
  return dirs;
}

std::string DefaultRoot(const std::string& root) { return root.empty() ? "/sys/fs/cgroup" : root; }

}  // namespace

Result<CgroupPlacement> JoinSystemdScope(const std::string& name, const CgroupLimits& limits,
                                         const std::string& bus_address) {
  if (!ValidName(name)) return Error{"cgroup: bad name `" + name + "`"};
  SdBus sd;
  if (Status st = sd.Open(); !st) return Error{st.message()};
  auto bus = ConnectBus(sd, bus_address);
  if (!bus) return bus.error();
  const std::string unit = "ttyaudit-" + name + ".scope";
  Status st = StartScope(sd, bus.value(), unit, limits);
  sd.flush_close_unref(bus.value());
  if (!st) return Error{st.message()};
  // systemd moves the process when the scope's start job runs, just after its reply.
  for (int waited = 0; waited < kScopeWaitMs; waited += 10) {
    if (ReadSmall("/proc/self/cgroup").find("/" + unit) != std::string::npos) {
      CgroupPlacement p;
      p.how = "systemd";
      p.dirs = OwnCgroupDirs(DefaultRoot(""));
      return p;
    }
    timespec ts{0, 10'000'000};
    ::nanosleep(&ts, nullptr);
  }
  return Error{"systemd did not move the process into " + unit};
}

Result<CgroupPlacement> JoinCgroupfs(const std::string& name, const CgroupLimits& limits,
                                     const std::string& cgroup_root) {
  if (!ValidName(name)) return Error{"cgroup: bad name `" + name + "`"};
  const std::string root = DefaultRoot(cgroup_root);
  const std::string memory = std::to_string(limits.memory_max);
  const std::string pids = std::to_string(limits.pids_max);
  // cgroup v2, where its tree has both controllers (at the root, or a hybrid's unified).
  for (const std::string& v2 : {root, root + "/unified"}) {
    std::string ctrls = ReadSmall(v2 + "/cgroup.controllers");
    if (!HasWord(ctrls, "memory") || !HasWord(ctrls, "pids")) continue;
    const std::string parent = v2 + "/" + kParent;
    if (Status st = MakeDir(parent); !st) return Error{st.message()};
    // The parent holds no process, so that its children may use the controllers (v2's "no
    // internal processes" rule); the root passes them down too.
    for (const std::string& d : {v2, parent})
      for (const char* c : {"+memory", "+pids"})
        if (Status st = WriteFile(d + "/cgroup.subtree_control", c); !st)
          return Error{st.message()};
    SweepEmpty(parent);
    return Place({{parent + "/" + name, {{"memory.max", memory}, {"pids.max", pids}}}});
  }
  // cgroup v1: the memory and pids hierarchies.
  std::vector<Prepared> dirs;
  for (const auto& [ctrl, file, value] : {std::tuple<std::string, std::string, std::string>{
                                              "memory", "memory.limit_in_bytes", memory},
                                          {"pids", "pids.max", pids}}) {
    const std::string hier = root + "/" + ctrl;
    if (!Exists(hier + "/cgroup.procs"))
      return Error{"cgroup: no cgroup v2 tree with memory and pids, and no v1 " + ctrl +
                   " hierarchy at " + hier};
    const std::string parent = hier + "/" + kParent;
    if (Status st = MakeDir(parent); !st) return Error{st.message()};
    SweepEmpty(parent);
    dirs.push_back({parent + "/" + name, {{file, value}}});
  }
  return Place(dirs);
}

Result<CgroupPlacement> JoinOwnCgroup(const std::string& name, const CgroupLimits& limits,
                                      const std::string& cgroup_root) {
  if (cgroup_root.empty() && Exists("/run/systemd/system")) return JoinSystemdScope(name, limits);
  return JoinCgroupfs(name, limits, cgroup_root);
}

}  // namespace ttyaudit
