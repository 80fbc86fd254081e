// A small connection pool that counts the handles it has lent and not got back.
#pragma once
#include <stdexcept>
#include <string>

struct Conn {
  int id = 0;
  bool fail = false;  // the next query throws
  int query(const std::string& sql) {
    if (fail) throw std::runtime_error("query failed: " + sql);
    return static_cast<int>(sql.size()) + id;
  }
};

class Pool {
 public:
  Conn* acquire() {
    ++outstanding_;
    conn_.id = ++lent_;
    conn_.fail = fail_next_;
    return &conn_;
  }
  void release(Conn* c) noexcept {
    if (c) --outstanding_;
  }
  int outstanding() const { return outstanding_; }
  void fail_next(bool f) { fail_next_ = f; }

 private:
  Conn conn_;
  int outstanding_ = 0;
  int lent_ = 0;
  bool fail_next_ = false;
};
