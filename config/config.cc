#include "config/config.h"

#include <simdjson.h>

#include "base/files.h"
#include "base/json_read.h"

namespace ttyaudit {
namespace {

namespace od = simdjson::ondemand;

// A string member that `why_not` accepts: it returns "" for a good value, else what is wanted.
JsonReader StringWhere(std::string& out, std::function<std::string(const std::string&)> why_not) {
  return [&out, why_not](od::value v, const JsonPlace& at) -> Status {
    if (Status st = JsonString(out)(v, at); !st) return st;
    if (std::string want = why_not(out); !want.empty()) return at.Bad(want);
    return {};
  };
}

std::string AbsolutePath(const std::string& s) {
  return !s.empty() && s[0] == '/' ? "" : "want an absolute path";
}

// Seconds from `lo` to `hi`.
JsonReader Seconds(double& out, double lo, double hi, const std::string& want) {
  return [&out, lo, hi, want](od::value v, const JsonPlace& at) -> Status {
    double d;
    if (Status st = JsonNumber(d)(v, at); !st) return st;
    if (d < lo || d > hi) return at.Bad(want);
    out = d;
    return {};
  };
}

// An object member whose members `decode` reads.
JsonReader Object(std::function<Status(od::object, const JsonPlace&)> decode) {
  return [decode](od::value v, const JsonPlace& at) -> Status {
    od::object o;
    if (v.get_object().get(o)) return at.Bad("want an object");
    return decode(o, at);
  };
}

Status ParseObjectLock(od::object obj, const JsonPlace& at, ObjectLockConfig& ol) {
  auto mode = StringWhere(ol.mode, [](const std::string& m) {
    return m == "" || m == "GOVERNANCE" || m == "COMPLIANCE"
               ? ""
               : "want GOVERNANCE or COMPLIANCE, not `" + m + "`";
  });
  auto days = [&ol](od::value v, const JsonPlace& at) -> Status {
    int64_t d;
    if (v.get_int64().get(d) || d < 1 || d > 36500)
      return at.Bad("want a whole number of days from 1 to 36500");
    ol.days = static_cast<int>(d);
    return {};
  };
  if (Status st =
          DecodeJsonObject(obj, at, {{"mode", mode}, {"days", days}}, JsonUnknownKeys::kReject);
      !st)
    return st;
  if (!ol.mode.empty() && ol.days == 0) return at.Member("days").Bad("required with mode");
  return {};
}

Status ParseS3(od::object obj, const JsonPlace& at, S3Config& s3) {
  auto endpoint = StringWhere(s3.endpoint, [](const std::string& e) {
    return e.empty() || e.rfind("http://", 0) == 0 || e.rfind("https://", 0) == 0
               ? ""
               : "want an http:// or https:// URL";
  });
  auto region = StringWhere(
      s3.region, [](const std::string& r) { return r.empty() ? "must not be empty" : ""; });
  auto sse = StringWhere(s3.sse, [](const std::string& e) {
    return e == "" || e == "AES256" || e == "aws:kms" ? "" : "want AES256 or aws:kms";
  });
  auto object_lock = Object(
      [&s3](od::object o, const JsonPlace& at) { return ParseObjectLock(o, at, s3.object_lock); });
  return DecodeJsonObject(obj, at,
                          {
                              {"endpoint", endpoint},
                              {"region", region},
                              {"path_style", JsonBool(s3.path_style)},
                              {"object_lock", object_lock},
                              {"sse", sse},
                              {"sse_kms_key_id", JsonString(s3.sse_kms_key_id)},
                              {"ca_file", JsonString(s3.ca_file)},
                              {"access_key_id", JsonString(s3.access_key_id)},
                              {"secret_access_key", JsonString(s3.secret_access_key)},
                              {"session_token", JsonString(s3.session_token)},
                          },
                          JsonUnknownKeys::kReject);
}

Status ParseFailClosed(od::value v, const JsonPlace& at, Config& c) {
  od::json_type t;
  if (v.type().get(t)) return at.Bad("malformed value");
  c.fail_policy = {};  // the last of repeated keys wins, as in the front's reading
  if (t == od::json_type::boolean) return JsonBool(c.fail_policy.all)(v, at);
  od::array arr;
  if (t != od::json_type::array || v.get_array().get(arr))
    return at.Bad("want true, false, or a list of Kubernetes namespaces");
  for (auto el : arr) {
    std::string_view s;
    if (el.get_string().get(s) || s.empty())
      return at.Bad("want a list of non-empty namespace names");
    c.fail_policy.namespaces.emplace_back(s);
  }
  return {};
}

// A whole number from `lo` to `hi`.
JsonReader Count(uint64_t& out, uint64_t lo, uint64_t hi, const std::string& want) {
  return [&out, lo, hi, want](od::value v, const JsonPlace& at) -> Status {
    uint64_t n;
    if (v.get_uint64().get(n) || n < lo || n > hi) return at.Bad(want);
    out = n;
    return {};
  };
}

Status ParseSandbox(od::object obj, const JsonPlace& at, SandboxConfig& sb) {
  return DecodeJsonObject(
      obj, at,
      {
          {"enabled", JsonBool(sb.enabled)},
          {"recorder_memory_max", Count(sb.recorder_memory_max, 16ULL << 20, 1ULL << 40,
                                        "want a byte count from 16777216 to 2^40")},
          {"recorder_pids_max",
           Count(sb.recorder_pids_max, 8, 100000, "want a whole number from 8 to 100000")},
      },
      JsonUnknownKeys::kReject);
}

Status ParseTop(od::object obj, const JsonPlace& at, Config& c) {
  auto store = StringWhere(c.store, [](const std::string& s) -> std::string {
    if (!s.empty() && s.rfind("file:///", 0) != 0 && s.rfind("s3://", 0) != 0)
      return "want file:///path or s3://bucket/prefix, not `" + s + "`";
    if (s.rfind("s3://", 0) == 0 && s.size() <= 5) return "s3:// needs a bucket";
    return "";
  });
  auto spool_max_bytes = [&c](od::value v, const JsonPlace& at) -> Status {
    uint64_t n;
    if (v.get_uint64().get(n) || n < (1ULL << 20))
      return at.Bad("want a byte count of at least 1048576");
    c.spool_max_bytes = n;
    return {};
  };
  return DecodeJsonObject(
      obj, at,
      {
          {"runc", JsonString(c.runc)},
          {"spool_dir", StringWhere(c.spool_dir, AbsolutePath)},
          {"archive_dir", StringWhere(c.archive_dir, AbsolutePath)},
          {"store", store},
          {"s3", Object([&c](od::object o, const JsonPlace& at) { return ParseS3(o, at, c.s3); })},
          {"record_input", JsonBool(c.record_input)},
          {"fail_closed",
           [&c](od::value v, const JsonPlace& at) { return ParseFailClosed(v, at, c); }},
          {"live_interval_s",
           Seconds(c.live_interval_s, 0.1, 3600, "want seconds from 0.1 to 3600")},
          {"fsync_interval_s",
           Seconds(c.fsync_interval_s, 0.01, 3600, "want seconds from 0.01 to 3600")},
          {"spool_max_bytes", spool_max_bytes},
          {"log_file", JsonString(c.log_file)},
          {"node_name", JsonString(c.node_name)},
          {"node_key", StringWhere(c.node_key, AbsolutePath)},
          {"sandbox", Object([&c](od::object o, const JsonPlace& at) {
             return ParseSandbox(o, at, c.sandbox);
           })},
      },
      JsonUnknownKeys::kReject);
}

}  // namespace

Result<Config> ParseConfig(std::string_view json, const std::string& origin) {
  JsonObjectText text;
  if (auto st = text.Open(json, origin); !st) return Error{st.message()};
  Config c;
  c.path = origin;
  if (auto st = ParseTop(text.object(), JsonPlace(origin), c); !st) return Error{st.message()};
  if (!text.AtEnd()) return Error{origin + ": not valid JSON (text after the object)"};
  return c;
}

Result<Config> ConfigFromText(const ConfigText& config) {
  if (!config.found) return Config{};
  return ParseConfig(config.text, config.path);
}

Result<Config> LoadConfig() {
  auto config = ReadConfigText();
  if (!config) return config.error();
  return ConfigFromText(config.value());
}

}  // namespace ttyaudit
