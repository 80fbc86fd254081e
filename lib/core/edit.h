#pragma once
// Text edits a front end proposes for one finding, and applying them.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace leakfix {

// Replace [begin, end) of SourceFile::text() (after any byte-order mark) with `text`.
struct Edit {
  std::uint32_t begin = 0;
  std::uint32_t end = 0;
  std::string text;

  bool operator==(const Edit&) const = default;
};

// An import a rewrite needs: `from module import name`, or `import name` when module is empty.
struct ImportNeed {
  std::string module;
  std::string name;

  auto operator<=>(const ImportNeed&) const = default;
};

// How a handle is given back: `handle.close()` (method set) or `release(handle)` (function set,
// the callee as the code writes it: release_db_connection, pool.putconn).
struct ReleaseUse {
  std::string method;
  std::string function;
  bool empty() const { return method.empty() && function.empty(); }
  bool operator==(const ReleaseUse&) const = default;
  std::string describe(std::string_view handle) const {
    return method.empty() ? function + "(" + std::string(handle) + ")" : std::string(handle) + "." + method + "()";
  }
};

// A context manager a fix needs that the project does not have yet: created once, next to the
// acquirer's definition, and shown as its own hunk first.
struct Creation {
  std::string file;      // where the acquirer is defined
  std::string name;      // connection_ctx
  std::string acquirer;  // get_db_connection
  std::string variable;  // what the handle is called inside it: conn
  ReleaseUse release;
  bool operator==(const Creation&) const = default;
};

// How one finding is rewritten.
struct Fix {
  std::vector<Edit> edits;                // sorted, not overlapping
  std::vector<ImportNeed> imports;        // added by the file-level pass, once per file
  std::vector<std::string> maybe_unused;  // names whose import goes when nothing uses them afterwards
  std::string summary;                    // "with connection_ctx() as conn"
  std::string target;                     // which managed form was chosen, and why
  std::vector<Creation> creates;          // what must be created elsewhere for it (at most one)

  std::uint32_t begin() const { return edits.empty() ? 0 : edits.front().begin; }
  std::uint32_t end() const { return edits.empty() ? 0 : edits.back().end; }
};

// Whether two fixes touch a common range (then they cannot be applied in one pass).
bool overlap(const Fix& a, const Fix& b);

// Applies edits that do not overlap, in any order.
std::string apply_edits(std::string_view text, std::vector<Edit> edits);

}  // namespace leakfix
