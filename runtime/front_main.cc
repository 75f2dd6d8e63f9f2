// ttyaudit-runtime: a runc stand-in that records terminal execs. This is its front, which every
// runc call starts; see runtime/front.h.
#include <cstdio>
#include <string>
#include <vector>

#include "base/version.h"
#include "runtime/front.h"

int main(int argc, char** argv) {
  // `--version` is runc's (callers such as `docker info` parse it); ttyaudit's is this one.
  if (argc == 2 && std::string(argv[1]) == "--ttyaudit-version") {
    std::printf("ttyaudit-runtime %s\n", ttyaudit::Version());
    return 0;
  }
  return ttyaudit::RunFront(std::vector<std::string>(argv, argv + argc));
}
