#include <nlohmann/json.hpp>

#include <map>

#include "report/report.h"

namespace leakfix {

nlohmann::ordered_json finding_json(const Finding& f);

nlohmann::ordered_json finding_json(const Finding& f) {
  using json = nlohmann::ordered_json;
  auto opt = [](const std::optional<std::string>& s) { return s ? json(*s) : json(nullptr); };
  return json{{"rule", f.rule},
              {"kind", std::string(to_string(f.kind))},
              {"severity", std::string(to_string(f.severity()))},
              {"file", f.file},
              {"line", f.span.line},
              {"column", f.span.column},
              {"end_line", f.span.end_line},
              {"end_column", f.span.end_column},
              {"function", f.function},
              {"variable", f.variable.empty() ? json(nullptr) : json(f.variable)},
              {"route", opt(f.route)},
              {"exposure", opt(f.exposure)},
              {"phase", phase_of(f.kind)},
              {"fixable", f.fixable},
              {"reason", f.fixable ? json(nullptr) : opt(f.reason)},
              {"message", f.message}};
}

void render_json(std::ostream& out, const Report& r) {
  using json = nlohmann::ordered_json;
  json findings = json::array();
  for (const auto& f : r.findings) findings.push_back(finding_json(f));
  json errors = json::array();
  for (const auto& e : r.errors) {
    json item{{"file", e.file}, {"message", e.message}};
    if (e.line > 0) item["line"] = e.line;
    errors.push_back(item);
  }
  std::map<std::string, int> by_kind;
  for (const auto& f : r.findings) ++by_kind[std::string(to_string(f.kind))];
  json doc;
  doc["version"] = 1;
  doc["findings"] = std::move(findings);
  doc["errors"] = std::move(errors);
  doc["summary"] = {{"files", r.files}, {"findings", r.findings.size()}, {"by_kind", by_kind}};
  out << doc.dump(2) << '\n';
}

}  // namespace leakfix
