// Writing JSON text. Reading goes through simdjson On-Demand (see json_read.h).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ttyaudit {

/// Appends `s` to `out` as a JSON string literal (quotes included). `s` must be valid UTF-8;
/// control characters are escaped so that the result is one line.
void AppendJsonString(std::string& out, std::string_view s);

/// Builds compact JSON text. The caller keeps keys and values in the right order; the writer
/// only places commas and quotes.
class JsonWriter {
 public:
  JsonWriter& BeginObject();
  JsonWriter& EndObject();
  JsonWriter& BeginArray();
  JsonWriter& EndArray();
  JsonWriter& Key(std::string_view k);
  JsonWriter& String(std::string_view s);
  JsonWriter& Int(int64_t v);
  JsonWriter& Uint(uint64_t v);
  JsonWriter& Double(double v, int decimals = 6);
  JsonWriter& Bool(bool v);
  JsonWriter& Null();
  /// Inserts already-valid JSON text as one value.
  JsonWriter& Raw(std::string_view json);
  JsonWriter& StringArray(const std::vector<std::string>& v);

  const std::string& str() const { return out_; }
  std::string Take() { return std::move(out_); }

 private:
  void Separate();
  std::string out_;
  std::vector<bool> first_;  // per open container: no value written yet
  bool after_key_ = false;
};

}  // namespace ttyaudit
