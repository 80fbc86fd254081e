#pragma once
// Work spread over threads, each taking the next item as it finishes one.
#include <algorithm>
#include <atomic>
#include <cstddef>
#include <thread>
#include <vector>

namespace leakfix {

// Runs `work(item)` for every item on up to `jobs` threads (the caller's among them).
template <typename T, typename F>
void parallel_for(const std::vector<T>& items, int jobs, F&& work) {
  std::atomic<std::size_t> next{0};
  auto worker = [&] {
    for (std::size_t i; (i = next.fetch_add(1)) < items.size();) work(items[i]);
  };
  const int n = std::max(1, std::min<int>(jobs, static_cast<int>(items.size())));
  std::vector<std::thread> threads;
  for (int t = 1; t < n; ++t) threads.emplace_back(worker);
  worker();
  for (auto& t : threads) t.join();
}

}  // namespace leakfix
