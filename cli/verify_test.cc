#include "cli/verify.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace ttyaudit;

namespace {

// An object's HEAD as S3 returns it with Object Lock: uploaded at `modified` (HTTP date),
// retained until `until` (RFC 3339).
ObjectInfo Locked(std::string mode, std::string until,
                  std::string modified = "Thu, 03 Dec 2026 10:00:00 GMT") {
  ObjectInfo o;
  o.key = "sessions/x.cast";
  o.lock_mode = std::move(mode);
  o.lock_retain_until = std::move(until);
  o.last_modified = std::move(modified);
  return o;
}

bool Has(const std::vector<std::string>& problems, const std::string& text) {
  for (const auto& p : problems)
    if (p.find(text) != std::string::npos) return true;
  return false;
}

}  // namespace

TEST_CASE("verify: an object locked as configured, or longer, or in COMPLIANCE, passes") {
  ObjectLockConfig want{"GOVERNANCE", 30};
  CHECK(ObjectLockProblems("k", Locked("GOVERNANCE", "2027-01-02T10:00:00Z"), want).empty());
  CHECK(ObjectLockProblems("k", Locked("GOVERNANCE", "2030-01-01T00:00:00Z"), want).empty());
  CHECK(ObjectLockProblems("k", Locked("COMPLIANCE", "2027-01-02T10:00:00Z"), want).empty());
}

TEST_CASE("verify: a missing Object Lock, a shorter one, or a weaker mode is reported") {
  ObjectLockConfig want{"COMPLIANCE", 30};
  auto none = ObjectLockProblems("k", Locked("", ""), want);
  CHECK(Has(none, "object k has no Object Lock (configured: COMPLIANCE for 30 days)"));
  // 29 days after the upload: a day short.
  auto shorter = ObjectLockProblems("k", Locked("COMPLIANCE", "2027-01-01T10:00:00Z"), want);
  REQUIRE(shorter.size() == 1);
  CHECK(Has(shorter,
            "is locked only until 2027-01-01T10:00:00Z, shorter than the configured "
            "COMPLIANCE for 30 days"));
  // Within the 5 minutes allowed for clocks and the upload itself: not shorter.
  CHECK(ObjectLockProblems("k", Locked("COMPLIANCE", "2027-01-02T09:56:00Z"), want).empty());
  auto weaker = ObjectLockProblems("k", Locked("GOVERNANCE", "2027-06-01T00:00:00Z"), want);
  CHECK(Has(weaker, "is locked in GOVERNANCE mode (configured: COMPLIANCE for 30 days)"));
  // A retention date that does not parse cannot be shown to be long enough.
  CHECK(Has(ObjectLockProblems("k", Locked("COMPLIANCE", "soon"), want), "shorter than"));
}

TEST_CASE("verify: a gap in a node's session numbers is a deleted session; a repeat is named") {
  auto v = [](std::string node, uint64_t seq) {
    Verdict x;
    x.node = std::move(node);
    x.seq = seq;
    return x;
  };
  CHECK(SequenceProblems({v("a", 1), v("a", 2), v("b", 7), v("a", 3), v("b", 8)}).empty());
  auto gap = SequenceProblems({v("a", 1), v("a", 4), v("b", 2), v("b", 3)});
  REQUIRE(gap.size() == 1);
  CHECK(gap[0] ==
        "node `a`: session number 2 to 3 is missing: a session was deleted (1 and 4 "
        "are present)");
  auto one = SequenceProblems({v("a", 5), v("a", 7)});
  REQUIRE(one.size() == 1);
  CHECK(Has(one, "session number 6 is missing"));
  CHECK(Has(SequenceProblems({v("a", 2), v("a", 2)}), "session number 2 is used twice"));
  CHECK(SequenceProblems({v("a", 0), v("a", 0)}).empty());  // unnumbered: older sessions
}
