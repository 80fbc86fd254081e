#include <nlohmann/json.hpp>

#include <map>

#include "report/finding_json.h"
#include "report/report.h"

namespace leakfix {

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

namespace {

nlohmann::ordered_json fix_json(const FixView& fix, const Finding& f, const Report& r) {
  using json = nlohmann::ordered_json;
  const auto src = r.sources.find(f.file);
  auto where = [&](std::uint32_t offset) {
    if (src == r.sources.end()) return json{{"offset", offset}};
    const auto p = src->second.position(offset);
    return json{{"line", p.line},
                {"column", src->second.character_column(p.line, static_cast<std::uint32_t>(p.column - 1))}};
  };
  json edits = json::array();
  for (const auto& e : fix.edits) edits.push_back(json{{"location", where(e.begin)}, {"end_location", where(e.end)}, {"content", e.text}});
  return json{{"summary", f.fix ? f.fix->summary : ""}, {"edits", std::move(edits)}, {"diff", fix.diff}};
}

}  // namespace

void render_json(std::ostream& out, const Report& r) {
  using json = nlohmann::ordered_json;
  json findings = json::array();
  for (std::size_t i = 0; i < r.findings.size(); ++i) {
    auto item = finding_json(r.findings[i]);
    if (r.fix_mode) {
      const auto fx = r.fixes.find(i);
      item["fix"] = fx == r.fixes.end() ? json(nullptr) : fix_json(fx->second, r.findings[i], r);
    }
    findings.push_back(std::move(item));
  }
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
  if (r.fix_mode) {
    doc["summary"]["fixable"] = r.fixes.size();
    doc["summary"]["applied"] = r.applied;
  }
  out << doc.dump(2) << '\n';
}

}  // namespace leakfix
