#include "fix/cxx_fix.h"

#include <algorithm>
#include <limits>
#include <optional>

#include "core/edit.h"
#include "core/parallel.h"
#include "fix/cxx_text.h"
#include "fix/diff.h"

namespace leakfix {
namespace {

// The changed lines of a fixed C++ file, in the project's .clang-format style when it has one.
void restyle_cxx(const CxxFixer& fixer, const SourceFile& source, const std::string& display, FileFixResult& out) {
  if (out.after == out.before) return;
  const std::string bom(source.bytes().substr(0, source.bom_size()));
  const std::string after_text = out.after.substr(bom.size());
  std::vector<std::pair<unsigned, unsigned>> ranges;
  long shift = 0;
  for (const auto& e : line_edits(source.text(), after_text)) {
    ranges.emplace_back(static_cast<unsigned>(static_cast<long>(e.begin) + shift), static_cast<unsigned>(e.text.size()));
    shift += static_cast<long>(e.text.size()) - static_cast<long>(e.end - e.begin);
  }
  out.after = bom + fixer.api.format_ranges(display, after_text, ranges);
}

// Without a review, every fix of a file is applied at once and the result compiled once: a
// compile per fix made `fix` quadratic in the fixes of a file (80 took 25 s). nullopt when the
// fixes do not compile together; then each is tried on its own.
std::optional<FileFixResult> fix_cxx_file_at_once(const CxxFixer& fixer, const SourceFile& source,
                                                  const std::vector<Finding>& candidates, std::vector<Finding> left,
                                                  const std::string& display) {
  if (candidates.size() < 2) return std::nullopt;  // one fix: the careful path says why it fails
  FileFixResult out;
  out.before = source.bytes();
  out.left = std::move(left);
  std::string text(source.text());
  std::vector<std::string> includes;
  std::uint32_t floor = std::numeric_limits<std::uint32_t>::max();
  for (const auto& f : candidates) {  // from the bottom up
    if (f.fix->end() > floor) {
      out.left.push_back(f);  // overlaps one applied: for the next run
      continue;
    }
    text = apply_edits(text, f.fix->edits);
    for (const auto& i : f.fix->imports) includes.push_back(i.name);
    floor = f.fix->begin();
    out.applied.push_back(f);
  }
  out.after = std::string(source.bytes().substr(0, source.bom_size())) + add_includes(text, includes);
  if (fixer.api.check_compiles(InputFile{display, display}, out.after, fixer.options)) return std::nullopt;
  return out;
}

}  // namespace

FileFixResult fix_cxx_file(const CxxFixer& fixer, const SourceFile& source, const std::string& display,
                           const std::vector<Finding>& findings, const std::function<bool(const Finding&)>& want,
                           const Decide& decide, bool reviewed) {
  FileFixResult out;
  out.before = source.bytes();
  std::vector<Finding> candidates;
  for (const auto& f : findings) {
    if (f.file != display || !want(f)) continue;
    if (f.fix) candidates.push_back(f);
    else out.left.push_back(f);
  }
  std::sort(candidates.begin(), candidates.end(), [](const Finding& a, const Finding& b) { return a.fix->begin() > b.fix->begin(); });
  const std::string bom(source.bytes().substr(0, source.bom_size()));
  std::string text(source.text());
  std::vector<std::string> includes;
  std::uint32_t floor = std::numeric_limits<std::uint32_t>::max();
  if (!reviewed) {
    if (auto at_once = fix_cxx_file_at_once(fixer, source, candidates, out.left, display)) {
      restyle_cxx(fixer, source, display, *at_once);
      return std::move(*at_once);
    }
  }
  bool all = false;
  for (const auto& f : candidates) {
    if (out.quit || f.fix->end() > floor) {
      out.left.push_back(f);
      continue;
    }
    std::vector<std::string> wanted = includes;
    for (const auto& i : f.fix->imports) wanted.push_back(i.name);
    const std::string body = apply_edits(text, f.fix->edits);
    std::string after = bom + add_includes(body, wanted);
    if (auto err = fixer.api.check_compiles(InputFile{display, display}, after, fixer.options)) {
      Finding failed = f;
      failed.fixable = false;
      failed.reason = *err;
      failed.fix.reset();
      out.failed.push_back(std::move(failed));
      continue;
    }
    const std::string before = bom + add_includes(text, includes);
    const std::string proposed = after;
    auto d = all ? Decision::Apply : decide(f, before, after);
    if (d == Decision::ApplyRestOfFile) {
      all = true;
      d = Decision::Apply;
    }
    if (d == Decision::Quit) {
      out.quit = true;
      out.left.push_back(f);
      continue;
    }
    if (d == Decision::Skip) {
      out.skipped.push_back(f);
      out.left.push_back(f);
      continue;
    }
    out.applied.push_back(f);
    if (after != proposed) {
      // Edited by hand in the review: taken as it is, and the rest of the file left for later.
      out.after = after;
      for (const auto& g : candidates) {
        if (g.fix->begin() < f.fix->begin()) out.left.push_back(g);
      }
      return out;
    }
    text = body;
    includes = wanted;
    floor = f.fix->begin();
  }
  out.after = bom + add_includes(text, includes);
  restyle_cxx(fixer, source, display, out);
  return out;
}

std::optional<std::string> CxxFrontend::apply(const SourceFile& source, const Fix& fix) const { return apply_cxx_fix(source, fix); }

void verify_cxx_fixes(const CxxFixer& fixer, std::vector<Finding>& findings, const std::map<std::string, SourceFile>& sources,
                      int jobs) {
  std::map<std::string, std::vector<std::size_t>> by_file;
  for (std::size_t i = 0; i < findings.size(); ++i) {
    if (findings[i].fix && sources.contains(findings[i].file)) by_file[findings[i].file].push_back(i);
  }
  std::vector<std::string> files;
  for (const auto& [file, indices] : by_file) files.push_back(file);
  // What each file's fixes give, found in parallel; the findings change after.
  std::vector<std::map<std::size_t, std::string>> refused(files.size());
  std::vector<std::size_t> order(files.size());
  for (std::size_t k = 0; k < files.size(); ++k) order[k] = k;
  parallel_for(order, jobs, [&](std::size_t k) {
    const SourceFile& source = sources.at(files[k]);
    const auto& indices = by_file.at(files[k]);
    std::vector<Finding> candidates;
    for (const auto i : indices) candidates.push_back(findings[i]);
    std::sort(candidates.begin(), candidates.end(), [](const Finding& a, const Finding& b) { return a.fix->begin() > b.fix->begin(); });
    // Those applied together compiled; one that overlaps an applied one was not in that text.
    std::vector<std::size_t> alone = indices;
    if (const auto together = fix_cxx_file_at_once(fixer, source, candidates, {}, files[k])) {
      std::erase_if(alone, [&](std::size_t i) {
        return std::any_of(together->applied.begin(), together->applied.end(), [&](const Finding& a) {
          return a.rule == findings[i].rule && a.kind == findings[i].kind && a.span.line == findings[i].span.line &&
                 a.span.column == findings[i].span.column;
        });
      });
    }
    for (const auto i : alone) {
      if (auto err = fixer.api.check_compiles(InputFile{files[k], files[k]}, apply_cxx_fix(source, *findings[i].fix), fixer.options))
        refused[k][i] = *err;
    }
  });
  for (const auto& per_file : refused) {
    for (const auto& [i, why] : per_file) {
      findings[i].fixable = false;
      findings[i].reason = why;
      findings[i].fix.reset();
    }
  }
}

}  // namespace leakfix
