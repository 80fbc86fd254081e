// Summaries: what a function of the project does for its callers. A function that returns the
// handle it acquired is an acquirer to them; a function that releases a parameter is a release
// to them. The driver adds both to the rules and analyses the callers again, in whichever
// translation unit they are, so that a wrapper hides no leak and a helper in another file
// makes no false one.
#include "cxx/function.h"

#include <algorithm>

namespace leakfix::cxx {

bool FunctionAnalysis::summarisable() const {
  if (!fd_->hasBody() || fd_->isDependentContext()) return false;
  if (const auto* m = dyn_cast<CXXMethodDecl>(fd_); m && m->getParent()->isLambda()) return false;
  // The standard library's and other system headers' functions are no one's wrappers.
  return !sm_.isInSystemHeader(sm_.getExpansionLoc(fd_->getLocation()));
}

void FunctionAnalysis::note_wrapper(const Acquisition& a) {
  if (!summarisable() || fd_->getReturnType()->isVoidType() || a.acquirer->receiver_handle) return;
  const std::string wraps = a.call->getDirectCallee()->getQualifiedNameAsString();
  summaries_.push_back(Summary{a.rule->id, fd_->getQualifiedNameAsString(), wraps, -1});
  // A derived pool's override: calls through the base class reach it too.
  if (const auto* m = dyn_cast<CXXMethodDecl>(fd_)) {
    for (const CXXMethodDecl* base : m->overridden_methods())
      summaries_.push_back(Summary{a.rule->id, base->getQualifiedNameAsString(), wraps, -1});
  }
}

void FunctionAnalysis::note_release_helpers() {
  if (!summarisable()) return;
  for (unsigned i = 0; i < fd_->getNumParams(); ++i) {
    const ParmVarDecl* param = fd_->getParamDecl(i);
    if (!param->getType()->isPointerType()) continue;
    for (const auto& r : rules_) {
      if (r.language != "cpp") continue;
      const bool named = std::any_of(r.release_functions.begin(), r.release_functions.end(),
                                     [&](const ReleaseFunction& f) { return matches(f.pattern, fd_); });
      if (named) continue;
      const Acquisition a{nullptr, &r, nullptr};
      if (releases_within(fd_->getBody(), a, Handle{param, param->getNameAsString()}))
        summaries_.push_back(Summary{r.id, fd_->getQualifiedNameAsString(), "", static_cast<int>(i)});
    }
  }
}

}  // namespace leakfix::cxx
