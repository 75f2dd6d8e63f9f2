// `ttyaudit reindex`: rebuilds a store's index segments from its per-session index entries (the
// truth), then this machine's catalog cache from the segments (docs/CATALOG.md).
#pragma once

#include <CLI/CLI.hpp>
#include <string>

namespace ttyaudit {

/// Adds the `reindex` subcommand to `app`; `store` is the main --store option. It ends the
/// program through CLI::RuntimeError(exit status) when it runs: 0 done, 1 the store could not
/// be read or written.
void RegisterReindex(CLI::App& app, const std::string& store);

}  // namespace ttyaudit
