// The output of a command that lists stored things: with --json one object whose `key` names
// the array of the items' objects (docs/cli.md, "JSON"), else one text row per item, in the
// store's order either way.
#pragma once
#include <vector>

#include "cli/invocation.hpp"

namespace runctl::cli {

template <class Item, class ToJson, class PrintRow>
void print_list(const char* key, const std::vector<Item>& items, bool json, ToJson to_json,
                PrintRow print_row) {
  if (json) {
    Json list = Json::array();
    for (const Item& item : items) list.push_back(to_json(item));
    print_json(Json{{key, std::move(list)}});
    return;
  }
  for (const Item& item : items) print_row(item);
}

}  // namespace runctl::cli
