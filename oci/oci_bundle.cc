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

constexpr const char* kOurStages[] = {"createRuntime", "poststop"};

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
  // The bundle is on disk that outlives a crash; its mode is kept exactly, past the umask.
  const mode_t mode = st.st_mode & 07777;
  return ReplaceFileWith(path, Durability::kFile, mode, [&](int fd, const std::string& tmp) {
    if (fchmod(fd, mode) != 0) return Status(SysError("chmod", tmp, errno));
    return WriteAll(fd, *out, tmp);
  });
}

Result<BundleInfo> ParseBundleConfig(std::string_view json) {
  JsonObjectText text;
  if (auto st = text.Open(json, "bundle config"); !st) return Error{st.message()};
  BundleInfo b;
  std::string dest, source;  // of the mount being read
  auto mount_fields = [&] {
    dest.clear();
    source.clear();
    return std::vector<JsonField>{{"destination", JsonString(dest)},
                                  {"source", JsonString(source)}};
  };
  auto mount_done = [&] {
    if (dest == "/etc/hostname") b.hostname_mount = source;
  };
  auto st = DecodeJsonObject(text.object(), JsonPlace("bundle config"),
                             {
                                 {"annotations", JsonStringMap(b.annotations)},
                                 {"mounts", JsonArrayOfObjects(mount_fields, mount_done)},
                                 {"root", JsonObjectOf({{"path", JsonString(b.root_path)}})},
                             },
                             JsonUnknownKeys::kSkip);
  if (!st) return Error{st.message()};
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
  HookState st;
  auto decoded = DecodeJsonObject(text.object(), JsonPlace("hook state"),
                                  {
                                      {"ociVersion", JsonString(st.oci_version)},
                                      {"id", JsonString(st.id)},
                                      {"status", JsonString(st.status)},
                                      {"bundle", JsonString(st.bundle)},
                                      {"pid", JsonInteger(st.pid)},
                                      {"annotations", JsonStringMap(st.annotations)},
                                  },
                                  JsonUnknownKeys::kSkip);
  if (!decoded) return Error{decoded.message()};
  if (st.id.empty()) return Error{"hook state: no container id"};
  return st;
}

std::string AnnotationValue(const Annotations& a, std::string_view key) {
  for (const auto& [k, v] : a)
    if (k == key) return v;
  return "";
}

}  // namespace ttyaudit
