// ttyaudit-runtime: a runc stand-in that records terminal execs. This is its front, which every
// runc call starts; see shim/front.h.
#include <string>
#include <vector>

#include "shim/front.h"

int main(int argc, char** argv) {
  return ttyaudit::RunFront(std::vector<std::string>(argv, argv + argc));
}
