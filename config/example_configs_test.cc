// The config files the project ships parse as the binaries parse them: the default that `make
// install` puts in /etc/ttyaudit (examples/config.json) and the containerd example's.
#include <doctest/doctest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "config/config.h"

using namespace ttyaudit;

namespace {

std::string ReadExample(const std::string& name) {
  std::string here = __FILE__;
  std::ifstream in(here.substr(0, here.rfind("/config/")) + "/examples/" + name);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

TEST_CASE("config: the installed default config is the built-in defaults, written out") {
  std::string text = ReadExample("config.json");
  REQUIRE_FALSE(text.empty());
  auto c = ParseConfig(text, "examples/config.json");
  if (!c.ok()) FAIL(c.message());
  Config defaults;
  CHECK(c->spool_dir == defaults.spool_dir);
  CHECK(c->StoreUrl() == defaults.StoreUrl());
  CHECK(c->record_input == defaults.record_input);
  CHECK(c->fail_policy == defaults.fail_policy);
  CHECK(c->log_file == defaults.log_file);
}

TEST_CASE("config: the containerd example's config parses") {
  std::string text = ReadExample("containerd/ttyaudit-config.json");
  REQUIRE_FALSE(text.empty());
  auto c = ParseConfig(text, "examples/containerd/ttyaudit-config.json");
  if (!c.ok()) FAIL(c.message());
  CHECK(FailClosed(c->fail_policy, std::string_view("payments")));
}
