#include <initializer_list>

#include "pool.h"

int leaky_caller(Pool& p, bool bad);
int helper_releases(Pool& p, int code);
int through_base(Source& s, Pool& p, bool early);
int inline_wrapper(Pool& p, bool early);
int never_given_back(Pool& p);
int shared_early(SharedPool& sp, bool early);

int main() {
  Pool pool;
  SharedPool shared;
  PoolSource source(pool);
  int total = 0;
  for (bool flag : {false, true}) {
    total += leaky_caller(pool, flag);
    total += helper_releases(pool, flag ? 3 : 0);
    total += through_base(source, pool, flag);
    total += inline_wrapper(pool, flag);
    total += shared_early(shared, flag);
  }
  total += never_given_back(pool);
  std::printf("total=%d outstanding=%d released_twice=%d\n", total, outstanding, released_twice);
  return 0;
}
