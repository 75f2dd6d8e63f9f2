#include "cli/reindex.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <memory>

#include "catalog/catalog.h"
#include "config/config.h"
#include "store/store.h"

namespace ttyaudit {
namespace {

void ShowProgress(const char* what, const SyncProgress& p) {
  std::fprintf(stderr, "\r%s: %llu keys listed, %llu read, %llu sessions indexed", what,
               static_cast<unsigned long long>(p.keys_listed),
               static_cast<unsigned long long>(p.segments_read),
               static_cast<unsigned long long>(p.sessions_indexed));
  if (p.done) std::fputs("\n", stderr);
}

}  // namespace

int RunReindex(const ReindexArgs& a, const std::string& store_url, const Config& cfg) {
  auto opened = OpenStore(cfg, store_url);
  if (!opened.ok())
    return std::fprintf(stderr, "ttyaudit reindex: %s\n", opened.message().c_str()), 1;
  std::unique_ptr<Store> store = std::move(opened.value());
  const std::string url = store->Url();
  struct stat st;
  if (!store->Remote() && (stat(url.substr(7).c_str(), &st) != 0 || !S_ISDIR(st.st_mode)))
    return std::fprintf(stderr, "ttyaudit reindex: store %s: not a directory\n", url.c_str()), 1;
  const bool tty = isatty(STDERR_FILENO);
  if (!a.cache_only) {
    std::vector<std::string> warnings;
    auto open_store = [&]() { return OpenStore(cfg, store_url); };
    auto rebuilt = RebuildSegments(
        *store, open_store, a.jobs, 5000,
        [&](const SyncProgress& p) {
          if (tty) ShowProgress("index entries", p);
        },
        warnings);
    for (const auto& w : warnings)
      std::fprintf(stderr, "ttyaudit reindex: warning: %s\n", w.c_str());
    if (!rebuilt.ok())
      return std::fprintf(stderr, "ttyaudit reindex: %s\n", rebuilt.message().c_str()), 1;
    std::printf("%s: %llu index entries read, %llu sessions written to index segments\n",
                url.c_str(), static_cast<unsigned long long>(rebuilt->segments_read),
                static_cast<unsigned long long>(rebuilt->sessions_indexed));
  }
  // The cache is thrown away and read again from the segments, as a first search would.
  const std::string path = DefaultCatalogPath(url);
  for (const char* suffix : {"", "-wal", "-shm"}) unlink((path + suffix).c_str());
  auto catalog = Catalog::Open(path, url);
  if (!catalog.ok())
    return std::fprintf(stderr, "ttyaudit reindex: %s\n", catalog.message().c_str()), 1;
  auto open_store = [&]() { return OpenStore(cfg, store_url); };
  auto synced = (*catalog)->Sync(
      *store,
      [&](const SyncProgress& p) {
        if (tty) ShowProgress("catalog", p);
      },
      open_store);
  if (!synced.ok())
    return std::fprintf(stderr, "ttyaudit reindex: %s\n", synced.message().c_str()), 1;
  auto count = (*catalog)->Count();
  std::printf("%s: catalog %s holds %llu sessions from %llu segments\n", url.c_str(), path.c_str(),
              static_cast<unsigned long long>(count.ok() ? *count : 0),
              static_cast<unsigned long long>(synced->segments_read));
  return 0;
}

}  // namespace ttyaudit
