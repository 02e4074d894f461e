#include "services/executor.h"

#include <atomic>
#include <memory>
#include <thread>

#include "absl/synchronization/blocking_counter.h"
#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"

namespace caseledger::services {
namespace {

TEST(ExecutorTest, RunsEveryTaskOnItsWorkers) {
  Executor executor(/*threads=*/3, /*max_queued=*/1000);
  constexpr int kTasks = 200;
  std::atomic<int> ran{0};
  absl::BlockingCounter done(kTasks);
  const std::thread::id test_thread = std::this_thread::get_id();
  std::atomic<int> on_test_thread{0};
  for (int i = 0; i < kTasks; ++i) {
    ASSERT_TRUE(executor.Submit([&] {
      if (std::this_thread::get_id() == test_thread) ++on_test_thread;
      ++ran;
      done.DecrementCount();
    }));
  }
  done.Wait();
  EXPECT_EQ(ran.load(), kTasks);
  EXPECT_EQ(on_test_thread.load(), 0);
}

TEST(ExecutorTest, SubmitFailsWhenTheQueueIsFull) {
  constexpr int kMaxQueued = 3;
  std::atomic<int> ran{0};
  absl::Notification started;
  absl::Notification release;
  {
    Executor executor(/*threads=*/1, kMaxQueued);
    // The only worker takes this task off the queue and blocks in it.
    ASSERT_TRUE(executor.Submit([&] {
      started.Notify();
      release.WaitForNotification();
    }));
    started.WaitForNotification();
    for (int i = 0; i < kMaxQueued; ++i) {
      EXPECT_TRUE(executor.Submit([&] { ++ran; })) << "task " << i;
    }
    bool rejected_ran = false;
    EXPECT_FALSE(executor.Submit([&] { rejected_ran = true; }));
    release.Notify();
    // The destructor runs what was queued.
    EXPECT_FALSE(rejected_ran);
  }
  EXPECT_EQ(ran.load(), kMaxQueued);
}

TEST(ExecutorTest, QueueAcceptsAgainOnceDrained) {
  absl::Notification started;
  absl::Notification release;
  Executor executor(/*threads=*/1, /*max_queued=*/1);
  ASSERT_TRUE(executor.Submit([&] {
    started.Notify();
    release.WaitForNotification();
  }));
  started.WaitForNotification();
  absl::Notification first_ran;
  ASSERT_TRUE(executor.Submit([&] { first_ran.Notify(); }));
  EXPECT_FALSE(executor.Submit([] {}));
  release.Notify();
  first_ran.WaitForNotification();
  absl::Notification second_ran;
  EXPECT_TRUE(executor.Submit([&] { second_ran.Notify(); }));
  second_ran.WaitForNotification();
}

TEST(ExecutorTest, DestructorDrainsQueuedTasksAndRefusesNewOnes) {
  constexpr int kQueued = 20;
  std::atomic<int> ran{0};
  absl::Notification started;
  absl::Notification release;
  auto executor = std::make_unique<Executor>(/*threads=*/1,
                                             /*max_queued=*/1 << 20);
  ASSERT_TRUE(executor->Submit([&] {
    started.Notify();
    release.WaitForNotification();
  }));
  started.WaitForNotification();
  for (int i = 0; i < kQueued; ++i) {
    ASSERT_TRUE(executor->Submit([&] { ++ran; }));
  }
  // Destroy on another thread; the destructor blocks joining the worker,
  // which is blocked in the first task, so the queued tasks are still queued
  // when it starts stopping.
  Executor* raw = executor.get();
  std::thread destroyer([&] { executor.reset(); });
  // Once the destructor has marked the executor stopping, Submit refuses.
  // (The object stays alive: its destructor cannot finish before `release`.)
  int accepted_meanwhile = 0;
  while (raw->Submit([&] { ++ran; })) ++accepted_meanwhile;
  release.Notify();
  destroyer.join();
  EXPECT_EQ(ran.load(), kQueued + accepted_meanwhile);
}

}  // namespace
}  // namespace caseledger::services
