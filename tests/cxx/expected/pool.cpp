// Pools and mutexes handled by hand, and by guards. Each acquisition says what leakfix must find.
#include <mutex>
#include <stdexcept>
#include <vector>

struct Conn {
  int query(const char* sql);           // may throw
  int ping() noexcept;
};

struct Pool {
  Conn* acquire();
  void release(Conn* c) noexcept;
};

// The code base's own guard: not a finding.
class ScopedConnection {
 public:
  explicit ScopedConnection(Pool& p) : pool_(p), conn_(p.acquire()) {}
  ~ScopedConnection() { pool_.release(conn_); }
  Conn* operator->() const { return conn_; }

 private:
  Pool& pool_;
  Conn* conn_;
};

int early_return(Pool& pool, bool fast) {
  ScopedConnection c(pool);  // expect: leaky-path
  if (fast) return 0;
  int n = c->ping();
  return n;
}

int released_everywhere_but_throws(Pool& pool) {
  ScopedConnection c(pool);  // expect: exception-unsafe
  int n = c->query("SELECT 1");
  return n;
}

int never_released(Pool& pool) {
  ScopedConnection c(pool);  // expect: never-closed
  return c->ping();
}

int manual_on_every_path(Pool& pool, bool fast) {
  ScopedConnection c(pool);  // expect: manual-safe
  if (fast) {
    return 0;
  }
  int n = c->ping();
  return n;
}

int caught_and_released(Pool& pool) {
  ScopedConnection c(pool);  // expect: manual-safe
  try {
    int n = c->query("SELECT 1");
    return n;
  } catch (...) {
    throw;
  }
}

Conn* wrapper(Pool& pool) {
  Conn* c = pool.acquire();  // expect: escapes
  c->ping();
  return c;
}

struct Holder {
  Conn* kept = nullptr;
  void keep(Pool& pool) {
    kept = pool.acquire();  // expect: escapes
  }
};

int loop_break(Pool& pool, const std::vector<int>& ids) {
  int done = 0;
  for (int id : ids) {
    {
      ScopedConnection c(pool);  // expect: leaky-path
      if (id < 0) break;
      c->ping();
    }
    ++done;
  }
  return done;
}

int guarded(Pool& pool) {
  ScopedConnection c(pool);
  return c->ping();
}

void discarded(Pool& pool) {
  pool.acquire();  // expect: never-closed
}

int suppressed(Pool& pool) {
  Conn* c = pool.acquire();  // leakfix: ignore[pool-acquire]
  return c->ping();
}

std::mutex m;
int shared_counter = 0;

int lock_early_return(bool stop) {
  std::lock_guard guard(m);  // expect: leaky-path
  if (stop) return -1;
  int v = ++shared_counter;
  return v;
}

int lock_guarded() {
  std::lock_guard<std::mutex> g(m);
  return ++shared_counter;
}

int lock_manual() {
  std::lock_guard guard(m);  // expect: manual-safe
  int v = ++shared_counter;
  return v;
}

int lock_throws(Conn& c) {
  std::lock_guard guard(m);  // expect: exception-unsafe
  int v = c.query("UPDATE counters SET n = n + 1");
  return v;
}

// Managed: a unique_ptr with a releasing deleter, and a scope-exit helper.
#include <functional>
#include <memory>

struct ScopeExit {
  std::function<void()> f;
  ~ScopeExit() { f(); }
};

int smart_pointer(Pool& pool) {
  std::unique_ptr<Conn, std::function<void(Conn*)>> c(pool.acquire(), [&pool](Conn* x) { pool.release(x); });
  return c->ping();
}

int scope_exit(Pool& pool) {
  Conn* c = pool.acquire();
  ScopeExit done{[&] { pool.release(c); }};
  return c->query("SELECT 1");
}

// Released by a helper of this file: one level of calls is followed.
void give_back(Pool& pool, Conn* c) { pool.release(c); }

int released_by_helper(Pool& pool) {
  Conn* c = pool.acquire();  // expect: manual-safe
  int n = c->ping();
  give_back(pool, c);
  return n;
}

int loop_continue(Pool& pool, const std::vector<int>& ids) {
  int done = 0;
  for (int id : ids) {
    {
      ScopedConnection c(pool);  // expect: leaky-path
      if (id < 0) continue;
      c->ping();
    }
    ++done;
  }
  return done;
}

int explicit_throw(Pool& pool, int id) {
  ScopedConnection c(pool);  // expect: leaky-path
  if (id < 0) throw std::invalid_argument("negative id");
  int n = c->ping();
  return n;
}

int with_goto(Pool& pool, int id) {
  Conn* c = pool.acquire();  // expect: leaky-path
  if (id < 0) goto out;
  c->ping();
  pool.release(c);
out:
  return id;
}

int other_locks(std::mutex& mu, std::timed_mutex& tm) {
  std::unique_lock<std::mutex> a(mu);
  std::scoped_lock b(tm);
  return 1;
}

int recursive_lock(std::recursive_mutex& rm, bool stop) {
  std::lock_guard guard(rm);  // expect: never-closed
  if (stop) return 0;
  return 1;
}
