#pragma once
// What the rewrites of lib/python share: how a file names contextlib.closing, whether close()
// releases an acquirer's handle, and the rewrite of `with acquire() as conn:`.
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "core/edit.h"
#include "core/rule.h"
#include "python/callee.h"
#include "python/rewrite.h"

namespace leakfix::python {

// How the file names contextlib.closing; `fix` gets `import contextlib` when it has no way.
std::string closing_name(const Imports& imports, Fix& fix);

// Whether close() gives this acquirer's handle back (not a pool's getconn).
bool close_releases(const RewriteContext& ctx);

// A library's acquirer (sqlite3.connect), not a function of the project.
bool library_acquirer(const Acquirer& a);

// `with acquire() as conn:` where the handle's with only scopes a transaction (sqlite3,
// psycopg2): `with closing(acquire()) as conn, conn:`. nullopt when the call is not such a with
// item.
std::optional<std::variant<Fix, std::string>> plan_with_item(const ParsedFile& file, TSNode call, std::string_view variable,
                                                            const RewriteContext& ctx);

}  // namespace leakfix::python
