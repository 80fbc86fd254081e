// Compares the top-level statements leakfix finds from a file's text (lib/python/statements.h)
// with the grammar's, on every *.py file under the given folders that parses cleanly. The split
// may be coarser than the grammar's (statements joined by `;`), never finer: a finer one would
// cut a statement the scan then parses in part.
//   split-check PATH...
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "python/statements.h"
#include "python/tree.h"

using namespace leakfix;
using namespace leakfix::python;
namespace fs = std::filesystem;

int main(int argc, char** argv) {
  std::size_t checked = 0, coarser = 0, finer = 0, unparsed = 0;
  for (int a = 1; a < argc; ++a) {
    for (const auto& e : fs::recursive_directory_iterator(argv[a], fs::directory_options::skip_permission_denied)) {
      if (!e.is_regular_file() || e.path().extension() != ".py") continue;
      std::ifstream in(e.path(), std::ios::binary);
      const auto source = std::make_shared<const SourceFile>(
          e.path().string(), std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>()));
      const ParsedFile whole(source);
      if (ts_node_has_error(whole.root())) {
        ++unparsed;
        continue;
      }
      std::vector<uint32_t> grammar, text;
      for (uint32_t i = 0; i < ts_node_named_child_count(whole.root()); ++i) {
        const TSNode c = ts_node_named_child(whole.root(), i);
        if (!is(c, "comment")) grammar.push_back(ts_node_start_byte(c));
      }
      for (const auto& s : top_level_statements(source->text())) text.push_back(s.begin);
      ++checked;
      if (text == grammar) continue;
      const bool subset = std::includes(grammar.begin(), grammar.end(), text.begin(), text.end());
      ++(subset ? coarser : finer);
      std::printf("%s: %s (%zu statements, the grammar has %zu)\n", subset ? "coarser" : "FINER", e.path().c_str(), text.size(),
                  grammar.size());
    }
  }
  std::printf("%zu files checked: %zu split as the grammar does, %zu coarser, %zu finer; %zu with syntax errors not checked\n",
              checked, checked - coarser - finer, coarser, finer, unparsed);
  return finer == 0 ? 0 : 1;
}
