// Routes of a service that take connections by hand.
#include "service.h"

int lookup(Pool& pool, int id) {
  Conn* c = pool.acquire();  // expect: leaky-path
  if (id < 0) return -1;
  int n = c->query("SELECT name FROM items WHERE id = ?");
  pool.release(c);
  return n + id;
}

int refresh(Pool& pool) {
  Conn* c = pool.acquire();  // expect: exception-unsafe
  int n = c->query("REFRESH MATERIALIZED VIEW stats");
  pool.release(c);
  return n;
}

int bulk(Pool& pool, const std::vector<int>& ids) {
  int done = 0;
  for (int id : ids) {
    Conn* c = pool.acquire();  // expect: leaky-path
    if (id == 0) continue;
    if (id < 0) break;
    c->query("UPDATE items SET seen = 1");
    pool.release(c);
    ++done;
  }
  return done;
}

int report(Pool& pool, bool brief) {
  Conn* c = pool.acquire();  // expect: manual-safe
  if (brief) {
    pool.release(c);
    return 0;
  }
  try {
    int n = c->query("SELECT count(*) FROM items");
    pool.release(c);
    return n;
  } catch (...) {
    pool.release(c);
    throw;
  }
}
