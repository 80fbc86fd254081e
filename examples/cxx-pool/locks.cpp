// A counter behind a mutex locked by hand.
#include <mutex>
#include <stdexcept>

std::mutex counter_mutex;
int counter = 0;

int bump(int by) {
  counter_mutex.lock();  // expect: leaky-path
  if (by < 0) return counter;
  if (by > 100) throw std::invalid_argument("too big");
  counter += by;
  int now = counter;
  counter_mutex.unlock();
  return now;
}

bool locked_now() {
  if (!counter_mutex.try_lock()) return true;
  counter_mutex.unlock();
  return false;
}
