// LoadYaml: the fast path, else yaml-cpp's events through TreeBuilder. What
// yaml-cpp 0.7 reads wrong as a whole text is put right here, before or
// around its parse, always keeping every byte offset where it is.
#include <yaml-cpp/parser.h>

#include <algorithm>
#include <istream>
#include <iterator>
#include <streambuf>
#include <utility>
#include <vector>

#include "schema/source_text.h"
#include "schema/yaml_builder.h"
#include "schema/yaml_source.h"

namespace specd {

namespace {

// A read-only streambuf over memory: yaml-cpp wants an istream, and copying
// each file into an istringstream costs a copy for nothing.
class MemoryBuf : public std::streambuf {
 public:
  explicit MemoryBuf(std::string_view text) {
    char* p = const_cast<char*>(text.data());
    setg(p, p, p + text.size());
  }
};

size_t NextLine(std::string_view text, size_t p) {
  size_t nl = text.find('\n', p);
  return nl == std::string_view::npos ? text.size() : nl + 1;
}

// One yaml-cpp parse of `feed`: the text, or a copy of it with the same
// offsets. The rules read `text`. A tab error sets `tab_line` to the start
// of the line yaml-cpp stopped on.
bool Parse(std::string_view feed, std::string_view text, const LoadLimits& limits, Document* doc,
           Finding* problem, size_t* tab_line) {
  *doc = Document();
  MemoryBuf buf(feed);
  std::istream in(&buf);
  TreeBuilder builder(text, limits, doc);
  try {
    YAML::Parser parser(in);
    if (!parser.HandleNextDocument(builder)) {
      *problem = Finding{0, "", "yaml-empty", "the file holds no YAML document"};
      return false;
    }
    builder.CheckPendingKey();
    if (parser.HandleNextDocument(builder) && builder.documents() < 2) {
      // An explicit empty second document ("---" alone) emits no start event.
      *problem = Finding{text.size(), "", "yaml-multiple-documents",
                         "a second YAML document follows; a spec file holds exactly one"};
      return false;
    }
  } catch (const Stop& stop) {
    *problem = stop.problem;
    return false;
  } catch (const YAML::Exception& e) {
    if (e.msg == YAML::ErrorMsg::TAB_IN_INDENTATION) {
      *tab_line = LineStartOf(text, static_cast<size_t>(std::max(0, e.mark.pos)));
    }
    *problem = builder.Explain(e);
    return false;
  }
  if (doc->empty()) {
    *problem = Finding{0, "", "yaml-empty", "the file holds no YAML document"};
    return false;
  }
  return true;
}

// Where each block scalar's text lies: from its header to the next node or
// key (a line inside it is its content).
std::vector<std::pair<size_t, size_t>> BlockScalarSpans(const Document& doc, std::string_view text) {
  std::vector<size_t> starts;
  for (size_t i = 0; i < doc.size(); ++i) {
    const Node& n = doc.node(static_cast<NodeId>(i));
    starts.push_back(n.offset);
    for (const MapEntry& e : n.entries) starts.push_back(e.key_offset);
  }
  std::sort(starts.begin(), starts.end());
  std::vector<std::pair<size_t, size_t>> spans;
  for (size_t i = 0; i < doc.size(); ++i) {
    const Node& n = doc.node(static_cast<NodeId>(i));
    size_t at = n.offset;
    while (at < text.size() && text[at] == '!') {  // a tag before the header
      while (at < text.size() && text[at] != ' ' && text[at] != '\n') ++at;
      while (at < text.size() && text[at] == ' ') ++at;
    }
    if (!n.quoted || at >= text.size() || (text[at] != '|' && text[at] != '>')) continue;
    auto next = std::upper_bound(starts.begin(), starts.end(), n.offset);
    spans.emplace_back(n.offset, next == starts.end() ? text.size() : *next);
  }
  return spans;
}

// Lines that hold only white space with a tab (and perhaps a comment): YAML
// allows them anywhere, yaml-cpp 0.7 calls the tab indentation. Parsed again
// with those tabs as spaces, except inside a block scalar, whose content
// they may be.
bool ParseWithoutTabbedBlankLines(std::string_view feed, std::string_view text, const LoadLimits& limits,
                                  Document* doc, Finding* problem) {
  std::string untabbed(feed);
  std::vector<size_t> changed;
  for (size_t line = 0; line < text.size(); line = NextLine(text, line)) {
    if (!IsTabbedBlankLine(text, line)) continue;
    changed.push_back(line);
    for (size_t p = line; p < text.size() && (text[p] == ' ' || text[p] == '\t'); ++p) untabbed[p] = ' ';
  }
  size_t tab_line = std::string_view::npos;
  if (!Parse(untabbed, text, limits, doc, problem, &tab_line)) return false;
  std::vector<std::pair<size_t, size_t>> spans = BlockScalarSpans(*doc, text);
  std::sort(spans.begin(), spans.end());
  bool restored = false;
  for (size_t line : changed) {
    // The block scalar starting last before this line, if the line is in it.
    auto after = std::upper_bound(spans.begin(), spans.end(), std::make_pair(line, size_t{0}));
    if (after == spans.begin() || line >= std::prev(after)->second) continue;
    for (size_t p = line; p < text.size() && (text[p] == ' ' || text[p] == '\t'); ++p) untabbed[p] = text[p];
    restored = true;
  }
  return !restored || Parse(untabbed, text, limits, doc, problem, &tab_line);
}

// "--- >" with its content at the left margin: the scalar is read here;
// after it, only comments, "..." or the next document's "---" may follow.
bool LoadRootBlockScalar(std::string_view text, const RootBlockScalar& root, const LoadLimits& limits,
                         Document* doc, Finding* problem) {
  size_t p = root.end;
  bool ended = p < text.size() && text.substr(p, 3) == "...";
  if (ended) p = NextLine(text, p);
  while (ended && p < text.size()) {  // comments and blank lines after "..."
    size_t q = text.find_first_not_of(" \t\r", p);
    if (q == std::string_view::npos) {
      p = text.size();
    } else if (text[q] == '\n' || text[q] == '#') {
      p = NextLine(text, q);
    } else {
      break;
    }
  }
  if (p < text.size()) {
    *problem = Finding{p, "", "yaml-multiple-documents",
                       "a second YAML document starts here; a spec file holds exactly one"};
    return false;
  }
  *doc = Document();
  TreeBuilder builder(text, limits, doc);
  YAML::Mark mark;
  mark.pos = static_cast<int>(root.header);
  try {
    builder.OnDocumentStart(mark);
    builder.OnScalar(mark, "!", 0, root.value);
  } catch (const Stop& stop) {
    *problem = stop.problem;
    return false;
  }
  return true;
}

}  // namespace

bool LoadYaml(std::string_view text, const LoadLimits& limits, Document* doc, Finding* problem,
              bool fast_path) {
  return (fast_path && LoadYamlFast(text, limits, doc)) || LoadYamlReference(text, limits, doc, problem);
}

bool LoadYamlReference(std::string_view text, const LoadLimits& limits, Document* doc, Finding* problem) {
  if (std::optional<RootBlockScalar> root = ZeroIndentedRootBlockScalar(text)) {
    return LoadRootBlockScalar(text, *root, limits, doc, problem);
  }
  // A last line of spaces with no line break after it: yaml-cpp 0.7 drops
  // the line break YAML reads there ("- |+\n   " is "\n", not ""). With the
  // break written out it reads right, and no offset moves.
  std::string with_break;
  std::string_view feed = text;
  size_t last = LineStartOf(text, text.size());
  if (last < text.size() && text.find_first_not_of(' ', last) == std::string_view::npos) {
    with_break.reserve(text.size() + 1);
    with_break.append(text).push_back('\n');
    feed = with_break;
  }
  size_t tab_line = std::string_view::npos;
  if (Parse(feed, text, limits, doc, problem, &tab_line)) return true;
  if (tab_line == std::string_view::npos || !IsTabbedBlankLine(text, tab_line)) return false;
  return ParseWithoutTabbedBlankLines(feed, text, limits, doc, problem);
}

}  // namespace specd
