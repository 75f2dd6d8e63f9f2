// Reading JSON: simdjson On-Demand, and the one way ttyaudit decodes an object, a table of
// its members (DecodeJsonObject), with errors that name the text and the key path.
#pragma once

#include <simdjson.h>

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "base/result.h"

namespace ttyaudit {

/// The top-level object of a JSON text, with what On-Demand needs kept alive while it is read
/// (the padded copy, the parser, the document). Read it where it was opened: not movable.
class JsonObjectText {
 public:
  JsonObjectText() = default;
  JsonObjectText(const JsonObjectText&) = delete;
  JsonObjectText& operator=(const JsonObjectText&) = delete;

  /// Parses `json`: "<what>: not valid JSON" or "<what>: want a JSON object" on failure.
  Status Open(std::string_view json, const std::string& what) {
    padded_ = simdjson::padded_string(json);
    if (parser_.iterate(padded_).get(doc_)) return Error{what + ": not valid JSON"};
    if (doc_.get_object().get(obj_)) return Error{what + ": want a JSON object"};
    return {};
  }
  simdjson::ondemand::object& object() { return obj_; }
  /// Once the object has been read to its end: true when no text follows it (On-Demand does
  /// not look past the object by itself).
  bool AtEnd() {
    const char* at = nullptr;
    return doc_.current_location().get(at) == simdjson::OUT_OF_BOUNDS;
  }

 private:
  simdjson::padded_string padded_;
  simdjson::ondemand::parser parser_;
  simdjson::ondemand::document doc_;
  simdjson::ondemand::object obj_;
};

/// Copies a string value into `out`; false (out untouched) when the value is not a string.
inline bool ReadJsonString(simdjson::ondemand::value v, std::string& out) {
  std::string_view s;
  if (v.get_string().get(s)) return false;
  out.assign(s);
  return true;
}

/// Reads an object of string values (annotations, env) into `out`, in document order. The
/// error names `what` ("hook state: annotations: want string values").
inline Status ReadJsonStringMap(simdjson::ondemand::value v, const std::string& what,
                                std::vector<std::pair<std::string, std::string>>& out) {
  simdjson::ondemand::object obj;
  if (v.get_object().get(obj)) return Error{what + ": want an object"};
  out.clear();
  for (auto member : obj) {
    std::string_view key;
    simdjson::ondemand::value val;
    std::string text;
    if (member.unescaped_key().get(key) || member.value().get(val) || !ReadJsonString(val, text))
      return Error{what + ": want string values"};
    out.emplace_back(std::string(key), std::move(text));
  }
  return {};
}

/// Reads an array of strings (argv) into `out`.
inline Status ReadJsonStringArray(simdjson::ondemand::value v, const std::string& what,
                                  std::vector<std::string>& out) {
  simdjson::ondemand::array arr;
  if (v.get_array().get(arr)) return Error{what + ": want an array"};
  out.clear();
  for (auto el : arr) {
    std::string_view s;
    if (el.get_string().get(s)) return Error{what + ": want strings"};
    out.emplace_back(s);
  }
  return {};
}

/// Where a decoder stands: the text (`origin`: a file, or what the text is, "hook state") and
/// the key path from its top object ("s3.object_lock"; empty at the top). Errors say both:
/// "cfg.json: s3.region: want a string". A member's place only points at its parent's and at
/// its key (valid while the member is read), so that decoding builds no string until it fails.
class JsonPlace {
 public:
  explicit JsonPlace(std::string origin) : origin_(std::move(origin)) {}
  /// The place of member `key` of the object here; it must not outlive this place or the key.
  JsonPlace Member(std::string_view key) const { return JsonPlace(this, key); }
  /// "<origin>: <path>", or "<origin>" at the top.
  std::string Name() const {
    const std::string p = path();
    return p.empty() ? origin() : origin() + ": " + p;
  }
  /// "<origin>: <path>: <why>", or "<origin>: <why>" at the top.
  Error Bad(std::string_view why) const { return Error{Name() + ": " + std::string(why)}; }
  const std::string& origin() const { return parent_ ? parent_->origin() : origin_; }
  std::string path() const {
    if (parent_ == nullptr) return "";
    std::string up = parent_->path();
    return up.empty() ? std::string(key_) : up + "." + std::string(key_);
  }

 private:
  JsonPlace(const JsonPlace* parent, std::string_view key) : parent_(parent), key_(key) {}

  std::string origin_;                 // at the top
  const JsonPlace* parent_ = nullptr;  // below it
  std::string_view key_;
};

/// Reads one member's value where it belongs; an error from `at.Bad(...)` (`at` is the
/// member's own place) when the value is not what the member wants.
using JsonReader = std::function<Status(simdjson::ondemand::value v, const JsonPlace& at)>;

/// One member a decoder knows: its key and how to read its value.
struct JsonField {
  std::string_view key;
  JsonReader read;
};

/// What DecodeJsonObject does with a key that no field names.
enum class JsonUnknownKeys {
  kSkip,    // files that newer versions may extend (session metadata, state files)
  kReject,  // files that people write (the config): a typo must not pass unnoticed
};

/// Reads every member of `obj` through the field of its key, in document order. Errors:
/// "<place>: malformed member" (not valid JSON there), "<place>.<key>: unknown key" under
/// kReject, or the field's own error. A key that appears twice is read twice.
inline Status DecodeJsonObject(simdjson::ondemand::object obj, const JsonPlace& at,
                               std::span<const JsonField> fields, JsonUnknownKeys unknown) {
  for (auto member : obj) {
    std::string_view key;
    simdjson::ondemand::value v;
    if (member.unescaped_key().get(key) || member.value().get(v)) return at.Bad("malformed member");
    const JsonField* field = nullptr;
    for (const JsonField& f : fields)
      if (f.key == key) field = &f;
    if (field == nullptr) {
      if (unknown == JsonUnknownKeys::kReject) return at.Member(key).Bad("unknown key");
      continue;
    }
    if (Status st = field->read(v, at.Member(key)); !st) return st;
  }
  return {};
}

inline Status DecodeJsonObject(simdjson::ondemand::object obj, const JsonPlace& at,
                               std::initializer_list<JsonField> fields, JsonUnknownKeys unknown) {
  return DecodeJsonObject(obj, at, std::span<const JsonField>(fields.begin(), fields.size()),
                          unknown);
}

/// A member that is itself an object, decoded through its own fields.
inline JsonReader JsonObjectOf(std::vector<JsonField> fields,
                               JsonUnknownKeys unknown = JsonUnknownKeys::kSkip) {
  return [fields = std::move(fields), unknown](simdjson::ondemand::value v,
                                               const JsonPlace& at) -> Status {
    simdjson::ondemand::object obj;
    if (v.get_object().get(obj)) return at.Bad("want an object");
    return DecodeJsonObject(obj, at, fields, unknown);
  };
}

/// A member that is an array of objects: `each` makes the fields of one element and is told
/// when the element has been read (`done`), so that it can keep what it gathered.
inline JsonReader JsonArrayOfObjects(std::function<std::vector<JsonField>()> each,
                                     std::function<void()> done,
                                     JsonUnknownKeys unknown = JsonUnknownKeys::kSkip) {
  return [each = std::move(each), done = std::move(done), unknown](simdjson::ondemand::value v,
                                                                   const JsonPlace& at) -> Status {
    simdjson::ondemand::array arr;
    if (v.get_array().get(arr)) return at.Bad("want an array");
    for (auto el : arr) {
      simdjson::ondemand::object obj;
      if (el.get_object().get(obj)) return at.Bad("want objects");
      if (Status st = DecodeJsonObject(obj, at, each(), unknown); !st) return st;
      done();
    }
    return {};
  };
}

/// The readers of plain values; each says what it wants when the value is something else.
inline JsonReader JsonString(std::string& out) {
  return [&out](simdjson::ondemand::value v, const JsonPlace& at) -> Status {
    if (!ReadJsonString(v, out)) return at.Bad("want a string");
    return {};
  };
}

inline JsonReader JsonBool(bool& out) {
  return [&out](simdjson::ondemand::value v, const JsonPlace& at) -> Status {
    if (v.get_bool().get(out)) return at.Bad("want true or false");
    return {};
  };
}

inline JsonReader JsonNumber(double& out) {
  return [&out](simdjson::ondemand::value v, const JsonPlace& at) -> Status {
    if (v.get_double().get(out)) return at.Bad("want a number");
    return {};
  };
}

/// An integer member of any integral type; a value outside the type's range is an error.
template <class Int>
JsonReader JsonInteger(Int& out) {
  static_assert(std::is_integral_v<Int> && !std::is_same_v<Int, bool>);
  return [&out](simdjson::ondemand::value v, const JsonPlace& at) -> Status {
    if constexpr (std::is_unsigned_v<Int>) {
      uint64_t n;
      if (v.get_uint64().get(n) || n > std::numeric_limits<Int>::max())
        return at.Bad("want a whole number from 0");
      out = static_cast<Int>(n);
    } else {
      int64_t n;
      if (v.get_int64().get(n) || n < std::numeric_limits<Int>::min() ||
          n > std::numeric_limits<Int>::max())
        return at.Bad("want a whole number");
      out = static_cast<Int>(n);
    }
    return {};
  };
}

/// An object of string values (annotations, env), in document order.
inline JsonReader JsonStringMap(std::vector<std::pair<std::string, std::string>>& out) {
  return [&out](simdjson::ondemand::value v, const JsonPlace& at) -> Status {
    return ReadJsonStringMap(v, at.Name(), out);
  };
}

/// An array of strings (argv).
inline JsonReader JsonStringArray(std::vector<std::string>& out) {
  return [&out](simdjson::ondemand::value v, const JsonPlace& at) -> Status {
    return ReadJsonStringArray(v, at.Name(), out);
  };
}

}  // namespace ttyaudit
