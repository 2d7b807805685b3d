// yaml-cpp's syntax errors, reworded to say what was expected and placed
// where the mistake is rather than where the scanner noticed it.
#include <algorithm>

#include "schema/source_text.h"
#include "schema/yaml_builder.h"

namespace specd {

Finding TreeBuilder::Explain(const YAML::Exception& e) const {
  size_t offset = std::min(static_cast<size_t>(std::max(0, e.mark.pos)), text_.size());
  std::string msg = e.msg;
  size_t line = LineStartOf(text_, offset);
  if (line < text_.size() && text_[line] == '\t') {
    return Finding{line, Pointer(), "yaml-syntax",
                   "tabs are not allowed for indentation; indent with spaces"};
  }
  bool seq_flow = msg == YAML::ErrorMsg::END_OF_SEQ_FLOW;
  if (seq_flow || msg == YAML::ErrorMsg::END_OF_MAP_FLOW) {
    for (size_t i = stack_.size(); i-- > 0;) {
      size_t at = doc_->nodes_[stack_[i].id].offset;
      char open = at < text_.size() ? text_[at] : 0;
      if (!stack_[i].flow || (open != '[' && open != '{')) continue;  // not one the text opened
      return Finding{at, Pointer(i), "yaml-syntax",
                     open == '{' ? "the mapping started here with '{' is not closed with '}'"
                                 : "the list started here with '[' is not closed with ']'"};
    }
  }
  if (msg == YAML::ErrorMsg::FLOW_END) {
    char c = offset < text_.size() ? text_[offset] : ']';
    msg = c == '}' ? "unexpected '}' (no mapping started with '{' is open here)"
                   : "unexpected ']' (no list started with '[' is open here)";
  } else if (msg == YAML::ErrorMsg::UNKNOWN_ANCHOR) {
    std::string name = AliasName(offset);
    msg = "alias *" + name + " refers to no anchor &" + name + " defined before it";
  } else if (msg == YAML::ErrorMsg::MAP_VALUE) {
    msg =
        "a 'key: value' pair is not allowed here; check the indentation, or quote a value that contains ': '";
  } else if (msg == YAML::ErrorMsg::END_OF_MAP) {
    msg =
        "this line does not fit the mapping above it: expected 'key: value' at the same indentation as its "
        "other keys";
  } else if (msg == YAML::ErrorMsg::END_OF_SEQ) {
    msg =
        "this line does not fit the list above it: expected '- ' at the same indentation as its other items";
  } else if (msg == YAML::ErrorMsg::BLOCK_ENTRY) {
    msg = "a list item ('- ') is not allowed here; check the indentation";
  } else if (msg.empty()) {
    msg = "invalid YAML";
  }
  return Finding{offset, Pointer(), "yaml-syntax", msg};
}

}  // namespace specd
