#include "python/fixer.h"

#include <algorithm>
#include <map>
#include <tuple>

#include <fmt/format.h>

#include "python/rewrite.h"
#include "python/tree.h"

namespace leakfix::python {

int error_count(const ParsedFile& file) {
  int count = 0;
  std::vector<TSNode> stack{file.root()};
  while (!stack.empty()) {
    const TSNode n = stack.back();
    stack.pop_back();
    if (!ts_node_has_error(n)) continue;
    if (is(n, "ERROR") || ts_node_is_missing(n)) ++count;
    for (uint32_t i = 0; i < ts_node_child_count(n); ++i) stack.push_back(ts_node_child(n, i));
  }
  return count;
}

namespace {

std::string with_bom(const SourceFile& source, std::string_view text) {
  return std::string(source.bytes().substr(0, source.bom_size())) + std::string(text);
}

Finding failed_with(Finding f, std::string why) {
  f.fixable = false;
  f.reason = std::move(why);
  f.fix.reset();
  return f;
}

// Line numbers move with a rewrite: findings are compared by what they are about.
using FindingKey = std::tuple<std::string, std::string, std::string, Kind>;
FindingKey key_of(const Finding& f) { return {f.rule, f.function, f.variable, f.kind}; }

}  // namespace

std::optional<std::string> verify_rewrite(const Finding& fixed, const std::vector<Finding>& before_findings,
                                          const std::vector<Finding>& after_findings) {
  std::map<FindingKey, int> count;
  std::map<std::pair<std::string, std::string>, int> in_function;
  for (const auto& f : before_findings) {
    ++count[key_of(f)];
    ++in_function[{f.rule, f.function}];
  }
  --count[key_of(fixed)];
  for (const auto& f : after_findings) {
    if (--count[key_of(f)] < 0) {
      return fmt::format("verification failed: the rewrite would leave a new {} finding in {} ({})", to_string(f.kind), f.function,
                         f.message);
    }
    --in_function[{f.rule, f.function}];
  }
  if (in_function[{fixed.rule, fixed.function}] < 1)
    return fmt::format("verification failed: after the rewrite the {} in {} is still reported", fixed.variable.empty() ? "resource" : "`" + fixed.variable + "`",
                       fixed.function);
  return std::nullopt;
}

std::optional<std::string> apply_fix(const SourceFile& source, const Fix& fix, std::string* why) {
  const std::string body = apply_edits(source.text(), fix.edits);
  std::string text = body;
  if (!fix.imports.empty() || !fix.maybe_unused.empty()) {
    const SourceFile middle(source.path(), with_bom(source, body));
    const ParsedFile parsed(middle);
    const auto imports = import_edits(parsed, fix.imports, fix.maybe_unused);
    if (!imports.empty()) text = apply_edits(middle.text(), imports);
  }
  const SourceFile result(source.path(), with_bom(source, text));
  const ParsedFile check(result);
  // The original is parsed only to excuse errors it had already.
  if (const int errors = error_count(check); errors > 0 && errors > error_count(ParsedFile(source))) {
    if (why) *why = "the rewritten code would not parse; please report this";
    return std::nullopt;
  }
  return result.bytes();
}

FileFixResult fix_file(const SourceFile& source, const Knowledge& project_knowledge,
                       const std::function<bool(const Finding&)>& want, const Decide& decide, const Prepare& prepare) {
  Knowledge knowledge = project_knowledge;
  knowledge.fix_edits = true;
  FileFixResult out;
  out.before = source.bytes();
  SourceFile current = source;
  bool all = false;
  std::uint32_t cursor = 0;
  std::vector<Finding> last_scan;
  {
    const ParsedFile parsed(current);
    last_scan = analyze_file(parsed, knowledge).findings;
    sort_findings(last_scan);
  }
  // The findings of `current` are kept up to date: each applied rewrite's check analysed it.
  // A pass goes through the file once; another follows when one applied something, since a
  // rewrite can make an earlier one possible (two files closed in one finally). So a second
  // `fix` finds nothing left to do. Each round rewrites at most one finding; the bound only
  // guards against a rewrite that keeps finding something to do.
  auto declined = [&](const Finding& f) {
    return std::any_of(out.skipped.begin(), out.skipped.end(), [&](const Finding& s) { return key_of(s) == key_of(f); });
  };
  std::size_t applied_before_pass = 0;
  int pass = 0;
  for (int round = 0; round < 10000; ++round) {
    const Finding* next = nullptr;
    for (const auto& f : last_scan) {
      if (!f.fix || !want(f) || f.fix->begin() < cursor || declined(f)) continue;
      if (!next || f.fix->begin() < next->fix->begin()) next = &f;
    }
    if (!next && !out.quit && out.applied.size() > applied_before_pass && ++pass < 4) {
      applied_before_pass = out.applied.size();
      cursor = 0;
      --round;
      continue;
    }
    if (!next || out.quit) break;
    const Finding f = *next;
    cursor = f.fix->begin() + 1;
    std::string why;
    auto rewritten = apply_fix(current, *f.fix, &why);
    if (!rewritten) {
      out.failed.push_back(failed_with(f, why));
      continue;
    }
    // Verified before it is offered: the rewritten file is analysed again.
    std::vector<Finding> after_scan;
    {
      const SourceFile candidate(current.path(), *rewritten);
      const ParsedFile parsed(candidate);
      after_scan = analyze_file(parsed, knowledge).findings;
    }
    if (auto problem = verify_rewrite(f, last_scan, after_scan)) {
      out.failed.push_back(failed_with(f, *problem));
      continue;
    }
    // A context manager to create elsewhere: asked for once, before the first fix that needs it.
    bool refused = false;
    for (const auto& c : f.fix->creates) {
      const auto no = prepare ? prepare(c) : std::optional<std::string>(fmt::format("it needs {}() created in {}", c.name, c.file));
      if (no) {
        out.failed.push_back(failed_with(f, *no));
        refused = true;
        break;
      }
    }
    if (refused) continue;
    const std::string proposed = *rewritten;
    Decision d = all ? Decision::Apply : decide(f, current.bytes(), *rewritten);
    if (*rewritten != proposed) {
      // Edited by hand in the review: taken as written if it parses as cleanly as the rewrite.
      const SourceFile edited(current.path(), *rewritten);
      const ParsedFile a(edited), b(SourceFile(current.path(), proposed));
      if (error_count(a) > error_count(b)) {
        out.failed.push_back(failed_with(f, "the edited rewrite does not parse; left as it was"));
        continue;
      }
      const ParsedFile again(edited);
      after_scan = analyze_file(again, knowledge).findings;
    }
    if (d == Decision::ApplyRestOfFile) {
      all = true;
      d = Decision::Apply;
    }
    if (d == Decision::Quit) {
      out.quit = true;
      break;
    }
    if (d == Decision::Skip) {
      out.skipped.push_back(f);
      continue;
    }
    out.applied.push_back(f);
    for (const auto& c : f.fix->creates) knowledge.targets->commit(c);
    SourceFile next_source(current.path(), std::move(*rewritten));
    current = std::move(next_source);
    sort_findings(after_scan);
    last_scan = std::move(after_scan);
  }
  out.after = current.bytes();
  out.left = std::move(last_scan);
  // A fix that failed in one pass and was applied in a later one did not fail; one that failed
  // in several passes is listed once, with its last reason.
  std::vector<Finding> failed;
  for (auto it = out.failed.rbegin(); it != out.failed.rend(); ++it) {
    const auto k = key_of(*it);
    const bool still_there = std::any_of(out.left.begin(), out.left.end(), [&](const Finding& l) { return key_of(l) == k; });
    if (!still_there) continue;
    if (std::none_of(failed.begin(), failed.end(), [&](const Finding& f) { return key_of(f) == k; })) failed.push_back(*it);
  }
  std::reverse(failed.begin(), failed.end());
  out.failed = std::move(failed);
  return out;
}

FileFixResult PythonFrontend::fix_file(const SourceFile& source, const std::string&, const std::vector<Finding>&,
                                       const std::function<bool(const Finding&)>& want, const Decide& decide, bool) {
  // The findings are those of each rewritten text, found again after every fix.
  return python::fix_file(source, knowledge_, want, decide, prepare_);
}

}  // namespace leakfix::python
