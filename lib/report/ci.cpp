// CI reports: GitLab Code Quality (a JSON array GitLab shows in merge requests) and JUnit XML
// (what Jenkins, GitLab and most CI systems show as test results). One entry per finding.
#include <fmt/format.h>

#include <map>
#include <nlohmann/json.hpp>

#include "report/report.h"

namespace leakfix {

namespace {

// GitLab's levels: info, minor, major, critical, blocker.
const char* gitlab_severity(Severity s) {
  switch (s) {
    case Severity::Error: return "critical";
    case Severity::Warning: return "major";
    case Severity::Info: return "info";
  }
  return "major";
}

std::string xml_escape(std::string_view text) {
  std::string out;
  for (const char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default:
        // XML 1.0 allows no control characters but tab, newline and carriage return.
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n' && c != '\r') out += ' ';
        else out += c;
    }
  }
  return out;
}

}  // namespace

void render_gitlab(std::ostream& out, const Report& r) {
  nlohmann::ordered_json issues = nlohmann::ordered_json::array();
  for (std::size_t i = 0; i < r.findings.size(); ++i) {
    const auto& f = r.findings[i];
    const std::string fingerprint = i < r.fingerprints.size() ? r.fingerprints[i] : fmt::format("{}:{}:{}:{}", f.file, f.span.line, f.rule, to_string(f.kind));
    issues.push_back({{"description", fmt::format("{} [{}]", f.message, f.rule)},
                      {"check_name", std::string(to_string(f.kind))},
                      {"fingerprint", fingerprint},
                      {"severity", gitlab_severity(f.severity())},
                      {"location", {{"path", f.file}, {"lines", {{"begin", f.span.line}, {"end", f.span.end_line}}}}}});
  }
  out << issues.dump(2) << '\n';
}

void render_junit(std::ostream& out, const Report& r) {
  std::map<std::string, std::vector<const Finding*>> by_file;
  for (const auto& f : r.findings) by_file[f.file].push_back(&f);
  out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out << fmt::format("<testsuites name=\"leakfix\" tests=\"{}\" failures=\"{}\" errors=\"{}\">\n",
                     std::max<std::size_t>(1, r.findings.size()), r.findings.size(), r.errors.size());
  if (r.findings.empty()) {
    out << fmt::format("  <testsuite name=\"leakfix\" tests=\"1\" failures=\"0\" errors=\"0\">\n"
                       "    <testcase name=\"no findings in {} file{}\" classname=\"leakfix\"/>\n  </testsuite>\n",
                       r.files, r.files == 1 ? "" : "s");
  }
  for (const auto& [file, findings] : by_file) {
    out << fmt::format("  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"0\">\n", xml_escape(file), findings.size(),
                       findings.size());
    for (const Finding* f : findings) {
      out << fmt::format("    <testcase name=\"{}:{}:{} {}\" classname=\"{}\" file=\"{}\" line=\"{}\">\n", xml_escape(f->file),
                         f->span.line, f->span.column, to_string(f->kind), xml_escape(f->rule), xml_escape(f->file), f->span.line);
      out << fmt::format("      <failure message=\"{}\" type=\"{}\">{}:{}:{}: {} ({}){}</failure>\n", xml_escape(f->message),
                         to_string(f->kind), xml_escape(f->file), f->span.line, f->span.column, xml_escape(f->message),
                         to_string(f->severity()), f->fixable ? "; `leakfix fix` rewrites it" : xml_escape("; " + f->reason.value_or("")));
      out << "    </testcase>\n";
    }
    out << "  </testsuite>\n";
  }
  for (const auto& e : r.errors) {
    out << fmt::format("  <testsuite name=\"{}\" tests=\"1\" failures=\"0\" errors=\"1\">\n"
                       "    <testcase name=\"read {}\" classname=\"leakfix\"><error message=\"{}\"/></testcase>\n  </testsuite>\n",
                       xml_escape(e.file), xml_escape(e.file), xml_escape(e.message));
  }
  out << "</testsuites>\n";
}

}  // namespace leakfix
