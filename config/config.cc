#include "config/config.h"

#include <simdjson.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "base/json_read.h"
#include "config/trust.h"

namespace ttyaudit {
namespace {

namespace od = simdjson::ondemand;

struct Parser {
  std::string origin;
  Error Bad(const std::string& key, const std::string& want) const {
    return Error{origin + ": " + key + ": " + want};
  }
  Status String(od::value v, const std::string& key, std::string& out) const {
    std::string_view s;
    if (v.get_string().get(s)) return Bad(key, "want a string");
    out = std::string(s);
    return {};
  }
  Status Bool(od::value v, const std::string& key, bool& out) const {
    if (v.get_bool().get(out)) return Bad(key, "want true or false");
    return {};
  }
  Status Number(od::value v, const std::string& key, double& out) const {
    if (v.get_double().get(out)) return Bad(key, "want a number");
    return {};
  }
};

Status ParseObjectLock(const Parser& p, od::object obj, ObjectLockConfig& ol) {
  for (auto field : obj) {
    std::string_view k;
    if (field.unescaped_key().get(k)) return p.Bad("s3.object_lock", "malformed key");
    std::string key = "s3.object_lock." + std::string(k);
    od::value v;
    if (field.value().get(v)) return p.Bad(key, "malformed value");
    if (k == "mode") {
      if (auto s = p.String(v, key, ol.mode); !s) return s;
      if (ol.mode != "" && ol.mode != "GOVERNANCE" && ol.mode != "COMPLIANCE")
        return p.Bad(key, "want GOVERNANCE or COMPLIANCE, not `" + ol.mode + "`");
    } else if (k == "days") {
      int64_t d;
      if (v.get_int64().get(d) || d < 1 || d > 36500)
        return p.Bad(key, "want a whole number of days from 1 to 36500");
      ol.days = static_cast<int>(d);
    } else {
      return p.Bad(key, "unknown key");
    }
  }
  if (!ol.mode.empty() && ol.days == 0) return p.Bad("s3.object_lock.days", "required with mode");
  return {};
}

Status ParseS3(const Parser& p, od::object obj, S3Config& s3) {
  for (auto field : obj) {
    std::string_view k;
    if (field.unescaped_key().get(k)) return p.Bad("s3", "malformed key");
    std::string key = "s3." + std::string(k);
    od::value v;
    if (field.value().get(v)) return p.Bad(key, "malformed value");
    Status st;
    if (k == "endpoint") {
      st = p.String(v, key, s3.endpoint);
      if (st && !s3.endpoint.empty() && s3.endpoint.rfind("http://", 0) != 0 &&
          s3.endpoint.rfind("https://", 0) != 0)
        return p.Bad(key, "want an http:// or https:// URL");
    } else if (k == "region") {
      st = p.String(v, key, s3.region);
      if (st && s3.region.empty()) return p.Bad(key, "must not be empty");
    } else if (k == "path_style") {
      st = p.Bool(v, key, s3.path_style);
    } else if (k == "object_lock") {
      od::object o;
      if (v.get_object().get(o)) return p.Bad(key, "want an object");
      st = ParseObjectLock(p, o, s3.object_lock);
    } else if (k == "sse") {
      st = p.String(v, key, s3.sse);
      if (st && s3.sse != "" && s3.sse != "AES256" && s3.sse != "aws:kms")
        return p.Bad(key, "want AES256 or aws:kms");
    } else if (k == "sse_kms_key_id") {
      st = p.String(v, key, s3.sse_kms_key_id);
    } else if (k == "ca_file") {
      st = p.String(v, key, s3.ca_file);
    } else if (k == "access_key_id") {
      st = p.String(v, key, s3.access_key_id);
    } else if (k == "secret_access_key") {
      st = p.String(v, key, s3.secret_access_key);
    } else if (k == "session_token") {
      st = p.String(v, key, s3.session_token);
    } else {
      return p.Bad(key, "unknown key");
    }
    if (!st) return st;
  }
  return {};
}

Status ParseFailClosed(const Parser& p, od::value v, Config& c) {
  od::json_type t;
  if (v.type().get(t)) return p.Bad("fail_closed", "malformed value");
  if (t == od::json_type::boolean) return p.Bool(v, "fail_closed", c.fail_closed);
  od::array arr;
  if (t != od::json_type::array || v.get_array().get(arr))
    return p.Bad("fail_closed", "want true, false, or a list of Kubernetes namespaces");
  for (auto el : arr) {
    std::string_view s;
    if (el.get_string().get(s) || s.empty())
      return p.Bad("fail_closed", "want a list of non-empty namespace names");
    c.fail_closed_namespaces.emplace_back(s);
  }
  return {};
}

Status ParseTop(const Parser& p, od::object obj, Config& c) {
  for (auto field : obj) {
    std::string_view k;
    if (field.unescaped_key().get(k)) return p.Bad("(top)", "malformed key");
    std::string key(k);
    od::value v;
    if (field.value().get(v)) return p.Bad(key, "malformed value");
    Status st;
    double d = 0;
    if (k == "runc") {
      st = p.String(v, key, c.runc);
    } else if (k == "spool_dir") {
      st = p.String(v, key, c.spool_dir);
      if (st && (c.spool_dir.empty() || c.spool_dir[0] != '/')) return p.Bad(key, "want an absolute path");
    } else if (k == "archive_dir") {
      st = p.String(v, key, c.archive_dir);
      if (st && (c.archive_dir.empty() || c.archive_dir[0] != '/')) return p.Bad(key, "want an absolute path");
    } else if (k == "store") {
      st = p.String(v, key, c.store);
      if (st && !c.store.empty() && c.store.rfind("file:///", 0) != 0 && c.store.rfind("s3://", 0) != 0)
        return p.Bad(key, "want file:///path or s3://bucket/prefix, not `" + c.store + "`");
      if (st && c.store.rfind("s3://", 0) == 0 && c.store.size() <= 5) return p.Bad(key, "s3:// needs a bucket");
    } else if (k == "s3") {
      od::object o;
      if (v.get_object().get(o)) return p.Bad(key, "want an object");
      st = ParseS3(p, o, c.s3);
    } else if (k == "record_input") {
      st = p.Bool(v, key, c.record_input);
    } else if (k == "fail_closed") {
      st = ParseFailClosed(p, v, c);
    } else if (k == "live_interval_s") {
      st = p.Number(v, key, d);
      if (st && (d < 0.1 || d > 3600)) return p.Bad(key, "want seconds from 0.1 to 3600");
      c.live_interval_s = d;
    } else if (k == "fsync_interval_s") {
      st = p.Number(v, key, d);
      if (st && (d < 0.01 || d > 3600)) return p.Bad(key, "want seconds from 0.01 to 3600");
      c.fsync_interval_s = d;
    } else if (k == "spool_max_bytes") {
      uint64_t n;
      if (v.get_uint64().get(n) || n < (1ULL << 20)) return p.Bad(key, "want a byte count of at least 1048576");
      c.spool_max_bytes = n;
    } else if (k == "log_file") {
      st = p.String(v, key, c.log_file);
    } else if (k == "node_name") {
      st = p.String(v, key, c.node_name);
    } else if (k == "node_key") {
      st = p.String(v, key, c.node_key);
      if (st && (c.node_key.empty() || c.node_key[0] != '/'))
        return p.Bad(key, "want an absolute path");
    } else {
      return p.Bad(key, "unknown key");
    }
    if (!st) return st;
  }
  return {};
}

}  // namespace

Result<Config> ParseConfig(std::string_view json, const std::string& origin) {
  Parser p{origin};
  JsonObjectText text;
  if (auto st = text.Open(json, origin); !st) return Error{st.message()};
  Config c;
  c.path = origin;
  if (auto st = ParseTop(p, text.object(), c); !st) return Error{st.message()};
  if (!text.AtEnd()) return Error{origin + ": not valid JSON (text after the object)"};
  return c;
}

Result<Config> LoadConfig() {
  std::string path = ConfigPath();
  if (access(path.c_str(), F_OK) == 0)
    if (Status st = CheckConfigTrusted(path); !st) return Error{st.message()};
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    bool named = std::getenv("TTYAUDIT_CONFIG") && *std::getenv("TTYAUDIT_CONFIG");
    if (!named && errno == ENOENT) return Config{};
    return SysError("open config", path, errno);
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return ParseConfig(ss.str(), path);
}

}  // namespace ttyaudit
