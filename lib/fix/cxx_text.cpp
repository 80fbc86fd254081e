#include "fix/cxx_text.h"

namespace leakfix {

bool is_cxx_source(std::string_view path) {
  for (std::string_view ext : {".cpp", ".cc", ".cxx", ".c++"}) {
    if (path.size() > ext.size() && path.substr(path.size() - ext.size()) == ext) return true;
  }
  return false;
}

std::string add_includes(std::string text, const std::vector<std::string>& headers) {
  for (const auto& h : headers) {
    if (text.find("#include " + h) != std::string::npos) continue;
    // After the last #include of the leading block of comments and preprocessor lines.
    std::size_t at = 0, pos = 0;
    bool in_comment = false;
    while (pos < text.size()) {
      const auto eol = text.find('\n', pos);
      const auto next = eol == std::string::npos ? text.size() : eol + 1;
      std::string_view line(text.data() + pos, next - pos);
      const auto start = line.find_first_not_of(" \t\r\n");
      const std::string_view body = start == std::string_view::npos ? std::string_view() : line.substr(start);
      if (in_comment) {
        if (body.find("*/") != std::string_view::npos) in_comment = false;
      } else if (body.empty() || body.starts_with("//")) {
      } else if (body.starts_with("/*")) {
        in_comment = body.find("*/") == std::string_view::npos;
      } else if (body.starts_with("#")) {
        if (body.starts_with("#include")) at = next;
      } else {
        break;
      }
      pos = next;
    }
    text.insert(at, "#include " + h + "\n");
  }
  return text;
}

std::string apply_cxx_fix(const SourceFile& source, const Fix& fix) {
  std::vector<std::string> headers;
  for (const auto& i : fix.imports) headers.push_back(i.name);
  return std::string(source.bytes().substr(0, source.bom_size())) + add_includes(apply_edits(source.text(), fix.edits), headers);
}

}  // namespace leakfix
