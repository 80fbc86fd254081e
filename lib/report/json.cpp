#include <nlohmann/json.hpp>

#include <map>

#include "report/finding_json.h"
#include "report/json_stream.h"
#include "report/report.h"

namespace leakfix {

void write_finding_members(JsonStream& out, const Finding& f) {
  auto opt = [&](std::string_view k, const std::optional<std::string>& v) {
    out.key(k);
    if (v) out.value(*v);
    else out.null();
  };
  out.member("rule", f.rule);
  out.member("kind", to_string(f.kind));
  out.member("severity", to_string(f.severity()));
  out.member("file", f.file);
  out.member("line", f.span.line);
  out.member("column", f.span.column);
  out.member("end_line", f.span.end_line);
  out.member("end_column", f.span.end_column);
  out.member("function", f.function);
  opt("variable", f.variable.empty() ? std::nullopt : std::optional<std::string>(f.variable));
  opt("route", f.route);
  opt("exposure", f.exposure);
  out.member("phase", phase_of(f.kind));
  out.member("fixable", f.fixable);
  opt("reason", f.fixable ? std::nullopt : f.reason);
  out.member("message", f.message);
  if (f.observed) {
    // Only with --runtime: what leakfix_runtime counted at this acquisition.
    const auto& o = *f.observed;
    nlohmann::ordered_json j = {{"site", o.site}, {"acquired", o.acquired}, {"open", o.open}, {"leaked", o.leaked},
                                {"last_leak", o.last_leak ? nlohmann::ordered_json(*o.last_leak) : nlohmann::ordered_json(nullptr)},
                                {"last_seen", o.last_seen ? nlohmann::ordered_json(*o.last_seen) : nlohmann::ordered_json(nullptr)}};
    out.key("observed");
    out.value(j);
  }
}

nlohmann::ordered_json finding_json(const Finding& f) {
  std::string text;
  JsonStream out(text);
  out.begin_object();
  write_finding_members(out, f);
  out.end_object();
  return nlohmann::ordered_json::parse(text);
}

namespace {

nlohmann::ordered_json fix_json(const FixView& fix, const Finding& f, const Report& r) {
  using json = nlohmann::ordered_json;
  const auto src = r.sources.find(f.file);
  auto where = [&](std::uint32_t offset) {
    if (!src) return json{{"offset", offset}};
    const auto p = src->position(offset);
    return json{{"line", p.line},
                {"column", src->character_column(p.line, static_cast<std::uint32_t>(p.column - 1))}};
  };
  json edits = json::array();
  for (const auto& e : fix.edits) edits.push_back(json{{"location", where(e.begin)}, {"end_location", where(e.end)}, {"content", e.text}});
  json out{{"summary", f.fix ? f.fix->summary : ""}, {"target", f.fix ? f.fix->target : ""}};
  if (f.fix && !f.fix->creates.empty()) {
    const auto& c = f.fix->creates.front();
    out["creates"] = json{{"file", c.file}, {"name", c.name}, {"acquirer", c.acquirer},
                          {"release", c.release.describe(c.variable)}};
  }
  out["edits"] = std::move(edits);
  out["diff"] = fix.diff;
  return out;
}

}  // namespace

void render_json(std::ostream& stream, const Report& r) {
  std::string text;
  JsonStream out(text);
  out.begin_object();
  out.member("version", 1);
  out.key("findings");
  out.begin_array();
  for (std::size_t i = 0; i < r.findings.size(); ++i) {
    out.begin_object();
    write_finding_members(out, r.findings[i]);
    if (r.fix_mode) {
      out.key("fix");
      const auto fx = r.fixes.find(i);
      if (fx == r.fixes.end()) out.null();
      else out.value(fix_json(fx->second, r.findings[i], r));
    }
    out.end_object();
    // Written as it goes: a large report is not held twice.
    if (text.size() > (1u << 20)) {
      stream << text;
      text.clear();
    }
  }
  out.end_array();
  out.key("errors");
  out.begin_array();
  for (const auto& e : r.errors) {
    out.begin_object();
    out.member("file", e.file);
    out.member("message", e.message);
    if (e.line > 0) out.member("line", e.line);
    out.end_object();
  }
  out.end_array();
  std::map<std::string_view, std::size_t> by_kind;
  for (const auto& f : r.findings) ++by_kind[to_string(f.kind)];
  out.key("summary");
  out.begin_object();
  out.member("files", r.files);
  out.member("findings", r.findings.size());
  out.key("by_kind");
  out.begin_object();
  for (const auto& [kind, n] : by_kind) out.member(kind, n);
  out.end_object();
  if (r.fix_mode) {
    out.member("fixable", r.fixes.size());
    out.member("applied", r.applied);
  }
  out.end_object();
  out.end_object();
  stream << text << '\n';
}

}  // namespace leakfix
