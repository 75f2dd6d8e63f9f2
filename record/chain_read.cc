// Reading chains back (declared in chain.h): kept apart from the writer so that the recorder
// does not link simdjson.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "base/json_read.h"
#include "base/unique_fd.h"
#include "record/chain.h"

namespace ttyaudit {

namespace od = simdjson::ondemand;

Result<ManifestChain> ReadManifestChain(std::string_view manifest) {
  JsonObjectText text;
  if (Status st = text.Open(manifest, "manifest"); !st) return Error{st.message()};
  ManifestChain m;
  od::value v;
  if (text.object().find_field_unordered("chain").get(v) != simdjson::SUCCESS) return m;
  od::object obj;
  if (v.get_object().get(obj)) return Error{"manifest: chain: want an object"};
  int64_t version = 0;
  const JsonPlace top("manifest");
  if (Status st = DecodeJsonObject(obj, top.Member("chain"),
                                   {
                                       {"version", JsonInteger(version)},
                                       {"head", JsonString(m.head)},
                                       {"blocks", JsonInteger(m.blocks)},
                                       {"size", JsonInteger(m.size)},
                                       {"header_sha256", JsonString(m.header_sha256)},
                                   },
                                   JsonUnknownKeys::kSkip);
      !st)
    return Error{st.message()};
  if (version != 1) return Error{"manifest: chain: want version 1"};
  m.present = true;
  return m;
}

Result<ChainCheck> CheckCastFile(const std::string& path, const std::string& session_id,
                                 bool tail_ok) {
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd) return SysError("open", path, errno);
  ChainVerifier v(session_id);
  std::string buf(1 << 20, '\0');
  for (;;) {
    ssize_t n = read(fd.get(), buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return SysError("read", path, errno);
    if (n == 0) break;
    v.Update(std::string_view(buf.data(), static_cast<size_t>(n)));
  }
  return v.Finish(tail_ok);
}

}  // namespace ttyaudit
