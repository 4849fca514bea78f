// The output of a command that lists stored things: with --json one JSON array of the items'
// objects (docs/exit-codes.md names the commands whose --json is an array), else one text row
// per item, in the store's order either way.
#pragma once
#include <vector>

#include "cli/invocation.hpp"

namespace runctl::cli {

template <class Item, class ToJson, class PrintRow>
void print_list(const std::vector<Item>& items, bool json, ToJson to_json, PrintRow print_row) {
  if (json) {
    Json out = Json::array();
    for (const Item& item : items) out.push_back(to_json(item));
    print_json(out);
    return;
  }
  for (const Item& item : items) print_row(item);
}

}  // namespace runctl::cli
