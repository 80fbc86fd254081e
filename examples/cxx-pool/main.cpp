// Runs every function on every path and prints what it returned or threw, and how many
// connections (and the lock) are still out afterwards.
#include <cstdio>
#include <exception>
#include <functional>
#include <string>
#include <vector>

#include "pool.h"
#include "service.h"

int bump(int by);
bool locked_now();

static void run(const char* name, Pool& pool, bool fail, const std::function<int(Pool&)>& f) {
  Pool fresh;
  pool = fresh;
  pool.fail_next(fail);
  std::string result;
  try {
    result = "returned " + std::to_string(f(pool));
  } catch (const std::exception& e) {
    result = std::string("threw ") + e.what();
  }
  std::printf("%s fail=%d: %s; outstanding=%d\n", name, fail ? 1 : 0, result.c_str(), pool.outstanding());
}

int main() {
  Pool pool;
  for (bool fail : {false, true}) {
    run("lookup(7)", pool, fail, [](Pool& p) { return lookup(p, 7); });
    run("lookup(-1)", pool, fail, [](Pool& p) { return lookup(p, -1); });
    run("refresh", pool, fail, [](Pool& p) { return refresh(p); });
    run("bulk(1,2,3)", pool, fail, [](Pool& p) { return bulk(p, {1, 2, 3}); });
    run("bulk(1,0,2)", pool, fail, [](Pool& p) { return bulk(p, {1, 0, 2}); });
    run("bulk(1,-1,2)", pool, fail, [](Pool& p) { return bulk(p, {1, -1, 2}); });
    run("report(brief)", pool, fail, [](Pool& p) { return report(p, true); });
    run("report(full)", pool, fail, [](Pool& p) { return report(p, false); });
  }
  // The lock: a path that returns early and one that throws must not leave it held.
  for (int by : {1, -1, 500, 2}) {
    std::string result;
    try {
      result = "returned " + std::to_string(bump(by));
    } catch (const std::exception& e) {
      result = std::string("threw ") + e.what();
    }
    std::printf("bump(%d): %s; locked=%d\n", by, result.c_str(), locked_now() ? 1 : 0);
    if (locked_now()) return 0;  // a leaked lock would deadlock the next call
  }
  return 0;
}
