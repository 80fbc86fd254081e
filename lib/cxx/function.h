#pragma once
// One function of a translation unit, analysed by stages that each live in their own file:
// flow.cpp follows every path of Clang's CFG from an acquisition, verdict.cpp turns what the
// paths do into a finding (the rule core/finding.h gives both languages), rewrite.cpp plans the
// RAII rewrite and says why when it cannot. summaries.cpp reads what a function does for its
// callers (returns a handle, releases a parameter), across translation units.
#include <clang/AST/ASTContext.h>
#include <clang/AST/Expr.h>
#include <clang/AST/ExprCXX.h>
#include <clang/AST/ParentMap.h>
#include <clang/Analysis/CFG.h>
#include <clang/Basic/SourceManager.h>
#include <fmt/format.h>

#include <map>
#include <set>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/finding.h"
#include "core/result.h"
#include "core/rule.h"
#include "cxx/ast.h"

namespace leakfix::cxx {

struct Acquisition {
  const CallExpr* call;
  const Rule* rule;
  const Acquirer* acquirer;
};

struct Outcome {
  std::vector<std::pair<int, std::string>> leaks;  // line and label of each leaking exit
  std::vector<int> throws;                         // calls that may throw while held
  std::optional<std::pair<int, std::string>> escape;
  int released = 0;
  bool returned = false;  // the escape is a return of the handle
  // A path that releases it again after a release: the lines of the first and second release.
  std::optional<std::pair<int, int>> released_twice;
};

// What a function does for its callers (summaries.cpp): it returns a handle it acquired, or it
// releases a parameter. The driver adds what the translation units found to the rules and
// analyses the callers again, in whichever translation unit they are.
struct Summary {
  std::string rule;      // the id of the rule whose handle it is
  std::string function;  // its qualified name: "open_conn", "db::ShardPool::grab"
  std::string wraps;     // an acquirer: the call whose handle it returns ("Pool::acquire")
  int releases = -1;     // a release helper: the 0-based parameter it releases
};

// What one translation unit gives.
struct TuOutput {
  std::vector<Finding> findings;
  std::vector<Summary> summaries;
  std::map<std::string, std::string> headers;  // the project headers findings are in: display -> path
  std::set<std::string> knew;  // the discovered functions its analysis already used (summaries' names)
};

class FunctionAnalysis {
 public:
  FunctionAnalysis(ASTContext& ctx, const FunctionDecl* fd, const std::vector<Rule>& rules, TuOutput& out,
                   const std::string& file)
      : ctx_(ctx), sm_(ctx.getSourceManager()), fd_(fd), rules_(rules), out_(out.findings), summaries_(out.summaries),
        headers_(out.headers), file_(file), parents_(fd->getBody()) {}

  void run();

 private:
  void collect(const Stmt* s);

  // Summaries (summaries.cpp): whether this function's summary means anything to callers (code
  // of the project, not a lambda); a function that returns the handle of `a`; the parameters
  // it releases.
  bool summarisable() const;
  void note_wrapper(const Acquisition& a);
  void note_release_helpers();

  int line(SourceLocation loc) const;

  // A full expression without the cleanups of its temporaries (`db.free("name", c);`).
  static const Stmt* bare(const Stmt* s);

  // Which way a condition says the handle is null: true for `!c` and `c == nullptr`, false
  // for `c` and `c != nullptr`; nullopt when it says nothing about it.
  std::optional<bool> null_when(const Expr* cond, const Handle& h) const;

  const Stmt* parent(const Stmt* s) const;

  // The handle, or a local it was copied to (`Conn* d = c;`).
  bool is_handle(const Expr* e, const Handle& h) const;

  // Whether a call releases the handle.
  bool releases(const Stmt* s, const Acquisition& a, const Handle& h) const;

  // A release written here, not one inside a helper the call reaches.
  bool direct_release(const Stmt* s, const Acquisition& a, const Handle& h) const;

  bool releases_within(const Stmt* s, const Acquisition& a, const Handle& h) const;

  static bool nothrow(const FunctionDecl* f);

  // A call that may throw while the handle is held, outside a try whose handler releases it.
  bool may_throw(const Stmt* s, const Acquisition& a, const Handle& h) const;

  std::string jump_label(const Stmt* s) const;

  // Follows every path of the CFG from the acquisition.
  Outcome follow(const Acquisition& a, const Handle& h, const Stmt* anchor);

  // The blocks a path goes on to, without the branch on which the handle is null.
  std::vector<const CFGBlock*> successors(const CFGBlock* b, const Acquisition& a, const Handle& h) const;

  // Whether s is a call to an acquirer of the rule (a path that takes another handle).
  static bool acquires(const Stmt* s, const Rule& r);

  // The line of a second release of the handle on a path that starts at element `index` of
  // `block`, just after a release; a path that acquires again, or assigns the handle, ends.
  std::optional<int> released_again(const Acquisition& a, const Handle& h, const CFGBlock* block, unsigned index,
                                    const Stmt* anchor) const;

  // Where the acquired value goes; nullopt when it is managed (a guard or smart pointer takes it).
  struct Use {
    enum { Held, Receiver, Returned, Stored, Discarded, Managed } what = Held;
    const Stmt* anchor = nullptr;
    Handle handle;
    std::string detail;
    // The handle is an object (`std::shared_ptr<Conn> c = pool.acquire();`): its destructor may
    // give it back (a deleter), so only code that releases it by hand on some path is judged.
    bool object = false;
  };

  Use use_of(const Acquisition& a) const;

  // A class that acquires into a member and releases it in its destructor is a guard.
  bool released_by_destructor(const ValueDecl* field) const;

  // Where a 1-based line of the main file starts; the size of the file past its last line.
  std::size_t line_start(unsigned ln) const;

  std::string line_text(unsigned ln) const;

  bool suppressed(int at_line, const std::string& rule) const;
  // A project header's display path (relative to the working directory), for a location in
  // one; nullopt for the main file, a system header, or a header outside the project.
  std::optional<std::string> project_header(SourceLocation loc) const;
  // Whether line `at_line` (or the one above) of a header says `leakfix: ignore`.
  bool suppressed_in(FileID file, int at_line, const std::string& rule) const;

  void analyze(const Acquisition& a);

  // ---- the rewrite -------------------------------------------------------------------------

  bool mentions(const Stmt* s, const Handle& h) const;

  std::uint32_t offset(SourceLocation loc) const;

  // Statement-level releases inside s (not inside lambdas).
  void release_statements(const Stmt* s, const Acquisition& a, const Handle& h, std::vector<const Stmt*>& out, bool& other) const;

  static bool is_loop(const Stmt* s);

  bool within(const Stmt* inner, const Stmt* outer) const;

  // Dropping a release keeps the handle until the block ends: nothing may run after it inside
  // the block on that path, except leaving the block.
  std::optional<std::string> safe_to_drop(const Stmt* r, const Acquisition& a, const Handle& h, const CompoundStmt* block,
                                          const std::vector<const Stmt*>& region) const;

  static std::string indent_of(std::string_view text);

  std::optional<std::string> pick_name(const std::string& want) const;

  // A class of this TU built from the pool that acquires in its constructor and releases in its
  // destructor, with operator-> (and get() for plain pointer uses).
  const CXXRecordDecl* find_guard(const Acquisition& a, QualType pool_type, bool& has_get) const;

  void plan_fix(const Acquisition& a, const Use& u, Finding& f);

  static std::string function_name(const FunctionDecl* fd);

  std::optional<std::string> rewrite(const Acquisition& a, const Use& u, Finding& f);

  // A guard holds the handle to the end of its block. When the code gives it back and then takes
  // another from the same pool inside that block, the guard would hold both at once: the order of
  // the pool's operations would change (and a pool of one would deadlock).
  std::optional<std::string> reacquired_while_guarded(const Acquisition& a, const std::vector<const Stmt*>& drops,
                                                      const std::vector<const Stmt*>& region) const;

  // The line of the first `return h;` in s (not in a lambda).
  std::optional<int> returned_at(const Stmt* s, const Handle& h) const;

  // What the deleter of a unique_ptr does: the release as the code writes it, receiver (`.` or
  // `->`) and every other argument kept, with the handle replaced by the deleter's parameter.
  // Every release the rewrite drops must be the same call, and what it names must exist where
  // the deleter is declared (at the acquisition). `param` names the deleter's parameter.
  leakfix::Result<std::string> deleter_body(const std::vector<const Stmt*>& drops, const Handle& h, const Stmt* anchor,
                                            const std::string& param) const;

  std::string include_;  // the header the rewrite's guard needs

  ASTContext& ctx_;
  const SourceManager& sm_;
  const FunctionDecl* fd_;
  const std::vector<Rule>& rules_;
  std::vector<Finding>& out_;
  std::vector<Summary>& summaries_;
  std::map<std::string, std::string>& headers_;
  std::string file_;
  ParentMap parents_;
  std::vector<Acquisition> acquisitions_;
  std::unique_ptr<CFG> cfg_;
  mutable int depth_ = 0;
  mutable std::vector<const ValueDecl*> aliases_;  // of the acquisition being followed
  mutable std::vector<std::size_t> line_starts_;   // of the main file, built on first use
  mutable std::size_t buffer_size_ = 0;
};

}  // namespace leakfix::cxx
