#include <doctest/doctest.h>

#include "cli/replay.h"

using namespace ttyaudit;

TEST_CASE("play --at: times in the forms people write them, anything else is a pattern") {
  CHECK(*ParseAtTime("90") == 90);
  CHECK(*ParseAtTime("1.5") == doctest::Approx(1.5));
  CHECK(*ParseAtTime("90s") == 90);
  CHECK(*ParseAtTime("10m") == 600);
  CHECK(*ParseAtTime("1h2m3s") == 3723);
  CHECK(*ParseAtTime("1m30.5s") == doctest::Approx(90.5));
  CHECK(*ParseAtTime("1:30") == 90);
  CHECK(*ParseAtTime("1:02:03") == 3723);
  CHECK_FALSE(ParseAtTime("rm -rf"));
  CHECK_FALSE(ParseAtTime("ls"));
  CHECK_FALSE(ParseAtTime("1:2:3:4"));
  CHECK_FALSE(ParseAtTime("1:"));
  CHECK_FALSE(ParseAtTime("5x"));
  CHECK_FALSE(ParseAtTime("1.5m"));
  CHECK_FALSE(ParseAtTime("1h30"));
  CHECK_FALSE(ParseAtTime(""));
}
