#include "cli/serve_snapshot.h"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

namespace ttyaudit {

TEST_CASE("serve snapshot: concurrent requests share one refresh, and a second takes it again") {
  std::atomic<int> calls{0};
  CoalescedSnapshot c(
      [&]() -> Result<CoalescedSnapshot::Snapshot> {
        ++calls;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        return CoalescedSnapshot::Snapshot(std::make_shared<StoreSnapshot>());
      },
      500 * 1000000LL);
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 8; ++i) threads.emplace_back([&] { ok += c.Get().ok() ? 1 : 0; });
  for (auto& t : threads) t.join();
  CHECK(ok == 8);
  CHECK(calls == 1);
  CHECK(c.Get().ok());  // within the interval: the same result
  CHECK(calls == 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  CHECK(c.Get().ok());
  CHECK(calls == 2);
  CHECK(c.refreshes() == 2);
}

TEST_CASE("serve snapshot: a failed refresh is not kept") {
  int calls = 0;
  CoalescedSnapshot c(
      [&]() -> Result<CoalescedSnapshot::Snapshot> {
        if (++calls == 1) return Error{"bucket down"};
        return CoalescedSnapshot::Snapshot(std::make_shared<StoreSnapshot>());
      },
      60LL * 1000000000LL);
  auto first = c.Get();
  REQUIRE_FALSE(first.ok());
  CHECK(first.message() == "bucket down");
  CHECK(c.Get().ok());
  CHECK(calls == 2);
}

}  // namespace ttyaudit
