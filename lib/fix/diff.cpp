#include "fix/diff.h"

#include <dtl/dtl.hpp>

#include <algorithm>
#include <fmt/format.h>

#include <optional>
#include <vector>

namespace leakfix {
namespace {

// Lines without their '\n' (a '\r' stays). A last line with no newline gets a trailing NUL, so
// that it differs from the same text with a newline and prints the git marker.
std::vector<std::string> split_lines(std::string_view text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < text.size()) {
    const auto nl = text.find('\n', start);
    if (nl == std::string_view::npos) {
      out.emplace_back(std::string(text.substr(start)) + '\0');
      break;
    }
    out.emplace_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  return out;
}

struct Op {
  char tag;  // ' ', '-', '+'
  const std::string* line;
};

}  // namespace

std::string unified_diff(std::string_view path, std::string_view before, std::string_view after,
                         const DiffOptions& o) {
  if (before == after) return {};
  const auto a = split_lines(before), b = split_lines(after);
  dtl::Diff<std::string, std::vector<std::string>> diff(a, b);
  diff.compose();
  std::vector<Op> ops;
  for (const auto& [elem, info] : diff.getSes().getSequence()) {
    const std::vector<std::string>& from = info.type == dtl::SES_ADD ? b : a;
    const long long idx = info.type == dtl::SES_ADD ? info.afterIdx : info.beforeIdx;
    const char tag = info.type == dtl::SES_ADD ? '+' : info.type == dtl::SES_DELETE ? '-' : ' ';
    ops.push_back(Op{tag, &from[static_cast<std::size_t>(idx - 1)]});
  }
  // In each run of changed lines, the removed ones first, as reviewers read a diff.
  for (auto it = ops.begin(); it != ops.end();) {
    if (it->tag == ' ') {
      ++it;
      continue;
    }
    auto end = std::find_if(it, ops.end(), [](const Op& op) { return op.tag == ' '; });
    std::stable_partition(it, end, [](const Op& op) { return op.tag == '-'; });
    it = end;
  }

  const char* red = o.color ? "\x1b[31m" : "";
  const char* green = o.color ? "\x1b[32m" : "";
  const char* cyan = o.color ? "\x1b[36m" : "";
  const char* bold = o.color ? "\x1b[1m" : "";
  const char* reset = o.color ? "\x1b[0m" : "";
  std::string out = fmt::format("{}--- a/{}{}\n{}+++ b/{}{}\n", bold, path, reset, bold, path, reset);

  const std::size_t n = ops.size();
  const auto ctx = static_cast<std::size_t>(o.context);
  std::size_t i = 0;
  // Line numbers (1-based) of ops[i] in each file.
  std::vector<std::size_t> old_no(n + 1), new_no(n + 1);
  for (std::size_t k = 0, ol = 1, nl = 1; k <= n; ++k) {
    old_no[k] = ol;
    new_no[k] = nl;
    if (k == n) break;
    if (ops[k].tag != '+') ++ol;
    if (ops[k].tag != '-') ++nl;
  }
  while (i < n) {
    while (i < n && ops[i].tag == ' ') ++i;
    if (i == n) break;
    std::size_t start = i >= ctx ? i - ctx : 0;
    // Extend over changes closer than two contexts apart.
    std::size_t end = i;
    for (;;) {
      while (end < n && ops[end].tag != ' ') ++end;
      std::size_t next = end;
      while (next < n && ops[next].tag == ' ') ++next;
      if (next < n && next - end <= 2 * ctx) {
        end = next;
        continue;
      }
      end = std::min(n, end + ctx);
      break;
    }
    std::size_t old_count = 0, new_count = 0;
    for (std::size_t k = start; k < end; ++k) {
      if (ops[k].tag != '+') ++old_count;
      if (ops[k].tag != '-') ++new_count;
    }
    const std::size_t old_start = old_count ? old_no[start] : old_no[start] - 1;
    const std::size_t new_start = new_count ? new_no[start] : new_no[start] - 1;
    out += fmt::format("{}@@ -{},{} +{},{} @@{}\n", cyan, old_start, old_count, new_start, new_count, reset);
    for (std::size_t k = start; k < end; ++k) {
      std::string_view line = *ops[k].line;
      const bool no_newline = !line.empty() && line.back() == '\0';
      if (no_newline) line.remove_suffix(1);
      const char* colour = ops[k].tag == '-' ? red : ops[k].tag == '+' ? green : "";
      out += fmt::format("{}{}{}{}\n", colour, ops[k].tag, line, ops[k].tag == ' ' ? "" : reset);
      if (no_newline) out += "\\ No newline at end of file\n";
    }
    i = end;
  }
  return out;
}

std::vector<Edit> line_edits(std::string_view before, std::string_view after) {
  std::vector<Edit> out;
  if (before == after) return out;
  // Lines with their endings, so that offsets add up.
  auto pieces = [](std::string_view text) {
    std::vector<std::string> lines;
    std::size_t start = 0;
    while (start < text.size()) {
      auto nl = text.find('\n', start);
      nl = nl == std::string_view::npos ? text.size() : nl + 1;
      lines.emplace_back(text.substr(start, nl - start));
      start = nl;
    }
    return lines;
  };
  const auto a = pieces(before), b = pieces(after);
  dtl::Diff<std::string, std::vector<std::string>> diff(a, b);
  diff.compose();
  std::uint32_t offset = 0;  // in before, at the current op
  std::optional<Edit> open;
  auto flush = [&] {
    if (open) out.push_back(std::move(*open));
    open.reset();
  };
  for (const auto& [elem, info] : diff.getSes().getSequence()) {
    if (info.type == dtl::SES_COMMON) {
      flush();
      offset += static_cast<std::uint32_t>(elem.size());
      continue;
    }
    if (!open) open = Edit{offset, offset, ""};
    if (info.type == dtl::SES_DELETE) {
      offset += static_cast<std::uint32_t>(elem.size());
      open->end = offset;
    } else {
      open->text += elem;
    }
  }
  flush();
  return out;
}

}  // namespace leakfix
