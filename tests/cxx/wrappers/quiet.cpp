// Names neither the pool's acquire() nor its release(): found only through the summaries.
#include "pool.h"

int never_given_back(Pool& p) {
  Conn* c = open_conn(p);  // expect: never-closed
  return c->ping();
}
