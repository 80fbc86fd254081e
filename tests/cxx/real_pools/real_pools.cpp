// Shapes of real connection pools: the pool held through a pointer, a release that takes more
// than the handle, a release with a temporary argument, a handle logged through a macro, a
// spinlock whose acquire() returns nothing, a path through std::exit(), and a null check.
// main() runs every function and prints how many handles are still out.
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>

struct Conn {
  int id = 0;
  int ping() const noexcept { return id; }
  int query(int x) const {
    if (x < 0) throw std::runtime_error("bad query");
    return x + id;
  }
};

static int outstanding = 0;

struct Pool {
  Conn conns[8];
  int next = 0;
  Conn* acquire() {
    ++outstanding;
    Conn* c = &conns[next++ % 8];
    c->id = next;
    return c;
  }
  void release(Conn*) noexcept { --outstanding; }
  void free(const std::string&, Conn*) noexcept { --outstanding; }
};

struct Shards {
  Pool pools[2];
  void free_shard(int key, Conn* c) noexcept { pools[key % 2].release(c); }
};

#define LOG_ERROR(fmt, value) std::fprintf(stderr, fmt, value)

struct SpinLock {
  bool held = false;
  void acquire() { held = true; }
  void release() { held = false; }
};

int through_pointer(Pool* pool, bool fast) {
  Conn* c = pool->acquire();  // expect: leaky-path
  if (fast) return 0;
  int n = c->ping();
  pool->release(c);
  return n;
}

int shard_release(Shards& shards, Pool* pool, int key, bool fast) {
  Conn* c = pool->acquire();  // expect: leaky-path
  if (fast) return -1;
  int n = c->ping();
  shards.free_shard(key, c);
  return n;
}

int temporary_argument(Pool& db, int x) {
  Conn* c = db.acquire();  // expect: exception-unsafe
  int n = c->query(x);
  db.free("name", c);
  return n;
}

int logged(Pool* pool, bool fast) {
  Conn* c = pool->acquire();  // expect: leaky-path
  LOG_ERROR("conn %p\n", static_cast<void*>(c));
  if (fast) return 0;
  int n = c->ping();
  pool->release(c);
  return n;
}

int spin(SpinLock& lock) {
  lock.acquire();
  int held = lock.held ? 1 : 0;
  lock.release();
  return held;
}

int exits(Pool& pool, bool die) {
  Conn* c = pool.acquire();  // expect: manual-safe
  if (die) {
    std::puts("exiting");
    std::exit(3);
  }
  int n = c->ping();
  pool.release(c);
  return n;
}

int null_checked(Pool& pool) {
  Conn* c = pool.acquire();  // expect: manual-safe
  if (!c) return -1;
  int n = c->ping();
  pool.release(c);
  return n;
}

// Two handles from one pool, one after the other, on purpose: a guard for the first would still
// hold it when the second is taken. Not rewritten.
int interleaved(Pool& pool) {
  Conn* first = pool.acquire();  // expect: manual-safe
  int n = first->ping();
  pool.release(first);
  Conn* second = pool.acquire();  // expect: manual-safe
  n += second->ping();
  pool.release(second);
  return n;
}

// Handed on by one path, dropped by the other: leaky-path, as the same shape is in Python.
Conn* returned_or_dropped(Pool& pool, bool keep) {
  Conn* c = pool.acquire();  // expect: leaky-path
  if (keep) return c;
  return nullptr;
}

int main() {
  Pool pool;
  Shards shards;
  SpinLock lock;
  int total = 0;
  for (bool fast : {false, true}) {
    total += through_pointer(&pool, fast);
    total += shard_release(shards, &pool, 3, fast);
    total += logged(&pool, fast);
  }
  for (int x : {1, -1}) {
    try {
      total += temporary_argument(pool, x);
    } catch (const std::exception& e) {
      std::printf("caught %s\n", e.what());
    }
  }
  total += spin(lock) + exits(pool, false) + null_checked(pool) + interleaved(pool);
  // The path that is not fixed is not run; the wrapper's caller is analysed through its summary.
  if (Conn* c = returned_or_dropped(pool, true)) pool.release(c);  // expect: manual-safe
  std::printf("total=%d outstanding=%d\n", total, outstanding);
  return 0;
}
