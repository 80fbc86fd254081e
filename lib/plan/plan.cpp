#include "plan/plan.h"

#include <fmt/format.h>

#include <ctime>
#include <fmt/ranges.h>

#include <algorithm>
#include <map>
#include <set>

#include "report/finding_json.h"

namespace leakfix::plan {
namespace {

// The kinds of each phase come from core's table (phase_of).
struct PhaseText {
  const char* title;
  const char* why;
};

const PhaseText kPhases[] = {
    {"Urgent: definite leaks",
     "Every call that takes one of these paths keeps a connection checked out until the process restarts or the "
     "garbage collector happens to finalise it: this is the hourly creep of the pool."},
    {"Exception paths",
     "These are released on every normal path, but an exception between the acquisition and the release (a failed "
     "query, a bad request body) leaks the connection. Each error on these routes costs one connection."},
    {"Remaining conversions for consistency",
     "These are already released on every path, by hand. Converting them removes no leak today; it leaves one way of "
     "holding a connection in the code base, so that new code copies the safe one."},
};

std::string duration(int minutes) {
  if (minutes < 60) return fmt::format("{} min", minutes);
  return minutes % 60 ? fmt::format("{} h {:02} min", minutes / 60, minutes % 60) : fmt::format("{} h", minutes / 60);
}

std::string count(long n) {
  std::string digits = std::to_string(n), out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string plural(std::size_t n, std::string_view one, std::string_view many) {
  return fmt::format("{} {}", n, n == 1 ? one : many);
}

std::string shell_quote(const std::string& s) {
  if (s.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./=:,+@") == std::string::npos &&
      !s.empty())
    return s;
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// Table cells: no line breaks, no bare pipes.
std::string cell(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '|') out += "\\|";
    else if (c == '\n') out += ' ';
    else out += c;
  }
  return out;
}

std::string route_cell(const Finding& f) {
  if (!f.route) return "—";
  std::string r = "`" + cell(*f.route) + "`";
  if (!f.route_via.empty()) r += " via `" + cell(f.route_via) + "`";
  return r;
}

std::string fix_command(const Phase& p) {
  std::string cmd = "leakfix fix --write";
  for (const auto& k : p.kinds) cmd += " --kind " + k;
  for (const auto& f : p.fixable_files) cmd += " " + shell_quote(f);
  return cmd;
}

// Each phase is one commit, tagged: reverting it undoes that phase and keeps the others.
std::string commit_commands(const Phase& p) {
  return fmt::format("git commit -a -m {}\ngit tag leakfix-phase-{}",
                     shell_quote(fmt::format("leakfix phase {}: {}", p.number, p.title)), p.number);
}

std::string rollback_command(const Phase& p) { return fmt::format("git revert --no-edit leakfix-phase-{}", p.number); }

// A Unix time as UTC, minutes precision.
std::string when(const std::optional<double>& t) {
  if (!t) return "—";
  const std::time_t secs = static_cast<std::time_t>(*t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M UTC", &tm);
  return buf;
}

// What the runtime saw at a finding: its leaks, the handles open, when it last leaked.
std::string observed_cell(const Finding& f) {
  if (!f.observed) return "not seen";
  const auto& o = *f.observed;
  if (o.leaked == 0)
    return fmt::format("never seen leaking ({} acquired{})", o.acquired, o.open ? fmt::format(", {} open", o.open) : "");
  return fmt::format("**{} leak{}**, {} open, last {}", o.leaked, o.leaked == 1 ? "" : "s", o.open, when(o.last_leak));
}

long leaked(const Finding& f) { return f.observed ? f.observed->leaked : -1; }

long leaked(const FileGroup& g) {
  long most = -1;
  for (const auto& i : g.items) most = std::max(most, leaked(i.finding));
  return most;
}

// What production showed comes first: the sites that leaked most, then exposure, then traffic.
bool item_order(const Item& a, const Item& b) {
  if (leaked(a.finding) != leaked(b.finding)) return leaked(a.finding) > leaked(b.finding);
  if (a.priority != b.priority) return a.priority < b.priority;
  const long ta = a.traffic.value_or(-1), tb = b.traffic.value_or(-1);
  if (ta != tb) return ta > tb;
  if (a.finding.file != b.finding.file) return a.finding.file < b.finding.file;
  return a.finding.span.line < b.finding.span.line;
}

}  // namespace

std::string_view to_string(Priority p) {
  switch (p) {
    case Priority::High: return "high";
    case Priority::Low: return "low";
    case Priority::Internal: return "internal";
  }
  return "internal";
}

Priority priority_of(const Finding& f) {
  const auto e = f.exposure.value_or("internal");
  if (e == "public" || e == "authenticated") return Priority::High;
  if (e == "admin") return Priority::Low;
  return Priority::Internal;
}

Plan build_plan(PlanInput input) {
  Plan plan;
  std::vector<std::string> routes;
  for (const auto& f : input.findings) {
    if (f.route && std::find(routes.begin(), routes.end(), *f.route) == routes.end()) routes.push_back(*f.route);
  }
  if (input.traffic) plan.counts = count_traffic(*input.traffic, routes);

  auto make_item = [&](const Finding& f) {
    Item item;
    item.finding = f;
    item.priority = priority_of(f);
    if (plan.counts) item.traffic = f.route ? plan.counts->by_route[*f.route] : 0;
    item.effort_minutes = f.fixable ? kMinutesPerAutoFix : kMinutesPerManualFix;
    return item;
  };
  for (std::size_t i = 0; i < std::size(kPhases); ++i) {
    Phase phase;
    phase.number = static_cast<int>(i) + 1;
    phase.title = kPhases[i].title;
    phase.why = kPhases[i].why;
    std::vector<Item> items;
    for (const auto& f : input.findings) {
      if (phase_of(f.kind) == phase.number) items.push_back(make_item(f));
    }
    if (items.empty()) continue;
    // The phase's kinds that this plan holds, in the table's order.
    for (const auto& k : kKinds) {
      const bool held = std::any_of(items.begin(), items.end(), [&](const Item& item) { return item.finding.kind == k.kind; });
      if (held) phase.kinds.emplace_back(k.name);
    }
    // Files: by their most exposed item, then traffic, then how many sites they hold.
    std::map<std::string, FileGroup> groups;
    for (auto& item : items) {
      auto& g = groups[item.finding.file];
      if (g.items.empty()) {
        g.file = item.finding.file;
        g.priority = item.priority;
      }
      g.priority = std::min(g.priority, item.priority);
      if (item.traffic) g.traffic = g.traffic.value_or(0);
      g.items.push_back(item);
      phase.effort_minutes += item.effort_minutes;
    }
    for (auto& [file, g] : groups) {
      // The requests that reach the file's routes, each once.
      std::set<std::string> routes_here;
      for (const auto& item : g.items) {
        if (item.finding.route) routes_here.insert(*item.finding.route);
      }
      if (g.traffic && input.traffic) g.traffic = count_reaching(*input.traffic, routes_here);
      std::sort(g.items.begin(), g.items.end(), item_order);
      if (std::any_of(g.items.begin(), g.items.end(), [](const Item& it) { return it.finding.fixable; }))
        phase.fixable_files.push_back(file);
      phase.files.push_back(std::move(g));
    }
    std::sort(phase.files.begin(), phase.files.end(), [](const FileGroup& a, const FileGroup& b) {
      if (leaked(a) != leaked(b)) return leaked(a) > leaked(b);
      if (a.priority != b.priority) return a.priority < b.priority;
      const long ta = a.traffic.value_or(-1), tb = b.traffic.value_or(-1);
      if (ta != tb) return ta > tb;
      if (a.items.size() != b.items.size()) return a.items.size() > b.items.size();
      return a.file < b.file;
    });
    std::sort(phase.fixable_files.begin(), phase.fixable_files.end());
    phase.effort_minutes += kMinutesPerPhaseDeploy;
    // Each request of the log once, however many of the phase's routes it reached (an
    // every-request hook reaches them all).
    std::set<std::string> phase_routes;
    bool has_traffic = false;
    for (const auto& g : phase.files) {
      for (const auto& item : g.items) {
        if (item.finding.route) phase_routes.insert(*item.finding.route);
        has_traffic = has_traffic || item.traffic.has_value();
      }
    }
    phase.routes.assign(phase_routes.begin(), phase_routes.end());
    if (has_traffic && input.traffic) phase.requests = count_reaching(*input.traffic, phase_routes);
    plan.phases.push_back(std::move(phase));
  }
  for (const auto& f : input.findings) {
    if (phase_of(f.kind) == 0 || !f.fixable) plan.review.push_back(make_item(f));
  }
  std::sort(plan.review.begin(), plan.review.end(), item_order);
  plan.input = std::move(input);
  return plan;
}

void render_markdown(std::ostream& out, const Plan& plan) {
  const auto& in = plan.input;
  std::size_t fixable = 0;
  std::set<std::string> files;
  for (const auto& f : in.findings) {
    fixable += f.fixable;
    files.insert(f.file);
  }
  std::string paths;
  for (const auto& p : in.paths) paths += " " + shell_quote(p);

  out << "# Connection leak remediation plan\n\n";
  out << fmt::format("Written by `leakfix plan{}` from {} scanned: {} in {}; {} can be rewritten by `leakfix fix`, "
                     "{} need{} a person.\n\n",
                     paths, plural(in.files_scanned, "file", "files"), plural(in.findings.size(), "finding", "findings"),
                     plural(files.size(), "file", "files"), fixable, in.findings.size() - fixable,
                     in.findings.size() - fixable == 1 ? "s" : "");
  if (in.traffic && plan.counts) {
    const long on_findings = static_cast<long>(in.traffic->requests.size()) - plan.counts->unmatched;
    out << fmt::format("Traffic from `{}`: {} requests in {} lines", in.traffic_file, count(static_cast<long>(in.traffic->requests.size())),
                       count(static_cast<long>(in.traffic->lines)));
    if (in.traffic->unreadable) {
      std::string where;
      for (auto l : in.traffic->unreadable_lines) where += (where.empty() ? "" : ", ") + std::to_string(l);
      out << fmt::format(" ({} unreadable line{} skipped: line{} {}{})", count(static_cast<long>(in.traffic->unreadable)),
                         in.traffic->unreadable == 1 ? "" : "s", in.traffic->unreadable_lines.size() == 1 ? "" : "s", where,
                         in.traffic->unreadable > in.traffic->unreadable_lines.size() ? ", ..." : "");
    }
    out << fmt::format("; {} requests reached code with findings. Within each priority, the busiest routes come first.\n\n",
                       count(on_findings));
  }
  if (in.runtime) {
    long leaks = 0, matched = 0, open = 0;
    for (const auto& s : in.runtime->sites) {
      leaks += s.leaked;
      open += s.open;
    }
    for (const auto& f : in.findings) matched += f.observed ? f.observed->leaked : 0;
    out << fmt::format("Runtime counts from `{}` (leakfix_runtime, {} process{}): {} leak{} observed at {} acquiring line{}, "
                       "{} of them at findings below; {} handle{} open at the last count. Within each phase, the sites that "
                       "leaked most come first.\n\n",
                       in.runtime_file, in.runtime->processes, in.runtime->processes == 1 ? "" : "es", count(leaks),
                       leaks == 1 ? "" : "s", in.runtime->sites.size(), in.runtime->sites.size() == 1 ? "" : "s", count(matched),
                       count(open), open == 1 ? "" : "s");
  }
  if (in.findings.empty() && in.unexplained.empty()) {
    out << "Nothing to do: no acquisition leaks, and none is released by hand.\n";
    return;
  }

  out << "| Phase | What | Sites | Files | Auto-fixable | Effort |\n|---|---|---|---|---|---|\n";
  for (const auto& p : plan.phases) {
    std::size_t sites = 0, auto_sites = 0;
    for (const auto& g : p.files) {
      sites += g.items.size();
      for (const auto& i : g.items) auto_sites += i.finding.fixable;
    }
    out << fmt::format("| {} | {} | {} | {} | {} | {} |\n", p.number, p.title, sites, p.files.size(), auto_sites,
                       duration(p.effort_minutes));
  }
  if (!plan.review.empty()) out << fmt::format("| — | Manual review | {} | — | — | — |\n", plan.review.size());
  out << '\n';

  static const char* kPriorityTitle[] = {"High priority: public routes", "Low priority: admin-only routes",
                                         "Internal code: no route reaches it"};
  for (const auto& p : plan.phases) {
    out << fmt::format("## Phase {}: {}\n\n{}\n\n", p.number, p.title, p.why);
    std::size_t auto_sites = 0, manual = 0;
    for (const auto& g : p.files) {
      for (const auto& i : g.items) (i.finding.fixable ? auto_sites : manual)++;
    }
    if (!p.fixable_files.empty()) {
      out << fmt::format("Apply the {} automatic fixes (review them with `--diff` first if you like) as one commit, "
                         "from a clean work tree:\n\n```bash\n"
                         "test -z \"$(git status --porcelain --untracked-files=no)\"  # nothing else uncommitted\n{}\n{}\n```\n\n",
                         auto_sites, fix_command(p), commit_commands(p));
    }
    int current = -1;
    for (const auto& g : p.files) {
      if (static_cast<int>(g.priority) != current) {
        current = static_cast<int>(g.priority);
        out << "### " << kPriorityTitle[current] << "\n\n";
      }
      out << fmt::format("#### `{}`{}\n\n", g.file, g.traffic ? fmt::format(" ({} requests)", count(*g.traffic)) : "");
      const bool observed = in.runtime.has_value();
      out << "| Line | Function | Route | Kind | Why | Auto-fix |" << (observed ? " Observed |" : "") << "\n|---|---|---|---|---|---|"
          << (observed ? "---|" : "") << "\n";
      for (const auto& i : g.items) {
        const auto& f = i.finding;
        std::string route = route_cell(f);
        if (i.traffic) route += fmt::format(" ({} req.)", count(*i.traffic));
        out << fmt::format("| {} | `{}` | {} | {} | {} | {} |", f.span.line, cell(f.function), route, leakfix::to_string(f.kind),
                           cell(f.message), f.fixable ? "yes" : "no: " + cell(f.reason.value_or("")));
        if (observed) out << ' ' << observed_cell(f) << " |";
        out << '\n';
      }
      out << '\n';
    }
    out << fmt::format("**Effort:** {}. {} automatic × {} min to review + {} by hand × {} min + {} min to deploy and verify.\n\n",
                       duration(p.effort_minutes), auto_sites, kMinutesPerAutoFix, manual, kMinutesPerManualFix,
                       kMinutesPerPhaseDeploy);
    out << fmt::format("**Impact:** {} on {}{}.\n\n", plural(auto_sites + manual, "site", "sites"),
                       plural(p.routes.size(), "route", "routes"),
                       p.requests ? fmt::format(", which served {} requests in the log", count(*p.requests)) : "");
  }

  if (!in.unexplained.empty()) {
    out << "## Leaks no finding explains\n\nleakfix_runtime counted these leaks (or handles still open) at lines where "
           "the analysis reports nothing: each is a gap to look at by hand, and perhaps a rule to add.\n\n";
    out << "| Site | Function | Code | Leaked | Open | Last leak | Why the analysis may not see it |\n|---|---|---|---|---|---|---|\n";
    for (const auto& u : in.unexplained) {
      out << fmt::format("| `{}:{}` | `{}` | `{}` | {} | {} | {} | {} |\n", cell(u.site.file), u.site.line, cell(u.site.function),
                         cell(u.site.text), count(u.site.leaked), count(u.site.open), when(u.site.last_leak), cell(u.hint));
    }
    out << '\n';
  }

  if (!plan.review.empty()) {
    out << "## Manual review\n\nNo rewrite is proposed for these; each needs a person to decide who owns the "
           "connection.\n\n";
    out << "| File | Line | Function | Route | Kind | Reason |\n|---|---|---|---|---|---|\n";
    for (const auto& i : plan.review) {
      const auto& f = i.finding;
      out << fmt::format("| `{}` | {} | `{}` | {} | {} | {} |\n", f.file, f.span.line, cell(f.function), route_cell(f),
                         leakfix::to_string(f.kind), cell(f.reason.value_or(f.message)));
    }
    out << '\n';
  }

  out << "## Timeline\n\n| Step | When | Effort | Done when |\n|---|---|---|---|\n";
  static const char* kWhen[] = {"today", "this week", "next sprint"};
  for (const auto& p : plan.phases) {
    out << fmt::format("| Phase {}: {} | {} | {} | `leakfix scan` shows no {} finding |\n", p.number, p.title,
                       kWhen[p.number - 1], duration(p.effort_minutes), fmt::join(p.kinds, " or "));
    if (p.number == 1) out << "| Deploy and watch | 24 h after phase 1 | — | the runtime checks below hold |\n";
  }
  // Items of a phase that need a person are in that phase's effort already.
  const auto review_only = std::count_if(plan.review.begin(), plan.review.end(), [](const Item& i) { return phase_of(i.finding.kind) == 0; });
  if (!plan.review.empty())
    out << fmt::format("| Manual review | alongside phase 1 | {} | every item decided |\n",
                       review_only ? duration(static_cast<int>(review_only) * kMinutesPerManualFix) : std::string("in its phase"));
  out << fmt::format("\nEffort assumes {} min to review each automatic fix, {} min for each fix by hand and {} min per "
                     "deployment; adjust to your team.\n\n",
                     kMinutesPerAutoFix, kMinutesPerManualFix, kMinutesPerPhaseDeploy);

  out << "## Success criteria\n\n";
  for (const auto& p : plan.phases) {
    out << fmt::format("- **After phase {}:** `leakfix scan{}` reports no {} finding other than those in the manual "
                       "review list.",
                       p.number, paths, fmt::join(p.kinds, " or "));
    if (p.number == 1) out << " At runtime: checked-out connections drop to 0 when the site is idle, and the pool "
                              "shrinks back to its minimum after idle time instead of growing hour by hour.";
    if (p.number == 2) out << " At runtime: errors on these routes no longer raise the checked-out count.";
    if (in.runtime) {
      std::vector<std::string> sites;
      for (const auto& g : p.files) {
        for (const auto& i : g.items) {
          if (i.finding.observed) sites.push_back(fmt::format("`{}`", i.finding.observed->site));
        }
      }
      if (!sites.empty())
        out << fmt::format(" Measured: `leakfix_leaked_total` for the phase's {} is 0 for 24 h: {}.",
                           sites.size() == 1 ? "site" : fmt::format("{} sites", sites.size()), fmt::join(sites, ", "));
    }
    out << '\n';
  }
  out << "- **Throughout:** the count of leaked connections (those the garbage collector or a pool's finalizer "
         "returns) stays at 0.\n\n";

  out << "## Monitoring\n\n"
         "For the first 24 hours after each deployment, watch:\n\n"
         "- **Checked-out connections** (in use, not the pool's open sockets): 0 when idle; a value that never comes "
         "back to 0 is a leak still there.\n"
         "- **Pool size after idle time:** back to the pool's minimum within its idle timeout.\n"
         "- **Leaked-connection recoveries:** any connection returned by a finalizer rather than by `close()` is a "
         "path this plan missed; log the route that took it.\n"
         "- **Error rate of the changed routes:** a rewrite closes the connection at the end of the `with` block; a "
         "route that used the connection after that would fail here first.\n\n";

  out << "## Rollback\n\nEach phase is one commit, tagged `leakfix-phase-N` by the commands above. Reverting it undoes "
         "that phase and keeps the others; revert the latest phase first, since a later phase may change lines an "
         "earlier one changed (git stops and says so).\n\n";
  for (const auto& p : plan.phases) {
    if (p.fixable_files.empty()) continue;
    out << fmt::format("**Phase {}** changes {}:\n\n```bash\n{}\n```\n\n", p.number,
                       plural(p.fixable_files.size(), "file", "files"), rollback_command(p));
  }
  out << "Then redeploy. Nothing else changes: leakfix does not touch configuration or the database.\n";
}

void render_json(std::ostream& out, const Plan& plan) {
  using json = nlohmann::ordered_json;
  auto item_json = [](const Item& i) {
    json j = finding_json(i.finding);
    j["route_via"] = i.finding.route_via.empty() ? json(nullptr) : json(i.finding.route_via);
    j["priority"] = std::string(to_string(i.priority));
    j["traffic"] = i.traffic ? json(*i.traffic) : json(nullptr);
    j["effort_minutes"] = i.effort_minutes;
    return j;
  };
  json phases = json::array();
  for (const auto& p : plan.phases) {
    json items = json::array();
    json files = json::array();
    for (const auto& g : p.files) {
      files.push_back({{"file", g.file},
                       {"priority", std::string(to_string(g.priority))},
                       {"traffic", g.traffic ? json(*g.traffic) : json(nullptr)},
                       {"findings", g.items.size()}});
      for (const auto& i : g.items) items.push_back(item_json(i));
    }
    phases.push_back({{"phase", p.number},
                      {"title", p.title},
                      {"kinds", p.kinds},
                      {"effort_minutes", p.effort_minutes},
                      {"command", p.fixable_files.empty() ? json(nullptr) : json(fix_command(p))},
                      {"commit", p.fixable_files.empty() ? json(nullptr) : json(commit_commands(p))},
                      {"rollback", p.fixable_files.empty() ? json(nullptr) : json(rollback_command(p))},
                      {"changes", p.fixable_files},
                      {"files", files},
                      {"items", items}});
  }
  json review = json::array();
  for (const auto& i : plan.review) review.push_back(item_json(i));
  json traffic = nullptr;
  if (plan.input.traffic && plan.counts) {
    traffic = {{"file", plan.input.traffic_file},
               {"lines", plan.input.traffic->lines},
               {"requests", plan.input.traffic->requests.size()},
               {"unreadable", plan.input.traffic->unreadable},
               {"unmatched", plan.counts->unmatched}};
  }
  std::size_t fixable = 0;
  for (const auto& f : plan.input.findings) fixable += f.fixable;
  json doc;
  doc["version"] = 1;
  doc["summary"] = {{"files", plan.input.files_scanned}, {"findings", plan.input.findings.size()}, {"fixable", fixable}};
  doc["assumptions"] = {{"minutes_per_automatic_fix", kMinutesPerAutoFix},
                        {"minutes_per_manual_fix", kMinutesPerManualFix},
                        {"minutes_per_deployment", kMinutesPerPhaseDeploy}};
  doc["traffic"] = traffic;
  json runtime = nullptr;
  if (plan.input.runtime) {
    json unexplained = json::array();
    for (const auto& u : plan.input.unexplained) {
      unexplained.push_back({{"file", u.site.file},
                             {"line", u.site.line},
                             {"function", u.site.function},
                             {"text", u.site.text},
                             {"leaked", u.site.leaked},
                             {"open", u.site.open},
                             {"last_leak", u.site.last_leak ? json(*u.site.last_leak) : json(nullptr)},
                             {"hint", u.hint}});
    }
    runtime = {{"file", plan.input.runtime_file},
               {"format", plan.input.runtime->format},
               {"processes", plan.input.runtime->processes},
               {"sites", plan.input.runtime->sites.size()},
               {"unreadable", plan.input.runtime->unreadable},
               {"unexplained", unexplained}};
  }
  if (plan.input.runtime) doc["runtime"] = runtime;
  doc["phases"] = phases;
  doc["review"] = review;
  out << doc.dump(2) << '\n';
}

}  // namespace leakfix::plan
