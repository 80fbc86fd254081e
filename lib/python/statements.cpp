#include "python/statements.h"

#include <algorithm>

#include "core/word_search.h"

namespace leakfix::python {

bool identifier_char(char c) { return word_byte(c); }

bool whole_name_at(std::string_view text, std::size_t pos, std::size_t len) {
  if (len == 0 || pos + len > text.size()) return false;
  if (identifier_char(text[pos]) && pos > 0 && identifier_char(text[pos - 1])) return false;
  const std::size_t end = pos + len;
  return !(identifier_char(text[end - 1]) && end < text.size() && identifier_char(text[end]));
}

std::vector<std::pair<std::size_t, std::size_t>> name_mentions(std::string_view text, const std::vector<std::string>& names) {
  std::vector<std::string> words;
  std::vector<std::size_t> word_name;
  std::vector<std::pair<std::size_t, std::size_t>> out;
  for (std::size_t n = 0; n < names.size(); ++n) {
    const auto& name = names[n];
    if (WordSearch::is_word(name)) {
      words.push_back(name);
      word_name.push_back(n);
      continue;
    }
    for (auto pos = text.find(name); pos != std::string_view::npos; pos = text.find(name, pos + name.size())) {
      if (whole_name_at(text, pos, name.size())) out.emplace_back(n, pos);
    }
  }
  for (const auto& hit : WordSearch(words).find_all(text)) out.emplace_back(word_name[hit.name], hit.at);
  return out;
}

namespace {

// Whether `word` is written at i, as a whole word.
bool word_at(std::string_view text, std::size_t i, std::string_view word) {
  return text.substr(i, word.size()) == word && (i + word.size() >= text.size() || !identifier_char(text[i + word.size()]));
}

std::size_t skip_blanks(std::string_view text, std::size_t i) {
  while (i < text.size() && (text[i] == ' ' || text[i] == '\t' || text[i] == '\f')) ++i;
  return i;
}

std::string_view identifier_at(std::string_view text, std::size_t i) {
  std::size_t j = i;
  while (j < text.size() && identifier_char(text[j])) ++j;
  return text.substr(i, j - i);
}

struct Definition {
  std::string_view name;
  bool is_class = false;
};

// For a definition's line: its name; nothing for a line that is not a def or class.
std::optional<Definition> definition_at(std::string_view text, std::size_t i) {
  if (word_at(text, i, "async")) {
    const std::size_t j = skip_blanks(text, i + 5);
    if (j == i + 5 || !word_at(text, j, "def")) return std::nullopt;
    i = j;
  }
  for (const std::string_view kw : {"def", "class"}) {
    if (!word_at(text, i, kw)) continue;
    return Definition{identifier_at(text, skip_blanks(text, i + kw.size())), kw == "class"};
  }
  return std::nullopt;
}

// The clauses a compound statement continues with at its own indentation.
bool continues_statement(std::string_view text, std::size_t i) {
  return word_at(text, i, "else") || word_at(text, i, "elif") || word_at(text, i, "except") || word_at(text, i, "finally");
}

// Skips the string literal whose opening quote is at i; counts the lines it spans. Backslashes
// escape the next character in every kind of string for the purpose of finding its end (a raw
// string cannot end in an odd backslash either). A one-line string ends at an unescaped newline.
std::size_t skip_string(std::string_view text, std::size_t i, uint32_t& row) {
  const char q = text[i];
  auto three = [&](std::size_t at) { return at + 2 < text.size() && text[at + 1] == q && text[at + 2] == q; };
  const bool triple = three(i);
  std::size_t j = i + (triple ? 3 : 1);
  while (j < text.size()) {
    const char c = text[j];
    if (c == '\\') {
      if (text.substr(j + 1, 2) == "\r\n") {
        ++row;
        j += 3;
        continue;
      }
      if (j + 1 < text.size() && text[j + 1] == '\n') ++row;
      j += 2;
      continue;
    }
    if (c == '\n') {
      if (!triple) return j;  // unterminated: the line ends it
      ++row;
      ++j;
      continue;
    }
    if (c == q && (!triple || three(j))) return j + (triple ? 3 : 1);
    ++j;
  }
  return text.size();
}

}  // namespace

std::vector<TopLevelStatement> top_level_statements(std::string_view text) {
  std::vector<TopLevelStatement> out;
  int depth = 0;                // open brackets
  bool continued = false;       // the last line ended in a backslash
  bool decorators_only = false; // the current statement has had decorators and no def yet
  uint32_t row = 0;
  const std::size_t n = text.size();
  std::size_t i = 0;
  while (i < n) {
    // At the start of a physical line.
    const char first = text[i];
    const bool code_at_column_0 = first != ' ' && first != '\t' && first != '\f' && first != '\r' && first != '\n' &&
                                  first != '#' && first != '\\';
    if (depth == 0 && !continued && code_at_column_0 && !continues_statement(text, i)) {
      const bool decorator = first == '@';
      const auto def = decorator ? std::nullopt : definition_at(text, i);
      if (decorators_only && (decorator || def)) {
        if (def) {
          out.back().name = def->name;
          out.back().is_class = def->is_class;
          decorators_only = false;
        }
      } else {
        if (!out.empty()) out.back().end = static_cast<uint32_t>(i);
        TopLevelStatement s;
        s.begin = static_cast<uint32_t>(i);
        s.row = row;
        s.definition = decorator || def.has_value();
        if (def) {
          s.name = def->name;
          s.is_class = def->is_class;
        }
        out.push_back(s);
        decorators_only = decorator;
      }
    }
    continued = false;
    // The rest of the line, token by token.
    while (i < n) {
      const char c = text[i];
      if (c == '\n') {
        ++i;
        ++row;
        break;
      }
      if (c == '#') {
        while (i < n && text[i] != '\n') ++i;
        continue;
      }
      if (c == '\\') {
        const bool crlf = text.substr(i + 1, 2) == "\r\n";
        if (crlf || (i + 1 < n && text[i + 1] == '\n')) {
          continued = true;
          ++row;
          i += crlf ? 3 : 2;
          break;
        }
        ++i;
        continue;
      }
      if (c == '\'' || c == '"') {
        i = skip_string(text, i, row);
        continue;
      }
      if (c == '(' || c == '[' || c == '{') ++depth;
      else if ((c == ')' || c == ']' || c == '}') && depth > 0) --depth;
      ++i;
    }
  }
  if (!out.empty()) out.back().end = static_cast<uint32_t>(n);
  return out;
}

std::optional<Selection> select_statements(std::string_view text, const std::vector<std::string>& names) {
  return select_statements_where(text, names, [](std::string_view, std::size_t) { return true; });
}

std::optional<Selection> select_statements_where(std::string_view text, const std::vector<std::string>& names_in,
                                                 const std::function<bool(std::string_view, std::size_t)>& can_call) {
  const auto statements = top_level_statements(text);
  if (statements.empty()) return std::nullopt;
  // Which statements mention what.
  std::vector<char> names_hit(statements.size(), 0), others_hit(statements.size(), 0);
  auto statement_at = [&](std::size_t pos) {
    const auto it = std::upper_bound(statements.begin(), statements.end(), pos,
                                     [](std::size_t p, const TopLevelStatement& s) { return p < s.begin; });
    return it == statements.begin() ? statements.size() : static_cast<std::size_t>(std::prev(it) - statements.begin());
  };
  auto mark = [&](std::string_view word, std::vector<char>& hit) {
    for (auto pos = text.find(word); pos != std::string_view::npos; pos = text.find(word, pos + word.size())) {
      if (const auto k = statement_at(pos); k < statements.size()) hit[k] = 1;
    }
  };
  // The names, and those a `NAME as alias` (an import) gives another name to, each with the
  // name it stands for.
  std::vector<std::pair<std::string, std::size_t>> names;
  for (std::size_t i = 0; i < names_in.size(); ++i) names.emplace_back(names_in[i], i);
  std::vector<char> tried(statements.size() * names_in.size(), 0);
  auto blank = [&](std::size_t i) {
    return i < text.size() && (text[i] == ' ' || text[i] == '\t' || text[i] == '\r' || text[i] == '\n' || text[i] == '\\');
  };
  // Names an alias adds are looked for in a pass of their own.
  for (std::size_t from = 0; from < names.size();) {
    const std::size_t end = names.size();
    std::vector<std::string> batch;
    for (std::size_t n = from; n < end; ++n) batch.push_back(names[n].first);
    for (const auto& [b, pos] : name_mentions(text, batch)) {
      const auto [name, origin] = names[from + b];  // a copy: aliases are appended while it is searched for
      if (const auto k = statement_at(pos); k < statements.size() && !names_hit[k] && !tried[k * names_in.size() + origin]) {
        tried[k * names_in.size() + origin] = 1;
        names_hit[k] = can_call(text.substr(statements[k].begin, statements[k].end - statements[k].begin), origin) ? 1 : 0;
      }
      std::size_t j = pos + name.size();
      while (blank(j)) ++j;
      if (j == pos + name.size() || !word_at(text, j, "as")) continue;
      std::size_t a = j + 2;
      while (blank(a)) ++a;
      const auto alias = identifier_at(text, a);
      const bool known = std::any_of(names.begin(), names.end(), [&](const auto& m) { return m.first == alias; });
      if (a > j + 2 && !alias.empty() && !known) names.emplace_back(std::string(alias), origin);
    }
    from = end;
  }
  // Imports anywhere resolve names for the whole file; registrations give routes their prefix.
  mark("import", others_hit);
  mark("register_blueprint", others_hit);

  std::vector<char> skip(statements.size(), 0);
  for (std::size_t k = 0; k < statements.size(); ++k) {
    const auto& s = statements[k];
    if (!s.definition) {
      const bool is_import = word_at(text, s.begin, "import") || word_at(text, s.begin, "from");
      if (names_hit[k] && !is_import) return std::nullopt;
      continue;
    }
    skip[k] = !names_hit[k] && !others_hit[k];
  }
  return selection_without(text, statements, skip);
}

std::optional<Selection> selection_without(std::string_view text, const std::vector<TopLevelStatement>& statements,
                                           const std::vector<char>& skip) {
  Selection out;
  for (std::size_t k = 0; k < statements.size(); ++k) {
    if (skip[k] && !statements[k].name.empty() && !statements[k].is_class) out.skipped_functions.emplace_back(statements[k].name);
  }
  if (std::none_of(skip.begin(), skip.end(), [](char c) { return c != 0; })) return std::nullopt;

  // One range per run of kept statements. A statement begins at column 0; the file's end may not.
  auto point_at = [&](std::size_t k) {
    if (k < statements.size()) return TSPoint{statements[k].row, 0};
    const auto last_newline = text.rfind('\n');
    const uint32_t rows = static_cast<uint32_t>(std::count(text.begin() + statements.back().begin, text.end(), '\n'));
    const std::size_t line_start = last_newline == std::string_view::npos ? 0 : last_newline + 1;
    return TSPoint{statements.back().row + rows, static_cast<uint32_t>(text.size() - line_start)};
  };
  for (std::size_t k = 0; k < statements.size();) {
    if (skip[k]) {
      ++k;
      continue;
    }
    std::size_t e = k;
    while (e < statements.size() && !skip[e]) ++e;
    TSRange r;
    r.start_byte = statements[k].begin;
    r.start_point = point_at(k);
    r.end_byte = e < statements.size() ? statements[e].begin : static_cast<uint32_t>(text.size());
    r.end_point = point_at(e);
    out.ranges.push_back(r);
    k = e;
  }
  return out;
}

}  // namespace leakfix::python
