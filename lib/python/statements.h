#pragma once
// Which top-level statements of a file the analysis needs, found from its text before parsing.
// A route file acquires in a few of its functions; parsing only those (with the imports and the
// module's other statements) is what lets a scan cost less than a parse of the whole file. A
// function that names no acquirer, release or import cannot change a verdict, as a file that
// names none cannot.
#include <tree_sitter/api.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace leakfix::python {

// Whether a byte can be part of an identifier (any non-ASCII byte may be).
bool identifier_char(char c);

// Whether the `len` bytes at `pos` are a name on their own, not part of a longer identifier
// ("connect" in `connection_ctx` is not): a byte of the name's own at either end that could
// continue an identifier must not be continued. (A name such as `g.` may end with a dot.)
bool whole_name_at(std::string_view text, std::size_t pos, std::size_t len);

// Every place where text writes one of `names` as a whole name (whole_name_at), as (index into
// names, byte), in no particular order. The names that are words are found in one pass
// (WordSearch); others (`g.`) one by one.
std::vector<std::pair<std::size_t, std::size_t>> name_mentions(std::string_view text, const std::vector<std::string>& names);

// One top-level statement as a range of whole lines: from the first line of its code (its first
// decorator) to the line before the next one's. Comments and blank lines between two statements
// belong to the first.
struct TopLevelStatement {
  uint32_t begin = 0, end = 0;  // bytes
  uint32_t row = 0;             // of begin, 0-based
  bool definition = false;      // def, async def or class, decorated or not
  bool is_class = false;
  std::string_view name;        // the definition's name
};

// The top-level statements of Python source, by its tokens: strings (triple-quoted, escaped,
// any prefix), comments, brackets and backslash continuations never end a statement, and a line
// at column 0 that continues one (`else:`, `elif`, `except`, `finally:`) does not start one.
// Simple statements joined by `;` stay one, and where the text is not valid Python the split may
// be coarser than the grammar's; never finer around code that parses. (On the 11,656 standard
// library files that parse cleanly, it is the grammar's split but for six files with `;`.)
std::vector<TopLevelStatement> top_level_statements(std::string_view text);

struct Selection {
  std::vector<TSRange> ranges;                 // to parse, in order; never all of the file
  std::vector<std::string> skipped_functions;  // names of the top-level functions left out
};

// The ranges that cover every statement but the definitions marked in `skip` (one mark per
// statement); nothing when no definition is marked.
std::optional<Selection> selection_without(std::string_view text, const std::vector<TopLevelStatement>& statements,
                                           const std::vector<char>& skip);

// The ranges to parse for an analysis that looks at calls of `names`: every statement that is not
// a definition, and the definitions whose text names one of `names` (or an alias a `NAME as
// alias` gives it), an import or a blueprint registration. Nothing (parse the whole file) when
// every definition is needed, or when a statement at module level names one of `names` other
// than in an import: what the module scope holds can be used by any function.
std::optional<Selection> select_statements(std::string_view text, const std::vector<std::string>& names);

// As select_statements, but a statement that names names[i] (or an alias of it) counts only when
// can_call(the statement's text, i) says the call it names can be the one looked for.
std::optional<Selection> select_statements_where(std::string_view text, const std::vector<std::string>& names,
                                                 const std::function<bool(std::string_view, std::size_t)>& can_call);

}  // namespace leakfix::python
