// ttyaudit-runtime: a runc stand-in that records terminal execs. This is its front, which every
// runc call starts; see runtime/front.h.
#include <string>
#include <vector>

#include "runtime/front.h"

int main(int argc, char** argv) {
  return ttyaudit::RunFront(std::vector<std::string>(argv, argv + argc));
}
