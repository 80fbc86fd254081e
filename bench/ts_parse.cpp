// Reads and parses every *.py file under the given folders with tree-sitter-python, on N
// threads, and does nothing else: the floor leakfix's scan time is compared with.
//   ts-parse [-j N] [--walk] PATH...
// --walk also visits every node of each tree once with a cursor, to measure what one full
// traversal costs next to the parse.
#include <tree_sitter/api.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

extern "C" const TSLanguage* tree_sitter_python(void);

int main(int argc, char** argv) {
  int jobs = 1;
  bool walk = false;
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--walk") {
      walk = true;
      continue;
    }
    if (arg == "-j" && i + 1 < argc) {
      jobs = std::atoi(argv[++i]);
      continue;
    }
    if (std::filesystem::is_directory(arg)) {
      for (const auto& e : std::filesystem::recursive_directory_iterator(arg)) {
        if (e.is_regular_file() && e.path().extension() == ".py") files.push_back(e.path().string());
      }
    } else {
      files.push_back(arg);
    }
  }
  std::atomic<std::size_t> next{0}, nodes{0};
  auto worker = [&] {
    TSParser* parser = ts_parser_new();
    ts_parser_set_language(parser, tree_sitter_python());
    for (std::size_t i; (i = next.fetch_add(1)) < files.size();) {
      std::ifstream in(files[i], std::ios::binary);
      const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      TSTree* tree = ts_parser_parse_string(parser, nullptr, text.data(), static_cast<uint32_t>(text.size()));
      if (walk) {
        TSTreeCursor c = ts_tree_cursor_new(ts_tree_root_node(tree));
        for (bool done = false; !done;) {
          ++nodes;
          if (ts_tree_cursor_goto_first_child(&c)) continue;
          while (!ts_tree_cursor_goto_next_sibling(&c)) {
            if (!ts_tree_cursor_goto_parent(&c)) {
              done = true;
              break;
            }
          }
        }
        ts_tree_cursor_delete(&c);
      } else {
        nodes += ts_node_child_count(ts_tree_root_node(tree));
      }
      ts_tree_delete(tree);
    }
    ts_parser_delete(parser);
  };
  std::vector<std::thread> threads;
  for (int t = 1; t < jobs; ++t) threads.emplace_back(worker);
  worker();
  for (auto& t : threads) t.join();
  std::printf("%zu files parsed, %zu %s\n", files.size(), nodes.load(), walk ? "nodes visited" : "top-level nodes");
  return 0;
}
