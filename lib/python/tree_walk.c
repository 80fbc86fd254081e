// Reads the runtime's internal headers: this file is built with the sources of the runtime it
// links (see CMakeLists.txt), so the layouts it reads are those of the code that made them.
#include "python/tree_walk.h"

#include <stdlib.h>

#include <language.h>
#include <length.h>
#include <subtree.h>
#include <tree.h>  // the runtime's, not python/tree.h

typedef struct {
  Subtree parent;
  const TSSymbol* aliases;  // the parent's production's alias sequence, or NULL
  const TSFieldMapEntry* fields;
  const TSFieldMapEntry* fields_end;
  Length position;  // of the next child
  uint32_t child_index;
  uint32_t structural_index;
  uint32_t depth;          // of the visible nodes among these children
  TSFieldId inherited;     // the field of the invisible parent, which its children inherit
} Frame;

static TSFieldId own_field(const Frame* f) {
  for (const TSFieldMapEntry* e = f->fields; e < f->fields_end; ++e) {
    if (!e->inherited && e->child_index == f->structural_index) return e->field_id;
  }
  return 0;
}

static Frame frame_of(const TSLanguage* language, Subtree parent, Length position, uint32_t depth, TSFieldId inherited) {
  Frame f = {parent, NULL, NULL, NULL, position, 0, 0, depth, inherited};
  f.aliases = ts_language_alias_sequence(language, parent.ptr->production_id);
  ts_language_field_map(language, parent.ptr->production_id, &f.fields, &f.fields_end);
  return f;
}

bool leakfix_walk_visible(TSNode root, LeakfixVisitFn visit, void* context) {
  if (ts_node_is_null(root)) return true;
  const TSTree* tree = root.tree;
  const TSLanguage* language = tree->language;
  const Subtree* subtree = (const Subtree*)root.id;
  LeakfixVisit v = {root, 0, 0, ts_node_symbol(root), ts_node_is_named(root), ts_node_child_count(root) > 0};
  visit(context, &v);
  if (ts_subtree_child_count(*subtree) == 0) return true;

  Frame inline_stack[64];
  Frame* stack = inline_stack;
  uint32_t capacity = 64, size = 0;
  const Length start = {ts_node_start_byte(root), ts_node_start_point(root)};
  stack[size++] = frame_of(language, *subtree, start, 1, 0);
  bool complete = true;
  while (size > 0) {
    Frame* f = &stack[size - 1];
    const uint32_t count = f->parent.ptr->child_count;
    if (f->child_index == count) {
      --size;
      continue;
    }
    const Subtree* children = ts_subtree_children(f->parent);
    const Subtree* child = &children[f->child_index];
    const Length position = f->position;
    const bool extra = ts_subtree_extra(*child);
    TSSymbol alias = 0;
    TSFieldId field = 0;
    if (!extra) {
      if (f->aliases) alias = f->aliases[f->structural_index];
      field = own_field(f);
      if (!field) field = f->inherited;
      f->structural_index++;
    }
    f->position = length_add(f->position, ts_subtree_size(*child));
    f->child_index++;
    if (f->child_index < count) f->position = length_add(f->position, ts_subtree_padding(children[f->child_index]));

    const uint32_t depth = f->depth;
    const bool has_children = ts_subtree_child_count(*child) > 0;
    const bool visible = ts_subtree_visible(*child) || alias != 0;
    if (visible) {
      v.node = ts_node_new(tree, child, position, alias);
      v.depth = depth;
      v.field = field;
      v.symbol = ts_language_public_symbol(language, alias ? alias : ts_subtree_symbol(*child));
      v.named = alias ? ts_language_symbol_metadata(language, alias).named : ts_subtree_named(*child);
      v.has_children = has_children && child->ptr->visible_child_count > 0;
      visit(context, &v);
    }
    // A visible node's children are one deeper; an invisible node's (a hidden rule's) are its
    // parent's, and inherit its field.
    if (!has_children || (!visible && child->ptr->visible_child_count == 0)) continue;
    if (size == capacity) {
      Frame* grown = (Frame*)malloc(sizeof(Frame) * capacity * 2);
      if (!grown) {
        complete = false;
        break;
      }
      for (uint32_t i = 0; i < size; ++i) grown[i] = stack[i];
      if (stack != inline_stack) free(stack);
      stack = grown;
      capacity *= 2;
    }
    stack[size++] = frame_of(language, *child, position, visible ? depth + 1 : depth, visible ? 0 : field);
  }
  if (stack != inline_stack) free(stack);
  return complete;
}
