#include "runtime/runc_log.h"

#include <doctest/doctest.h>

TEST_CASE("runc log: a refusal is a json error line the shim shows the client") {
  std::string line = ttyaudit::RuncLogErrorLine("json", "ttyaudit: \"no\" recording", 0);
  CHECK(line ==
        "{\"level\":\"error\",\"msg\":\"ttyaudit: \\\"no\\\" recording\","
        "\"time\":\"1970-01-01T00:00:00.000Z\"}\n");
  CHECK(ttyaudit::LastRuncLogError("{\"level\":\"info\",\"msg\":\"x\"}\n" + line) ==
        "ttyaudit: \"no\" recording");
}

TEST_CASE("runc log: the last error line wins, other levels and junk are skipped") {
  std::string text =
      "{\"level\":\"error\",\"msg\":\"first\",\"time\":\"t\"}\n"
      "not json \"error\"\n"
      "{\"level\":\"error\",\"msg\":\"exec failed: unable to start container process\"}\n"
      "{\"level\":\"warning\",\"msg\":\"error later\"}\n";
  CHECK(ttyaudit::LastRuncLogError(text) == "exec failed: unable to start container process");
  CHECK(ttyaudit::LastRuncLogError("").empty());
}

TEST_CASE("runc log: text format is logrus's key=value line") {
  CHECK(ttyaudit::RuncLogErrorLine("text", "m", 0) ==
        "time=\"1970-01-01T00:00:00.000Z\" level=error msg=\"m\"\n");
}
