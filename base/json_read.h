// Small readers over simdjson On-Demand values, shared by every parser of ttyaudit's JSON.
#pragma once

#include <simdjson.h>

#include <string>
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

}  // namespace ttyaudit
