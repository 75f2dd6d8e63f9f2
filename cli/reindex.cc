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

struct ReindexArgs {
  int jobs = 8;
  bool cache_only = false;
};

void ShowProgress(const char* what, const SyncProgress& p) {
  std::fprintf(stderr, "\r%s: %llu keys listed, %llu read, %llu sessions indexed", what,
               static_cast<unsigned long long>(p.keys_listed),
               static_cast<unsigned long long>(p.segments_read),
               static_cast<unsigned long long>(p.sessions_indexed));
  if (p.done) std::fputs("\n", stderr);
}

int RunReindex(const ReindexArgs& a, const std::string& store_url) {
  auto cfg = LoadConfig();
  if (!cfg.ok()) return std::fprintf(stderr, "ttyaudit: %s\n", cfg.message().c_str()), 2;
  auto opened = OpenStore(*cfg, store_url);
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
    auto open_store = [&]() { return OpenStore(*cfg, store_url); };
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
  auto synced = (*catalog)->Sync(*store, [&](const SyncProgress& p) {
    if (tty) ShowProgress("catalog", p);
  });
  if (!synced.ok())
    return std::fprintf(stderr, "ttyaudit reindex: %s\n", synced.message().c_str()), 1;
  auto count = (*catalog)->Count();
  std::printf("%s: catalog %s holds %llu sessions from %llu segments\n", url.c_str(), path.c_str(),
              static_cast<unsigned long long>(count.ok() ? *count : 0),
              static_cast<unsigned long long>(synced->segments_read));
  return 0;
}

}  // namespace

void RegisterReindex(CLI::App& app, const std::string& store) {
  auto args = std::make_shared<ReindexArgs>();
  CLI::App* sub = app.add_subcommand(
      "reindex",
      "Rebuild the store's index segments from its per-session index entries, then this "
      "machine's catalog from the segments (after a lost spool, or to check them)");
  sub->add_option("-j,--jobs", args->jobs, "Index entries read in parallel (default 8)")
      ->check(CLI::Range(1, 64));
  sub->add_flag(
      "--cache-only", args->cache_only,
      "Only rebuild this machine's catalog from the segments; write nothing to the store");
  sub->callback([args, &store] { throw CLI::RuntimeError(RunReindex(*args, store)); });
}

}  // namespace ttyaudit
