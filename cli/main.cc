// ttyaudit: record host shells and search, replay and follow recorded sessions.
#include <iostream>

#include "cli/command_line.h"

using namespace ttyaudit;

int main(int argc, char** argv) {
  CommandLine cmd;
  if (auto status = ParseCommandLine({argv + 1, argv + argc}, cmd, std::cout, std::cerr))
    return *status;
  return RunCommandLine(cmd);
}
