#include <fmt/color.h>
#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "report/report.h"

namespace leakfix {
namespace {

fmt::text_style severity_style(Severity s) {
  switch (s) {
    case Severity::Error: return fmt::fg(fmt::terminal_color::bright_red) | fmt::emphasis::bold;
    case Severity::Warning: return fmt::fg(fmt::terminal_color::bright_yellow) | fmt::emphasis::bold;
    case Severity::Info: return fmt::fg(fmt::terminal_color::bright_cyan) | fmt::emphasis::bold;
  }
  return {};
}

std::string styled(bool color, const fmt::text_style& style, std::string_view text) {
  return color ? fmt::format(style, "{}", text) : std::string(text);
}

// Columns are characters; the underline sits under the code itself, with tabs kept so the
// marks line up whatever the tab width.
std::string underline(std::string_view line, int from_col, int to_col, char mark) {
  std::string out;
  int column = 1;
  for (std::size_t i = 0; i < line.size() && column < from_col; ++i) {
    if ((static_cast<unsigned char>(line[i]) & 0xC0) == 0x80) continue;
    out += line[i] == '\t' ? '\t' : ' ';
    ++column;
  }
  const int width = std::max(1, to_col - from_col);
  out.append(static_cast<std::size_t>(width), mark);
  return out;
}

void frame(std::ostream& out, const Finding& f, const SourceFile& src, bool color) {
  struct Mark {
    int line, col, end_col;
    char ch;
    std::string label;
  };
  std::vector<Mark> marks;
  const int acq_end = f.span.end_line == f.span.line ? f.span.end_column : static_cast<int>(src.line(f.span.line).size()) + 1;
  marks.push_back({f.span.line, f.span.column, acq_end, '^', f.kind == Kind::ParseError ? "here" : "acquired here"});
  if (f.exit && f.exit->line != f.span.line) marks.push_back({f.exit->line, f.exit->column, f.exit->end_column, '-', f.exit_label});
  std::sort(marks.begin(), marks.end(), [](const Mark& a, const Mark& b) { return a.line < b.line; });
  const int width = static_cast<int>(std::to_string(marks.back().line).size());
  const auto gutter = [&](std::string_view num) {
    return styled(color, fmt::fg(fmt::terminal_color::bright_blue) | fmt::emphasis::bold, fmt::format("{:>{}} |", num, width));
  };
  out << gutter("") << '\n';
  int prev = 0;
  for (const auto& m : marks) {
    // Short gaps are shown whole; longer ones are elided.
    if (prev && m.line > prev + 1) {
      if (m.line <= prev + 4) {
        for (int l = prev + 1; l < m.line; ++l) out << gutter(std::to_string(l)) << ' ' << src.line(l) << '\n';
      } else {
        out << styled(color, fmt::fg(fmt::terminal_color::bright_blue), "...") << '\n';
      }
    }
    const auto text = src.line(m.line);
    out << gutter(std::to_string(m.line)) << ' ' << text << '\n';
    const auto style = m.ch == '^' ? severity_style(f.severity()) : fmt::fg(fmt::terminal_color::bright_blue) | fmt::emphasis::bold;
    out << gutter("") << ' ' << styled(color, style, underline(text, m.col, m.end_col, m.ch) + " " + m.label) << '\n';
    prev = m.line;
  }
  out << gutter("") << '\n';
}

}  // namespace

std::string summary_line(const Report& r) {
  const std::string baselined =
      (r.baselined ? fmt::format(" {} more in the baseline.", r.baselined) : std::string()) +
      (r.skipped ? fmt::format(" {} named file{} skipped (see above).", r.skipped, r.skipped == 1 ? "" : "s") : std::string());
  if (r.findings.empty()) return fmt::format("No findings in {} file{}.{}", r.files, r.files == 1 ? "" : "s", baselined);
  std::map<Kind, int> by;
  for (const auto& f : r.findings) ++by[f.kind];
  std::string parts;
  for (const auto& info : kKinds) {
    const Kind k = info.kind;
    if (by[k]) parts += fmt::format("{}{} {}", parts.empty() ? "" : ", ", by[k], to_string(k));
  }
  const auto fixable = std::count_if(r.findings.begin(), r.findings.end(), [](const Finding& f) { return f.fixable; });
  return fmt::format("Found {} finding{} ({}) in {} file{}.{}", r.findings.size(), r.findings.size() == 1 ? "" : "s", parts,
                     r.files, r.files == 1 ? "" : "s",
                     fixable ? fmt::format(" {} fixable with `leakfix fix`.", fixable) : std::string()) +
         baselined;
}

void render_text(std::ostream& out, const Report& r, const TextOptions& o) {
  for (const auto& f : r.findings) {
    const auto where = fmt::format("{}:{}:{}:", f.file, f.span.line, f.span.column);
    out << styled(o.color, fmt::emphasis::bold, where) << ' '
        << styled(o.color, severity_style(f.severity()), fmt::format("{}:", to_string(f.kind))) << ' '
        << styled(o.color, fmt::emphasis::bold, f.message) << " [" << f.rule << "]\n";
    if (f.observed) {
      const auto& ob = *f.observed;
      out << "  observed: "
          << (ob.leaked ? fmt::format("leaked {} time{} in production, {} open", ob.leaked, ob.leaked == 1 ? "" : "s", ob.open)
                        : fmt::format("never seen leaking ({} acquired, {} open)", ob.acquired, ob.open))
          << '\n';
    }
    if (!o.frames) continue;
    out << "  in " << f.function << (f.function == "<module>" ? "" : "()") << '\n';
    if (const auto source = r.sources.find(f.file)) frame(out, f, *source, o.color);
  }
}

}  // namespace leakfix
