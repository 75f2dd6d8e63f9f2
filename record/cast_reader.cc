#include "record/cast_reader.h"

#include <simdjson.h>

#include <cerrno>
#include <cstdio>
#include <string_view>
#include <utility>

#include "base/ids.h"
#include "base/printable.h"
#include "record/asciicast.h"

namespace ttyaudit {

namespace od = simdjson::ondemand;

namespace {

constexpr size_t kMaxLine = 64 << 20;
constexpr size_t kReadAhead = 64 << 10;
constexpr uint64_t kMaxWarnings = 10;  // per file; then one count at its end

// A line skipped by CastReader (the reader reports on stderr: it is read by the CLI, for a
// person). `nth` counts the file's bad lines from 1.
void WarnSkipped(const std::string& name, uint64_t line, uint64_t nth, std::string_view why) {
  if (nth > kMaxWarnings) return;
  std::fprintf(stderr, "ttyaudit: warning: %s: line %llu: %s; skipped\n",
               EscapeControlChars(name).c_str(), static_cast<unsigned long long>(line),
               EscapeControlChars(why).c_str());
}

}  // namespace

CastReader::CastReader(CastReader&& o) noexcept { *this = std::move(o); }

CastReader& CastReader::operator=(CastReader&& o) noexcept {
  if (this != &o) {
    if (f_) std::fclose(f_);
    f_ = std::exchange(o.f_, nullptr);
    buf_ = std::move(o.buf_);
    buf_pos_ = std::exchange(o.buf_pos_, 0);
    file_pos_ = std::exchange(o.file_pos_, 0);
    line_number_ = o.line_number_;
    bad_lines_ = o.bad_lines_;
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
  if (!*got || r.truncated_ || r.line_number_ != 1)
    return Error{name + ": no asciicast header line"};
  size_t end = r.line_.find_last_not_of(' ');
  r.header_ = r.line_.substr(0, end == std::string::npos ? 0 : end + 1);
  return r;
}

// Reads the next line into line_ (without its newline), holding at most kMaxLine bytes of it:
// a longer line is read through and skipped. False at the end, and for a last line that has no
// newline (truncated_).
Result<bool> CastReader::ReadLine() {
  line_.clear();
  bool too_long = false;
  for (;;) {
    if (buf_pos_ == buf_.size()) {
      buf_.resize(kReadAhead);
      size_t n = std::fread(buf_.data(), 1, buf_.size(), f_);
      buf_.resize(n);
      buf_pos_ = 0;
      file_pos_ += n;
      if (n == 0) {
        if (std::ferror(f_)) return SysError("read", name_, errno);
        if (!line_.empty() || too_long) {  // the writer always ends a line: this one was cut
          ++line_number_;
          truncated_ = true;
          line_.clear();
        }
        return false;
      }
    }
    std::string_view ahead(buf_.data() + buf_pos_, buf_.size() - buf_pos_);
    size_t nl = ahead.find('\n');
    std::string_view part = ahead.substr(0, nl);
    if (!too_long && line_.size() + part.size() > kMaxLine) {
      too_long = true;
      std::string().swap(line_);
    }
    if (!too_long) line_.append(part);
    buf_pos_ += part.size();
    if (nl == std::string_view::npos) continue;
    ++buf_pos_;
    ++line_number_;
    if (!too_long) return true;
    WarnSkipped(name_, line_number_, ++bad_lines_, "longer than 64 MiB");
    too_long = false;
  }
}

Status CastReader::SeekTo(uint64_t offset) {
  if (!f_) return Error{name_ + ": already read to its end"};
  if (fseeko(f_, static_cast<off_t>(offset), SEEK_SET) != 0) return SysError("seek", name_, errno);
  buf_.clear();
  buf_pos_ = 0;
  file_pos_ = offset;
  line_.clear();
  parser_ = EventLineParser();
  line_number_ = 1;
  truncated_ = false;
  return Status::Ok();
}

Result<bool> EventLineParser::Parse(std::string& line, CastEvent& ev, const std::string& origin) {
  static thread_local od::parser parser;
  if (line.empty()) return false;
  line.reserve(line.size() + simdjson::SIMDJSON_PADDING);
  od::document doc;
  od::array arr;
  auto bad = [&] {
    have_raw_ = false;  // the raw bytes belonged to this line's event
    return Error{origin + ": malformed event line: " + EscapeControlChars(line.substr(0, 80))};
  };
  if (parser.iterate(line.data(), line.size(), line.capacity()).get(doc) ||
      doc.get_array().get(arr))
    return bad();
  auto it = arr.begin();
  double t;
  std::string_view code, data;
  // An empty array has no first element to look at: simdjson's iterator may not be read there.
  if (it.error() || it == arr.end() || (*it).get_double().get(t)) return bad();
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
    if (!bytes.ok()) {
      have_raw_ = false;
      return Error{origin + ": " + bytes.message()};
    }
    raw_ = std::move(bytes.value());
    have_raw_ = true;
    return false;
  }
  ev.time = t;
  ev.code.assign(code);
  if (have_raw_)
    ev.data = std::move(raw_);
  else
    ev.data.assign(data);
  have_raw_ = false;
  return true;
}

Result<bool> CastReader::Next(CastEvent& ev) {
  while (f_) {
    auto got = ReadLine();
    if (!got.ok()) return got;
    if (!*got) break;
    auto parsed = parser_.Parse(line_, ev, name_);
    if (parsed.ok() && *parsed) return true;
    if (!parsed.ok()) {
      std::string why = parsed.message();
      if (why.rfind(name_ + ": ", 0) == 0) why.erase(0, name_.size() + 2);
      WarnSkipped(name_, line_number_, ++bad_lines_, why);
    }
  }
  if (!f_) return false;
  // The end, reported once.
  std::fclose(std::exchange(f_, nullptr));
  if (bad_lines_ > kMaxWarnings)
    std::fprintf(stderr, "ttyaudit: warning: %s: %llu lines skipped in all\n",
                 EscapeControlChars(name_).c_str(), static_cast<unsigned long long>(bad_lines_));
  if (truncated_)
    std::fprintf(stderr,
                 "ttyaudit: warning: %s: ends in the middle of line %llu: the session is "
                 "truncated there (cut short, or still being written)\n",
                 EscapeControlChars(name_).c_str(), static_cast<unsigned long long>(line_number_));
  return false;
}

}  // namespace ttyaudit
