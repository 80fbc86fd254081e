// A pool that counts what is out, and a source of connections through a base class.
#pragma once
#include <cstdio>
#include <cstdlib>
#include <memory>

extern int outstanding;
extern int released_twice;

struct Conn {
  int id = 0;
  bool out = false;
  int ping() noexcept { return id; }
};

struct Pool {
  Conn conns[8];
  Conn* acquire() {
    for (auto& c : conns) {
      if (!c.out) {
        c.out = true;
        ++outstanding;
        return &c;
      }
    }
    std::abort();
  }
  void release(Conn* c) noexcept {
    if (!c->out) ++released_twice;
    c->out = false;
    --outstanding;
  }
};

// A pool whose handles are objects, given back by hand.
struct SharedPool {
  std::shared_ptr<Conn> acquire() {
    ++outstanding;
    auto c = std::make_shared<Conn>();
    c->out = true;
    return c;
  }
  void release(std::shared_ptr<Conn> c) noexcept {
    if (!c->out) ++released_twice;  // a shared handle starts in, and goes out once
    c->out = false;
    --outstanding;
  }
};

// A source of connections: callers hold the base.
struct Source {
  virtual Conn* grab() = 0;
  virtual ~Source() = default;
};

struct PoolSource : Source {
  explicit PoolSource(Pool& p) : pool(p) {}
  Conn* grab() override { return pool.acquire(); }  // expect: escapes
  Pool& pool;
};

// A wrapper defined in the header, inline.
inline Conn* open_inline(Pool& p) { return p.acquire(); }  // expect: escapes

// A leak in a header is reported once, in the header, whichever files include it; its fix is
// left to the header's owner.
inline int header_leak(Pool& p, bool early) {
  Conn* c = p.acquire();  // expect: leaky-path
  if (early) return 0;
  p.release(c);
  return 1;
}

// Defined in util.cpp: a wrapper, and a helper that releases its third argument.
Conn* open_conn(Pool& p);
void err_msg(int code, Pool& db, Conn* c);
