#include <nlohmann/json.hpp>

#include "report/report.h"

namespace leakfix {

namespace {

std::string level_of(Severity s) {
  switch (s) {
    case Severity::Error: return "error";
    case Severity::Warning: return "warning";
    case Severity::Info: return "note";
  }
  return "none";
}

nlohmann::ordered_json region(const Span& s) {
  return {{"startLine", s.line}, {"startColumn", s.column}, {"endLine", s.end_line}, {"endColumn", s.end_column}};
}

// The first sentence of the doc's first paragraph (which wraps over several lines), whole.
std::string first_paragraph(const std::string& md) {
  std::string paragraph;
  std::size_t pos = md.find('\n');
  while (pos != std::string::npos && pos + 1 < md.size()) {
    const auto next = md.find('\n', pos + 1);
    const auto line = md.substr(pos + 1, next == std::string::npos ? std::string::npos : next - pos - 1);
    if (line.empty() && !paragraph.empty()) break;
    if (!line.empty() && line[0] != '#') paragraph += (paragraph.empty() ? "" : " ") + line;
    pos = next;
  }
  const auto stop = paragraph.find(". ");
  return stop == std::string::npos ? paragraph : paragraph.substr(0, stop + 1);
}

}  // namespace

void render_sarif(std::ostream& out, const Report& r, const std::string& tool_version) {
  using json = nlohmann::ordered_json;
  json rules = json::array();
  std::map<Kind, int> rule_index;
  for (const auto& info : kKinds) {
    const Kind k = info.kind;
    const auto doc = kind_doc(k).value_or("");
    rule_index[k] = static_cast<int>(rules.size());
    rules.push_back({{"id", std::string(to_string(k))},
                     {"name", std::string(to_string(k))},
                     {"shortDescription", {{"text", first_paragraph(doc)}}},
                     {"help", {{"text", doc}, {"markdown", doc}}},
                     {"defaultConfiguration", {{"level", level_of(severity_of(k))}}}});
  }
  json results = json::array();
  for (const auto& f : r.findings) {
    json loc{{"physicalLocation", {{"artifactLocation", {{"uri", f.file}}}, {"region", region(f.span)}}},
             {"logicalLocations", json::array({{{"fullyQualifiedName", f.function}, {"kind", "function"}}})}};
    json res{{"ruleId", std::string(to_string(f.kind))},
             {"ruleIndex", rule_index[f.kind]},
             {"level", level_of(f.severity())},
             {"message", {{"text", f.message}}},
             {"locations", json::array({loc})},
             {"properties",
              {{"rule", f.rule}, {"function", f.function}, {"phase", phase_of(f.kind)}, {"fixable", f.fixable}}}};
    if (!f.variable.empty()) res["properties"]["variable"] = f.variable;
    const auto index = static_cast<std::size_t>(&f - r.findings.data());
    if (index < r.fingerprints.size()) res["partialFingerprints"] = {{"leakfixFinding/v1", r.fingerprints[index]}};
    if (index < r.baseline_states.size()) res["baselineState"] = r.baseline_states[index];
    if (f.exit) {
      res["relatedLocations"] = json::array(
          {{{"id", 1},
            {"message", {{"text", f.exit_label}}},
            {"physicalLocation", {{"artifactLocation", {{"uri", f.file}}}, {"region", region(*f.exit)}}}}});
    }
    if (auto fx = r.fixes.find(static_cast<std::size_t>(&f - r.findings.data())); fx != r.fixes.end()) {
      const auto src = r.sources.find(f.file);
      if (src) {
        auto pos = [&](std::uint32_t offset) {
          const auto p = src->position(offset);
          return std::pair{p.line, src->character_column(p.line, static_cast<std::uint32_t>(p.column - 1))};
        };
        json replacements = json::array();
        for (const auto& e : fx->second.edits) {
          const auto [l1, c1] = pos(e.begin);
          const auto [l2, c2] = pos(e.end);
          replacements.push_back({{"deletedRegion", {{"startLine", l1}, {"startColumn", c1}, {"endLine", l2}, {"endColumn", c2}}},
                                  {"insertedContent", {{"text", e.text}}}});
        }
        res["fixes"] = json::array({{{"description", {{"text", f.fix ? f.fix->summary : "rewrite"}}},
                                     {"artifactChanges", json::array({{{"artifactLocation", {{"uri", f.file}}},
                                                                       {"replacements", replacements}}})}}});
      }
    }
    results.push_back(res);
  }
  json notes = json::array();
  for (const auto& e : r.errors) {
    json n{{"level", "error"}, {"message", {{"text", e.message}}}};
    if (!e.file.empty()) {
      json pl{{"artifactLocation", {{"uri", e.file}}}};
      if (e.line > 0) pl["region"] = {{"startLine", e.line}};
      n["locations"] = json::array({{{"physicalLocation", pl}}});
    }
    notes.push_back(n);
  }
  json doc{{"$schema", "https://json.schemastore.org/sarif-2.1.0.json"},
           {"version", "2.1.0"},
           {"runs",
            json::array({{{"tool",
                           {{"driver",
                             {{"name", "leakfix"},
                              {"version", tool_version},
                              
                              {"rules", rules}}}}},
                          {"columnKind", "unicodeCodePoints"},
                          {"invocations",
                           json::array({{{"executionSuccessful", true}, {"toolExecutionNotifications", notes}}})},
                          {"results", results}}})}};
  out << doc.dump(2) << '\n';
}

namespace {

// Workflow command values escape %, CR and LF; properties also : and ,.
std::string gh_escape(std::string_view s, bool property) {
  std::string out;
  for (char c : s) {
    if (c == '%') out += "%25";
    else if (c == '\r') out += "%0D";
    else if (c == '\n') out += "%0A";
    else if (property && c == ':') out += "%3A";
    else if (property && c == ',') out += "%2C";
    else out += c;
  }
  return out;
}

}  // namespace

void render_github(std::ostream& out, const Report& r) {
  for (const auto& f : r.findings) {
    const char* level = f.severity() == Severity::Error ? "error" : f.severity() == Severity::Warning ? "warning" : "notice";
    out << "::" << level << " file=" << gh_escape(f.file, true) << ",line=" << f.span.line << ",col=" << f.span.column
        << ",endLine=" << f.span.end_line << ",endColumn=" << f.span.end_column
        << ",title=" << gh_escape(std::string("leakfix ") + std::string(to_string(f.kind)), true) << "::"
        << gh_escape(f.message + " [" + f.rule + "]", false) << '\n';
  }
}

}  // namespace leakfix
