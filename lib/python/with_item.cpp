#include <fmt/format.h>

#include <algorithm>

#include "python/locate.h"
#include "python/rewrite_common.h"
#include "python/targets.h"

namespace leakfix::python {

// How the file names contextlib.closing; `fix` gets `import contextlib` when it has no way.
std::string closing_name(const Imports& imports, Fix& fix) {
  if (imports.has("closing") && imports.resolve("closing") == "contextlib.closing") return "closing";
  if (!(imports.has("contextlib") && imports.resolve("contextlib") == "contextlib")) fix.imports.push_back(ImportNeed{"", "contextlib"});
  return "contextlib.closing";
}

// Whether close() gives this acquirer's handle back (not a pool's getconn).
bool close_releases(const RewriteContext& ctx) {
  const auto& ms = ctx.rule.release_methods;
  return ctx.acquirer.fix && std::find(ms.begin(), ms.end(), "close") != ms.end();
}

// A library's acquirer (sqlite3.connect), not a function of the project.
bool library_acquirer(const Acquirer& a) {
  return a.discovered_from.empty() && a.pattern.find('.') != std::string::npos && !a.pattern.starts_with("*.");
}


std::optional<std::variant<Fix, std::string>> plan_with_item(const ParsedFile& file, TSNode call, std::string_view variable,
                                                            const RewriteContext& ctx) {
  const TSNode as = file.parent(call);
  if (!is(as, "as_pattern") || !same(ts_node_named_child(as, 0), call)) return std::nullopt;
  const TSNode item = file.parent(as);
  const TSNode clause = file.parent(item);
  const TSNode with = file.parent(clause);
  if (!is(item, "with_item") || !is(clause, "with_clause") || !is(with, "with_statement")) return std::nullopt;
  if (file.text(field(as, "alias")) != variable) return std::string("the with binds more than a name");
  if (file.text(with).starts_with("async")) return std::string("an async with cannot take contextlib.closing()");
  // Used after the with: it used to be open there.
  const TSNode scope = enclosing_scope(file, call);
  const TSNode body = is(scope, "module") ? scope : field(scope, "body");
  std::optional<std::string> after;
  preorder(body, [&](TSNode n) {
    if (after) return false;
    if (ts_node_end_byte(n) <= ts_node_end_byte(with)) return false;
    if (is(n, "identifier") && file.text(n) == variable && ts_node_start_byte(n) >= ts_node_end_byte(with)) {
      after = fmt::format("`{}` is used at line {}, after the with block", variable, file.line(n));
      return false;
    }
    return true;
  });
  if (after) return *after;
  const auto& a = ctx.acquirer;
  const bool close_ok = close_releases(ctx);
  Fix fix;
  std::string form;
  const Imports& imports = ctx.imports;
  auto closing = [&] { return closing_name(imports, fix); };
  if (!ctx.targets) {
    if (!close_ok) return std::string("the rule names no managed form for it");
    form = fmt::format("{}({})", closing(), file.text(call));
    fix.target = "contextlib.closing(): the release is close()";
  } else {
    std::optional<LazyModuleFacts> own;
    if (!ctx.facts) own.emplace(file);
    const bool driver = library_acquirer(a);
    const Site site{ctx.facts ? *ctx.facts : *own, file, imports, call, a.context_manager, ReleaseUse{}, close_ok, variable, driver};
    auto target = ctx.targets->resolve(site);
    if (auto* why = std::get_if<std::string>(&target)) return *why;
    const Target& t = std::get<Target>(target);
    if (t.kind == Target::Kind::Closing) {
      form = fmt::format("{}({})", closing(), file.text(call));
    } else {
      form = t.callee + std::string(file.text(field(call, "arguments")));
      if (t.import) fix.imports.push_back(*t.import);
      if (t.creation) fix.creates.push_back(*t.creation);
    }
    fix.target = t.note + "; the handle's own with stays, for its transaction";
  }
  const std::string text = fmt::format("{} as {}, {}", form, variable, variable);
  fix.summary = fmt::format("with {}:", text);
  fix.edits.push_back(Edit{ts_node_start_byte(as), ts_node_end_byte(as), text});
  return fix;
}

}  // namespace leakfix::python
