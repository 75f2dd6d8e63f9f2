// ttyaudit: record host shells and search, replay and follow recorded sessions.
#include <cstdio>
#include <iostream>

#include "cli/command_line.h"
#include "config/config.h"

using namespace ttyaudit;

int main(int argc, char** argv) {
  CommandLine cmd;
  if (auto status = ParseCommandLine({argv + 1, argv + argc}, cmd, std::cout, std::cerr))
    return *status;
  auto cfg = LoadConfig();
  if (!cfg.ok()) {
    std::fprintf(stderr, "ttyaudit: %s\n", cfg.message().c_str());
    return 2;
  }
  return RunCommandLine(cmd, *cfg);
}
