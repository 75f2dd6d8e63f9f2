// `ttyaudit reindex`: rebuilds a store's index segments from its per-session index entries (the
// truth), then this machine's catalog cache from the segments (docs/CATALOG.md).
#pragma once

#include <string>

#include "config/config.h"

namespace ttyaudit {

struct ReindexArgs {
  int jobs = 8;             // index entries read in parallel
  bool cache_only = false;  // only this machine's catalog, from the segments
};

/// Runs `reindex` over `store_url` (empty: the configured store). Returns the exit status: 0
/// done, 1 the store could not be read or written.
int RunReindex(const ReindexArgs& a, const std::string& store_url, const Config& cfg);

}  // namespace ttyaudit
