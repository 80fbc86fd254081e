#pragma once
// Where a function can be reached from: Flask routes (app and blueprint decorators, the
// blueprint's url_prefix where it is defined or registered), auth decorators, and the callers of
// helpers. Gives each finding its route and exposure.
#include <set>
#include <string>
#include <vector>

#include "core/finding.h"
#include "core/rule.h"
#include "python/tree.h"

namespace leakfix::python {

struct RouteDecl {
  std::string owner;                 // the app or blueprint variable: "branding_bp"
  std::string path;                  // as written: "/<tenant>"
  std::vector<std::string> methods;  // GET when none are given
  bool every_request = false;        // before_request / before_app_request
  bool app_wide = false;             // before_app_request, or an app's before_request
};

struct FunctionFacts {
  std::string name;                     // dotted inside the file
  std::vector<RouteDecl> routes;
  std::vector<std::string> decorators;  // last segment of every other decorator: "admin_required"
  std::set<std::string> calls;          // last segment of every function it calls
};

struct BlueprintDecl {
  std::string variable;
  std::string url_prefix;
  bool is_app = false;  // Flask(...)
};

struct Registration {
  std::string variable;  // the blueprint registered
  std::string url_prefix;
  bool has_prefix = false;
};

struct FileRoutes {
  std::string file;
  std::vector<BlueprintDecl> blueprints;
  std::vector<Registration> registrations;
  std::vector<FunctionFacts> functions;
};

// The routes and decorators of a file's functions (and the calls they make, with `calls`), its
// blueprints and registrations.
FileRoutes extract_routes(const ParsedFile& file, bool calls);

// Whether a file's text can hold anything extract_routes would find worth having.
bool mentions_routes(std::string_view text);

// Sets route and exposure ("public", "authenticated", "admin", "internal") on every finding
// whose file is among `files`. A helper without a route takes the most exposed of its callers.
void annotate_exposure(std::vector<Finding>& findings, const std::vector<FileRoutes>& files, const Exposure& config);

}  // namespace leakfix::python
