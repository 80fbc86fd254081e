// The project's helpers, in a translation unit of their own.
#include "pool.h"

int outstanding = 0;
int released_twice = 0;

Conn* open_conn(Pool& p) {
  Conn* c = p.acquire();  // expect: escapes
  c->id = 7;
  return c;
}

void err_msg(int code, Pool& db, Conn* c) {
  std::printf("error %d\n", code);
  db.release(c);
}
