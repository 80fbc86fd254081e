// A pool with no guard class: fixes fall back to std::unique_ptr with a releasing deleter.
#include <stdexcept>
#include <memory>

struct Conn {
  int query(const char* sql);
};

struct Pool {
  Conn* acquire();
  void release(Conn* c) noexcept;
};

int count(Conn* c);
bool healthy(const Conn* c);

int lookup(Pool& pool, bool cached) {
  auto c_release = [&](Conn* p) { pool.release(p); };
  std::unique_ptr<Conn, decltype(c_release)> c(pool.acquire(), c_release);  // expect: leaky-path
  if (cached) return 0;
  int n = c->query("SELECT 1") + count(c.get());
  if (c.get() == nullptr || !healthy(c.get())) {
    throw std::runtime_error("unhealthy");
  }
  return n;
}

class Service {
 public:
  int refresh() {
    auto c_release = [&](Conn* p) { pool_.release(p); };
    std::unique_ptr<Conn, decltype(c_release)> c(pool_.acquire(), c_release);  // expect: exception-unsafe
    int n = c->query("REFRESH");
    return n;
  }

 private:
  Pool pool_;
};

#include <vector>

void remember(Pool& pool, std::vector<Conn*>& open) {
  Conn* c = pool.acquire();  // expect: escapes
  open.push_back(c);
}
