#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "python/rewrite.h"

namespace leakfix::python {

namespace {

struct ImportedName {
  TSNode node;
  std::string text;   // as written: "a" or "a as b"
  std::string local;  // the name it binds
};

std::vector<ImportedName> imported_names(const ParsedFile& file, TSNode stmt) {
  std::vector<ImportedName> out;
  const TSNode module = field(stmt, "module_name");
  for_each_named_child(stmt, [&](TSNode c) {
    if (same(c, module)) return;
    if (is(c, "aliased_import")) {
      out.push_back(ImportedName{c, std::string(file.text(c)), std::string(file.text(field(c, "alias")))});
    } else if (is(c, "dotted_name")) {
      out.push_back(ImportedName{c, std::string(file.text(c)), std::string(file.text(c))});
    }
  });
  return out;
}

}  // namespace

std::vector<Edit> import_edits(const ParsedFile& file, const std::vector<ImportNeed>& needs_in,
                               const std::vector<std::string>& maybe_unused) {
  const auto& src = file.source();
  const std::string eol = src.crlf() ? "\r\n" : "\n";
  std::vector<ImportNeed> needs = needs_in;
  std::sort(needs.begin(), needs.end());
  needs.erase(std::unique(needs.begin(), needs.end()), needs.end());

  std::vector<TSNode> imports;
  TSNode docstring{}, first_stmt{};
  for_each_named_child(file.root(), [&](TSNode c) {
    if (is(c, "comment")) return;
    if (ts_node_is_null(first_stmt)) {
      first_stmt = c;
      if (is(c, "expression_statement") && code_children(c).size() == 1 && is(code_children(c)[0], "string")) docstring = c;
    }
    if (is(c, "import_statement") || is(c, "import_from_statement") || is(c, "future_import_statement")) imports.push_back(c);
  });
  std::set<std::string, std::less<>> used;
  preorder(file.root(), [&](TSNode n) {
    if (is(n, "import_statement") || is(n, "import_from_statement")) return false;
    if (is(n, "identifier")) {
      const TSNode p = file.parent(n);
      if (!(is(p, "attribute") && same(field(p, "attribute"), n))) used.emplace(file.text(n));
    }
    return true;
  });
  const auto unused = [&](const std::string& local) {
    return std::find(maybe_unused.begin(), maybe_unused.end(), local) != maybe_unused.end() && !used.contains(local);
  };

  std::vector<Edit> edits;
  std::set<ImportNeed> done;
  auto whole_rows = [&](TSNode n) {
    return Edit{src.line_offset(static_cast<int>(ts_node_start_point(n).row) + 1),
                src.line_offset(static_cast<int>(ts_node_end_point(n).row) + 2), ""};
  };
  for (TSNode stmt : imports) {
    if (is(stmt, "import_statement")) {
      for_each_named_child(stmt, [&](TSNode c) {
        if (is(c, "dotted_name")) done.insert(ImportNeed{"", std::string(file.text(c))});
      });
      continue;
    }
    if (!is(stmt, "import_from_statement")) continue;
    const std::string module(file.text(field(stmt, "module_name")));
    auto names = imported_names(file, stmt);
    if (names.empty()) continue;
    std::vector<std::string> adds;
    for (const auto& need : needs) {
      if (need.module != module || done.contains(need)) continue;
      done.insert(need);
      if (std::none_of(names.begin(), names.end(), [&](const ImportedName& n) { return n.local == need.name; })) adds.push_back(need.name);
    }
    std::vector<bool> removed(names.size());
    bool any_removed = false;
    for (std::size_t i = 0; i < names.size(); ++i) {
      removed[i] = unused(names[i].local);
      any_removed = any_removed || removed[i];
    }
    if (adds.empty() && !any_removed) continue;
    const TSNode first = names.front().node, last = names.back().node;
    if (ts_node_start_point(first).row == ts_node_end_point(last).row) {
      std::vector<std::string> kept;
      bool sorted = true;
      for (std::size_t i = 0; i < names.size(); ++i) {
        if (i > 0 && names[i].text < names[i - 1].text) sorted = false;
        if (!removed[i]) kept.push_back(names[i].text);
      }
      for (const auto& a : adds) kept.push_back(a);
      if (sorted) std::sort(kept.begin(), kept.end());
      if (kept.empty()) {
        edits.push_back(whole_rows(stmt));
        continue;
      }
      std::string list;
      for (const auto& k : kept) list += (list.empty() ? "" : ", ") + k;
      edits.push_back(Edit{ts_node_start_byte(first), ts_node_end_byte(last), list});
      continue;
    }
    // A parenthesised list over several lines: edit name by name.
    std::size_t next_add = 0;
    for (std::size_t i = 0; i < names.size(); ++i) {
      if (!removed[i]) continue;
      const TSNode n = names[i].node;
      if (next_add < adds.size()) {
        edits.push_back(Edit{ts_node_start_byte(n), ts_node_end_byte(n), adds[next_add++]});
      } else if (i + 1 < names.size()) {
        edits.push_back(Edit{ts_node_start_byte(n), ts_node_start_byte(names[i + 1].node), ""});
      } else {
        edits.push_back(Edit{ts_node_end_byte(names[i - 1].node), ts_node_end_byte(n), ""});
      }
    }
    std::string tail;
    const auto row = static_cast<int>(ts_node_start_point(last).row);
    const auto indent = src.line(row + 1).substr(0, ts_node_start_point(last).column);
    for (; next_add < adds.size(); ++next_add) tail += "," + eol + std::string(indent) + adds[next_add];
    if (!tail.empty()) edits.push_back(Edit{ts_node_end_byte(last), ts_node_end_byte(last), tail});
  }

  // What no import statement took: new lines. A module (`import contextlib`) goes before the
  // first import, a name from the project after the last one.
  for (const auto& need : needs) {
    if (done.contains(need)) continue;
    const std::string line = need.module.empty() ? "import " + need.name : fmt::format("from {} import {}", need.module, need.name);
    TSNode before{}, after{};
    for (TSNode i : imports) {
      if (is(i, "future_import_statement")) {
        after = i;
        continue;
      }
      if (need.module.empty() && ts_node_is_null(before)) before = i;
      if (!need.module.empty()) after = i;
    }
    if (ts_node_is_null(before) && ts_node_is_null(after)) after = docstring;
    if (!ts_node_is_null(before)) {
      const auto at = src.line_offset(static_cast<int>(ts_node_start_point(before).row) + 1);
      edits.push_back(Edit{at, at, line + eol});
    } else if (!ts_node_is_null(after)) {
      const auto at = src.line_offset(static_cast<int>(ts_node_end_point(after).row) + 2);
      const bool at_end = at == src.text().size() && !src.text().empty() && src.text().back() != '\n';
      edits.push_back(Edit{at, at, at_end ? eol + line : line + eol});
    } else {
      const auto at = ts_node_is_null(first_stmt) ? 0 : src.line_offset(static_cast<int>(ts_node_start_point(first_stmt).row) + 1);
      edits.push_back(Edit{at, at, line + eol});
    }
  }
  // Several insertions at one place keep their order.
  std::stable_sort(edits.begin(), edits.end(), [](const Edit& a, const Edit& b) { return a.begin < b.begin; });
  return edits;
}

}  // namespace leakfix::python
