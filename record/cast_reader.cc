// Reading asciicast files (declared in asciicast.h). Kept apart from the writer so that the
// recorder, which only writes, does not link simdjson.
#include <simdjson.h>

#include <cerrno>
#include <cstdlib>
#include <utility>

#include "record/asciicast.h"
#include "base/ids.h"

namespace ttyaudit {

namespace od = simdjson::ondemand;

CastReader::CastReader(CastReader&& o) noexcept { *this = std::move(o); }

CastReader& CastReader::operator=(CastReader&& o) noexcept {
  if (this != &o) {
    if (f_) std::fclose(f_);
    std::free(buf_);
    f_ = std::exchange(o.f_, nullptr);
    buf_ = std::exchange(o.buf_, nullptr);
    cap_ = std::exchange(o.cap_, 0);
    name_ = std::move(o.name_);
    header_ = std::move(o.header_);
    line_ = std::move(o.line_);
    truncated_ = o.truncated_;
    parser_ = std::move(o.parser_);
  }
  return *this;
}

CastReader::~CastReader() {
  if (f_) std::fclose(f_);
  std::free(buf_);
}

Result<CastReader> CastReader::Open(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "rbe");
  if (!f) return SysError("open", path, errno);
  return FromFile(f, path);
}

Result<CastReader> CastReader::FromFile(FILE* f, const std::string& name) {
  CastReader r;
  r.f_ = f;
  r.name_ = name;
  auto got = r.ReadLine();
  if (!got.ok()) return got.error();
  if (!*got || r.truncated_) return Error{name + ": no asciicast header line"};
  size_t end = r.line_.find_last_not_of(' ');
  r.header_ = r.line_.substr(0, end == std::string::npos ? 0 : end + 1);
  return r;
}

Result<bool> CastReader::ReadLine() {
  ssize_t n = getline(&buf_, &cap_, f_);
  if (n < 0) {
    if (std::ferror(f_)) return SysError("read", name_, errno);
    return false;
  }
  if (n > (64 << 20)) return Error{name_ + ": line longer than 64 MiB"};
  if (buf_[n - 1] != '\n') {  // the writer always ends a line; this one was cut short
    truncated_ = true;
    return false;
  }
  line_.assign(buf_, static_cast<size_t>(n - 1));
  return true;
}

Result<bool> EventLineParser::Parse(std::string& line, CastEvent& ev, const std::string& origin) {
  static thread_local od::parser parser;
  if (line.empty()) return false;
  line.reserve(line.size() + simdjson::SIMDJSON_PADDING);
  od::document doc;
  od::array arr;
  auto bad = [&] { return Error{origin + ": malformed event line: " + line.substr(0, 80)}; };
  if (parser.iterate(line.data(), line.size(), line.capacity()).get(doc) ||
      doc.get_array().get(arr))
    return bad();
  auto it = arr.begin();
  double t;
  std::string_view code, data;
  if (it.error() || (*it).get_double().get(t)) return bad();
  if (++it; it == arr.end() || (*it).get_string().get(code)) return bad();
  ++it;
  if (it == arr.end()) return bad();
  od::value dv;
  if ((*it).get(dv)) return bad();
  od::json_type type;
  if (dv.type().get(type)) return bad();
  if (type != od::json_type::string) return false;  // another tool's event shape
  if (code == "h") return false;                    // a chain line (record/chain.h)
  if (dv.get_string().get(data)) return bad();
  if (code == "b") {
    auto bytes = Base64Decode(data);
    if (!bytes.ok()) return Error{origin + ": " + bytes.message()};
    raw_ = std::move(bytes.value());
    have_raw_ = true;
    return false;
  }
  ev.time = t;
  ev.code.assign(code);
  if (have_raw_) ev.data = std::move(raw_);
  else ev.data.assign(data);
  have_raw_ = false;
  return true;
}

Result<bool> CastReader::Next(CastEvent& ev) {
  for (;;) {
    auto got = ReadLine();
    if (!got.ok() || !*got) return got;
    auto parsed = parser_.Parse(line_, ev, name_);
    if (!parsed.ok() || *parsed) return parsed;
  }
}

}  // namespace ttyaudit
