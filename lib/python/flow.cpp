#include "python/flow.h"

#include <deque>
#include <functional>
#include <unordered_set>

namespace leakfix::python {
namespace {

constexpr std::size_t kMaxStates = 200000;

enum class Exc : unsigned char { None, Implicit, Explicit };
using Tests = ScopeFacts::TestSet;

struct State {
  int node;
  NameSet aliases;   // names holding the handle
  NameSet closures;  // nested functions that captured it
  NameSet truthy, falsy;  // names set to True / False since the acquisition (`close = True`)
  Tests known, equal;     // the outcomes of tests on this path (ScopeFacts::Test)
  Exc exc = Exc::None;
  ExitCause cause;
  int raise_line = 0;
};

struct Key {
  int node;
  NameSet aliases, closures, truthy, falsy;
  Tests known, equal;
  Exc exc;
  bool operator==(const Key&) const = default;
};

struct KeyHash {
  std::size_t operator()(const Key& k) const {
    const std::hash<NameSet> h;
    const std::hash<Tests> t;
    return h(k.aliases) * 31u ^ h(k.closures) * 17u ^ h(k.truthy) * 13u ^ h(k.falsy) * 11u ^ t(k.known) * 5u ^ t(k.equal) * 3u ^
           static_cast<std::size_t>(k.node) * 7u ^ static_cast<std::size_t>(k.exc);
  }
};

class Follower {
 public:
  Follower(const Cfg& cfg, const ScopeFacts& facts, const FlowStart& start) : cfg_(cfg), f_(facts), start_(start) {}

  Outcome run() {
    State s;
    s.node = start_.node;
    for (const auto& [key, equal] : start_.tests) {
      if (key < 0 || static_cast<std::size_t>(key) >= s.known.size()) continue;
      s.known.set(static_cast<std::size_t>(key));
      s.equal.set(static_cast<std::size_t>(key), equal);
    }
    if (start_.acquisition < 0) {
      if (start_.name < 0) return untracked();
      s.aliases.set(static_cast<std::size_t>(start_.name));
      push_successors(s, /*skip_exceptions=*/true);
    } else {
      // Replay the acquiring node from the acquisition on.
      const auto& events = f_.events[static_cast<std::size_t>(start_.node)];
      std::size_t i = 0;
      for (; i < events.size(); ++i) {
        if (events[i].kind == EventKind::Acquire && events[i].acquisition == start_.acquisition) break;
      }
      if (i == events.size() || events[i].name < 0) return untracked();
      s.aliases.set(static_cast<std::size_t>(events[i].name));
      if (!apply(s, events, i + 1)) return std::move(out_);
      push_successors(s, true);
    }
    while (!work_.empty()) {
      if (seen_.size() > kMaxStates) {
        out_.truncated = true;
        break;
      }
      State cur = std::move(work_.front());
      work_.pop_front();
      visit(cur);
    }
    return std::move(out_);
  }

 private:
  Outcome untracked() {
    out_.untracked = true;
    return std::move(out_);
  }

  void leak(const State& s, ExitCause cause) {
    Leak l{cause, s.raise_line};
    if (s.exc == Exc::Implicit) out_.exceptional.push_back(l);
    else out_.normal.push_back(l);
  }

  bool held(const State& s) const { return s.aliases.any() || s.closures.any(); }

  static bool has(const NameSet& set, int name) { return name >= 0 && set.test(static_cast<std::size_t>(name)); }

  // Drops `name` from the holders; the handle is lost when nothing holds it any more.
  bool drop(State& s, int name, ExitCause cause) {
    if (!has(s.aliases, name)) {
      if (has(s.closures, name)) s.closures.reset(static_cast<std::size_t>(name));
      return held(s) || (leak(s, cause), false);
    }
    s.aliases.reset(static_cast<std::size_t>(name));
    if (held(s)) return true;
    leak(s, cause);
    return false;
  }

  // Applies events[from..] to s; returns false when the path ends here.
  bool apply(State& s, const std::vector<Event>& events, std::size_t from) {
    for (std::size_t i = from; i < events.size(); ++i) {
      const Event& e = events[i];
      if (e.name >= 0 && e.kind != EventKind::Release && e.kind != EventKind::WithExit && e.kind != EventKind::Escape &&
          e.kind != EventKind::ClosureUse && e.kind != EventKind::CaptureEscape) {
        // Any binding of a name forgets what was known of it as a flag.
        s.truthy.reset(static_cast<std::size_t>(e.name));
        s.falsy.reset(static_cast<std::size_t>(e.name));
        if (const auto t = f_.tests_of_name.find(e.name); t != f_.tests_of_name.end()) {
          s.known &= ~t->second;
          s.equal &= ~t->second;
        }
      }
      switch (e.kind) {
        case EventKind::BindFlag:
          if ((has(s.aliases, e.name) || has(s.closures, e.name)) && !drop(s, e.name, {ExitWhy::Rebind, e.line})) return false;
          (e.flag ? s.truthy : s.falsy).set(static_cast<std::size_t>(e.name));
          break;
        case EventKind::Acquire: {
          const bool same_call = e.acquisition == start_.acquisition;
          // Going round a loop by `continue` is the more telling cause than the next acquisition.
          const ExitCause cause = same_call && s.cause.why == ExitWhy::Continue
                                      ? s.cause
                                      : ExitCause{same_call ? ExitWhy::Reacquire : ExitWhy::Rebind, e.line};
          if (has(s.aliases, e.name) && !drop(s, e.name, cause)) return false;
          break;
        }
        case EventKind::BindAlias:
          if (has(s.aliases, e.other)) {
            if (e.name >= 0) s.aliases.set(static_cast<std::size_t>(e.name));
          } else if ((has(s.aliases, e.name) || has(s.closures, e.name)) && !drop(s, e.name, {ExitWhy::Rebind, e.line})) {
            return false;
          }
          break;
        case EventKind::BindOther:
          if ((has(s.aliases, e.name) || has(s.closures, e.name)) && !drop(s, e.name, {ExitWhy::Rebind, e.line})) return false;
          break;
        case EventKind::BindClosure:
          if ((e.captured & s.aliases).any()) {
            if (e.name >= 0) s.closures.set(static_cast<std::size_t>(e.name));
          } else if ((has(s.aliases, e.name) || has(s.closures, e.name)) && !drop(s, e.name, {ExitWhy::Rebind, e.line})) {
            return false;
          }
          break;
        case EventKind::Del:
          if ((has(s.aliases, e.name) || has(s.closures, e.name)) && !drop(s, e.name, {ExitWhy::Del, e.line})) return false;
          break;
        case EventKind::Release:
          if (has(s.aliases, e.name)) return released(e.managed);
          break;
        case EventKind::WithExit:
          if (has(s.aliases, e.name) && (e.closing || start_.with_closes)) return released(true);
          break;
        case EventKind::Escape:
          if (has(s.aliases, e.name)) return escaped(e.why, e.detail, e.line);
          break;
        case EventKind::CaptureEscape:
          if ((e.captured & s.aliases).any()) return escaped(e.why, e.detail, e.line);
          break;
        case EventKind::ClosureUse:
          if (has(s.closures, e.name)) {
            const auto gen = f_.closure_is_generator.find(e.name);
            const bool generator = gen != f_.closure_is_generator.end() && gen->second;
            if (!e.called || generator) return escaped(EscapeWhy::Captured, f_.names[static_cast<std::size_t>(e.name)], e.line);
            const auto rel = f_.closure_releases.find(e.name);
            if (rel != f_.closure_releases.end() && (rel->second & s.aliases).any()) return released(false);
          }
          break;
      }
    }
    return true;
  }

  bool released(bool managed) {
    (managed ? out_.released_managed : out_.released_manual) = true;
    return false;
  }

  bool escaped(EscapeWhy why, const std::string& detail, int line) {
    out_.escapes.push_back(EscapeAt{why, detail, line});
    return false;
  }

  void push(State s, int to) {
    s.node = to;
    Key k{to, s.aliases, s.closures, s.truthy, s.falsy, s.known, s.equal, s.exc};
    if (seen_.insert(k).second) work_.push_back(std::move(s));
  }

  void push_successors(const State& post, bool skip_exceptions, const State* pre = nullptr) {
    const auto& n = cfg_.nodes[static_cast<std::size_t>(post.node)];
    const auto guard = f_.guards.find(post.node);
    for (const auto& e : n.succ) {
      State next = post;
      switch (e.kind) {
        case EdgeKind::Exception:
        case EdgeKind::Explicit: {
          if (skip_exceptions && e.kind == EdgeKind::Exception) continue;
          next = pre ? *pre : post;
          // One exception at a time: code that runs while handling one (handlers, finally copies)
          // is not taken to raise a second, and statements that only release do not raise.
          if (e.kind == EdgeKind::Exception && (next.exc == Exc::Implicit || f_.release_only[static_cast<std::size_t>(post.node)])) continue;
          if (next.exc == Exc::None) {
            next.exc = e.kind == EdgeKind::Explicit ? Exc::Explicit : Exc::Implicit;
            next.raise_line = n.line;
            if (e.kind == EdgeKind::Explicit) {
              next.cause = {is(n.ts, "expression_statement") ? ExitWhy::NoReturn : ExitWhy::Raise, n.line};
            }
          }
          break;
        }
        case EdgeKind::True:
        case EdgeKind::False: {
          const bool value = e.kind == EdgeKind::True;
          if (guard != f_.guards.end()) {
            const auto& g = guard->second;
            if (has(post.aliases, g.name) && g.branch != value) continue;
            if (g.plain && has(post.truthy, g.name) && g.branch != value) continue;
            if (g.plain && has(post.falsy, g.name) && g.branch == value) continue;
          }
          if (const auto t = f_.tests.find(post.node); t != f_.tests.end()) {
            const auto key = static_cast<std::size_t>(t->second.key);
            const bool equal = value == t->second.equal_on_true;
            if (post.known.test(key) && post.equal.test(key) != equal) continue;
            next.known.set(key);
            next.equal.set(key, equal);
          }
          if (next.exc == Exc::None && (next.cause.why == ExitWhy::FallOff || next.cause.why == ExitWhy::Branch)) {
            next.cause = {ExitWhy::Branch, n.line, value};
          }
          break;
        }
        case EdgeKind::Normal:
          if (next.exc == Exc::None || next.exc == Exc::Explicit) {
            if (n.kind == CfgKind::Return) next.cause = {ExitWhy::Return, n.line};
            if (n.kind == CfgKind::Break) next.cause = {ExitWhy::Break, n.line};
            if (n.kind == CfgKind::Continue) next.cause = {ExitWhy::Continue, n.line};
            if (n.kind == CfgKind::LoopBack && next.cause.why != ExitWhy::Continue) next.cause = {ExitWhy::LoopBack, n.line};
            if (n.kind == CfgKind::Return && next.exc == Exc::Explicit) next.exc = Exc::None;
          }
          break;
        case EdgeKind::Propagate: break;
      }
      push(std::move(next), e.to);
    }
  }

  void visit(State& s) {
    if (s.node == cfg_.exit_normal) {
      if (f_.module_like) {
        if (s.exc == Exc::None) escaped(EscapeWhy::Global, "", start_.scope_end_line);
        return;
      }
      ExitCause cause = s.cause;
      if (cause.why == ExitWhy::FallOff) cause.line = start_.scope_end_line;
      leak(s, cause);
      return;
    }
    if (s.node == cfg_.exit_raise) {
      if (!f_.module_like) leak(s, s.cause);
      return;
    }
    const State pre = s;
    const auto& events = f_.events[static_cast<std::size_t>(s.node)];
    if (!apply(s, events, 0)) return;
    push_successors(s, false, &pre);
  }

  const Cfg& cfg_;
  const ScopeFacts& f_;
  const FlowStart& start_;
  Outcome out_;
  // Breadth first: the shortest path to each state is the one kept, so a message names the
  // nearest leaking exit.
  std::deque<State> work_;
  std::unordered_set<Key, KeyHash> seen_;
};

}  // namespace

Outcome follow(const Cfg& cfg, const ScopeFacts& facts, const FlowStart& start) {
  return Follower(cfg, facts, start).run();
}

}  // namespace leakfix::python
