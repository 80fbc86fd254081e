// Callers of the wrappers: this file names no acquire() of its own.
#include "pool.h"

int leaky_caller(Pool& p, bool bad) {
  Conn* c = open_conn(p);  // expect: leaky-path
  if (bad) return -1;
  int n = c->ping();
  p.release(c);
  return n;
}

int helper_releases(Pool& p, int code) {
  Conn* c = open_conn(p);  // expect: manual-safe
  if (code) {
    err_msg(code, p, c);
    return -1;
  }
  int n = c->ping();
  p.release(c);
  return n;
}

int through_base(Source& s, Pool& p, bool early) {
  Conn* c = s.grab();  // expect: leaky-path
  if (early) return 0;
  int n = c->ping();
  p.release(c);
  return n;
}

int inline_wrapper(Pool& p, bool early) {
  Conn* c = open_inline(p);  // expect: leaky-path
  if (early) return 1;
  p.release(c);
  return 2;
}

int shared_early(SharedPool& sp, bool early) {
  std::shared_ptr<Conn> c = sp.acquire();  // expect: leaky-path
  if (early) return 4;
  int n = c->ping();
  sp.release(c);
  return n;
}
