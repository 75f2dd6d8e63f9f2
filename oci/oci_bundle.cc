#include "oci/oci_bundle.h"

#include <fcntl.h>
#include <simdjson.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "base/files.h"
#include "base/json.h"
#include "base/json_read.h"

namespace ttyaudit {
namespace {

namespace dom = simdjson::dom;
namespace od = simdjson::ondemand;

constexpr const char* kOurStages[] = {"createRuntime", "poststop"};

Result<std::string> ReadFile(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return SysError("open", path, errno);
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      close(fd);
      return SysError("read", path, err);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return out;
}

// Writes our hook entry for one stage.
void WriteOurHook(JsonWriter& w, const std::string& hook_binary, const char* stage,
                  const HookOptions& opts) {
  w.BeginObject();
  w.Key("path").String(hook_binary);
  w.Key("args").StringArray({hook_binary, stage});
  if (!opts.env.empty()) w.Key("env").StringArray(opts.env);
  if (opts.timeout_s > 0) w.Key("timeout").Int(opts.timeout_s);
  w.EndObject();
}

bool IsOurHook(dom::element hook, const std::string& hook_binary) {
  std::string_view path;
  return !hook["path"].get_string().get(path) && path == hook_binary;
}

// Writes one stage's array: the existing entries but ours, then ours.
Status WriteStage(JsonWriter& w, const dom::element* existing, const std::string& hook_binary,
                  const char* stage, const HookOptions& opts) {
  w.BeginArray();
  if (existing != nullptr && !existing->is_null()) {
    dom::array arr;
    if (existing->get_array().get(arr))
      return Error{std::string("config.json: hooks.") + stage + ": want an array"};
    for (dom::element h : arr) {
      if (!IsOurHook(h, hook_binary)) w.Raw(simdjson::to_string(h));
    }
  }
  WriteOurHook(w, hook_binary, stage, opts);
  w.EndArray();
  return {};
}

Status WriteHooks(JsonWriter& w, const dom::element* hooks, const std::string& hook_binary,
                  const HookOptions& opts) {
  dom::object obj;
  bool have = hooks != nullptr && !hooks->is_null();
  if (have && hooks->get_object().get(obj)) return Error{"config.json: hooks: want an object"};
  bool done[2] = {false, false};
  w.BeginObject();
  if (have) {
    for (dom::key_value_pair kv : obj) {
      int ours = -1;
      for (int i = 0; i < 2; ++i)
        if (kv.key == kOurStages[i]) ours = i;
      w.Key(kv.key);
      if (ours < 0) {
        w.Raw(simdjson::to_string(kv.value));
        continue;
      }
      if (done[ours]) {  // a repeated key is copied as it was
        w.Raw(simdjson::to_string(kv.value));
        continue;
      }
      if (auto s = WriteStage(w, &kv.value, hook_binary, kOurStages[ours], opts); !s) return s;
      done[ours] = true;
    }
  }
  for (int i = 0; i < 2; ++i) {
    if (done[i]) continue;
    w.Key(kOurStages[i]);
    if (auto s = WriteStage(w, nullptr, hook_binary, kOurStages[i], opts); !s) return s;
  }
  w.EndObject();
  return {};
}

}  // namespace

Result<std::string> AddHooksToConfig(std::string_view config_json, const std::string& hook_binary,
                                     const HookOptions& opts) {
  dom::parser parser;
  dom::element root;
  simdjson::padded_string padded(config_json);
  if (auto err = parser.parse(padded).get(root))
    return Error{std::string("config.json: ") + simdjson::error_message(err)};
  dom::object obj;
  if (root.get_object().get(obj)) return Error{"config.json: want an object"};
  JsonWriter w;
  w.BeginObject();
  bool wrote_hooks = false;
  for (dom::key_value_pair kv : obj) {
    w.Key(kv.key);
    if (kv.key == "hooks" && !wrote_hooks) {
      if (auto s = WriteHooks(w, &kv.value, hook_binary, opts); !s) return Error{s.message()};
      wrote_hooks = true;
    } else {
      w.Raw(simdjson::to_string(kv.value));
    }
  }
  if (!wrote_hooks) {
    w.Key("hooks");
    if (auto s = WriteHooks(w, nullptr, hook_binary, opts); !s) return Error{s.message()};
  }
  w.EndObject();
  return w.Take();
}

Status AddHooks(const std::string& bundle_dir, const std::string& hook_binary,
                const HookOptions& opts) {
  const std::string path = bundle_dir + "/config.json";
  auto text = ReadFile(path);
  if (!text) return text.error();
  auto out = AddHooksToConfig(*text, hook_binary, opts);
  if (!out) return Error{path + ": " + out.message()};
  if (*out == *text) return {};  // already there: leave the file alone
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return SysError("stat", path, errno);
  const std::string tmp = path + ".ttyaudit.tmp";
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, st.st_mode & 07777);
  if (fd < 0) return SysError("open", tmp, errno);
  const char* p = out->data();
  size_t left = out->size();
  int err = 0;
  while (left > 0) {
    ssize_t n = write(fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      err = errno;
      break;
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  if (err == 0 && fchmod(fd, st.st_mode & 07777) != 0) err = errno;
  if (err == 0 && fsync(fd) != 0) err = errno;
  close(fd);
  if (err == 0 && rename(tmp.c_str(), path.c_str()) != 0) err = errno;
  if (err != 0) {
    unlink(tmp.c_str());
    return SysError("write", path, err);
  }
  return {};
}

Result<BundleInfo> ParseBundleConfig(std::string_view json) {
  JsonObjectText text;
  if (auto st = text.Open(json, "bundle config"); !st) return Error{st.message()};
  od::object& obj = text.object();
  BundleInfo b;
  for (auto field : obj) {
    std::string_view k;
    od::value v;
    if (field.unescaped_key().get(k) || field.value().get(v))
      return Error{"bundle config: malformed field"};
    if (k == "annotations") {
      if (auto st = ReadJsonStringMap(v, "bundle config: annotations", b.annotations); !st)
        return Error{st.message()};
    } else if (k == "mounts") {
      od::array arr;
      if (v.get_array().get(arr)) continue;
      for (auto m : arr) {
        od::object mo;
        if (m.get_object().get(mo)) continue;
        std::string dest, source;
        for (auto f : mo) {
          std::string_view fk, s;
          if (f.unescaped_key().get(fk) || f.value().get_string().get(s)) continue;
          if (fk == "destination")
            dest = std::string(s);
          else if (fk == "source")
            source = std::string(s);
        }
        if (dest == "/etc/hostname") b.hostname_mount = source;
      }
    } else if (k == "root") {
      od::object ro;
      if (v.get_object().get(ro)) continue;
      for (auto f : ro) {
        std::string_view fk, s;
        if (f.unescaped_key().get(fk) || f.value().get_string().get(s)) continue;
        if (fk == "path") b.root_path = std::string(s);
      }
    }
  }
  return b;
}

Result<BundleInfo> ReadBundleConfig(const std::string& bundle_dir) {
  const std::string path = bundle_dir + "/config.json";
  auto text = ReadSmallFile(path);
  if (!text) return text.error();
  auto info = ParseBundleConfig(text.value());
  if (!info) return Error{path + ": " + info.message()};
  return info;
}

Result<HookState> ParseHookState(std::string_view json) {
  JsonObjectText text;
  if (auto st = text.Open(json, "hook state"); !st) return Error{st.message()};
  od::object& obj = text.object();
  HookState st;
  auto str = ReadJsonString;
  for (auto field : obj) {
    std::string_view k;
    od::value v;
    if (field.unescaped_key().get(k) || field.value().get(v))
      return Error{"hook state: malformed member"};
    bool ok = true;
    if (k == "ociVersion")
      ok = str(v, st.oci_version);
    else if (k == "id")
      ok = str(v, st.id);
    else if (k == "status")
      ok = str(v, st.status);
    else if (k == "bundle")
      ok = str(v, st.bundle);
    else if (k == "pid")
      ok = !v.get_int64().get(st.pid);
    else if (k == "annotations") {
      if (auto st2 = ReadJsonStringMap(v, "hook state: annotations", st.annotations); !st2)
        return Error{st2.message()};
    }
    if (!ok) return Error{"hook state: " + std::string(k) + ": wrong type"};
  }
  if (st.id.empty()) return Error{"hook state: no container id"};
  return st;
}

std::string AnnotationValue(const Annotations& a, std::string_view key) {
  for (const auto& [k, v] : a)
    if (k == key) return v;
  return "";
}

}  // namespace ttyaudit
