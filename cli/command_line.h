// The `ttyaudit` command line: one table of verbs, each registered and run the same way.
//
// A new verb is one entry in the table (command_line.cc): its options, bound to its fields of
// CommandLine, and the function that runs it. Options of the program itself (--store) may come
// before or after the verb.
#pragma once

#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "cli/correlate.h"
#include "cli/doctor.h"
#include "cli/rec.h"
#include "cli/reindex.h"
#include "cli/replay.h"
#include "cli/search.h"
#include "cli/serve.h"
#include "config/config.h"

namespace ttyaudit {

/// What one invocation asks for. Only the fields of `verb` are meaningful.
struct CommandLine {
  std::string verb;   // a verb of the table: "rec", "search", "cat", ..., "doctor"
  std::string store;  // --store: read sessions from this store only
  RecOptions rec;
  SearchQuery search;
  std::string id;  // cat, play, export, watch: session id, id prefix or .cast file
  ReplayOptions replay;
  CorrelateArgs correlate;
  ReindexArgs reindex;
  DoctorOptions doctor;
  ServeOptions serve;
  bool doctor_json = false;
};

/// Parses the arguments after the program name. Returns nullopt when `cmd` is to be run, or
/// the status to exit with now: 0 after printing help to `out`, 2 after printing a usage error
/// to `err`.
std::optional<int> ParseCommandLine(const std::vector<std::string>& args, CommandLine& cmd,
                                    std::ostream& out, std::ostream& err);

/// Runs the verb that ParseCommandLine filled in, with the config (LoadConfig) for the verbs
/// that need it: one that cannot be read is an error on stderr and status 2. Returns the exit
/// status.
int RunCommandLine(CommandLine& cmd);

}  // namespace ttyaudit
