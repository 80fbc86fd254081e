#pragma once
// Rewrites an acquisition held in a name into a `with` block: the rule's context manager,
// contextlib.closing() or the handle's own `with`, with the manual releases dropped. Only
// shapes whose behaviour is provably kept are rewritten; everything else gets a reason.
#include <set>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/edit.h"
#include "core/rule.h"
#include "python/callee.h"
#include "python/events.h"
#include "python/outline.h"
#include "python/targets.h"
#include "python/tree.h"

namespace leakfix::python {

struct RewriteContext {
  const Rule& rule;
  const Acquirer& acquirer;
  const std::vector<std::string>& release_methods;
  const std::vector<ReleaseSpec>& release_functions;
  const Imports& imports;
  bool edits = true;  // false: only decide whether the rewrite is safe (scan), not the text
  const TargetResolver* targets = nullptr;  // where a with's context manager comes from; none: closing() only
  const LazyModuleFacts* facts = nullptr;   // of the file, for `targets`
  const ScopeOutline* outline = nullptr;    // of the acquisition's scope in this parse, if made
};

// The functions a module defines at its top level.
std::set<std::string, std::less<>> top_level_functions(const ParsedFile& file);

// The fix for the acquisition `call` bound to `variable`, or the reason there is none.
std::variant<Fix, std::string> plan_rewrite(const ParsedFile& file, TSNode call, std::string_view variable,
                                            const RewriteContext& ctx);

// Edits that add the imports `needs` (once each) and remove the imports of `maybe_unused` names
// that nothing in the file refers to any more.
std::vector<Edit> import_edits(const ParsedFile& file, const std::vector<ImportNeed>& needs,
                               const std::vector<std::string>& maybe_unused);

}  // namespace leakfix::python
