#include "config/yaml_tree.h"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/mark.h>
#include <yaml-cpp/parser.h>

#include <map>
#include <optional>
#include <sstream>

namespace wxpay {
namespace {

int LineOf(const YAML::Mark& mark) { return mark.is_null() ? 1 : mark.line + 1; }

// Turns yaml-cpp's event stream into a YamlNode tree.
class TreeBuilder final : public YAML::EventHandler {
 public:
  std::optional<YamlNode> TakeRoot() { return std::move(root_); }

  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}

  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    YamlNode node;
    node.line = LineOf(mark);
    Emit(std::move(node), anchor);
  }

  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    auto it = anchors_.find(anchor);
    YamlNode node = it != anchors_.end() ? it->second : YamlNode{};
    node.line = LineOf(mark);
    Emit(std::move(node), 0);
  }

  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                const std::string& value) override {
    YamlNode node;
    node.kind = YamlNode::Kind::kScalar;
    node.line = LineOf(mark);
    node.text = value;
    node.quoted = tag != "?";  // "?" = plain; "!" = quoted; anything else = explicit tag
    Emit(std::move(node), anchor);
  }

  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    Open(YamlNode::Kind::kSequence, mark, anchor);
  }
  void OnSequenceEnd() override { Close(); }

  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    Open(YamlNode::Kind::kMapping, mark, anchor);
  }
  void OnMapEnd() override { Close(); }

 private:
  struct Frame {
    YamlNode node;
    YAML::anchor_t anchor = 0;
    std::optional<YamlNode> pending_key;  // mappings: a key waiting for its value
  };

  void Open(YamlNode::Kind kind, const YAML::Mark& mark, YAML::anchor_t anchor) {
    Frame frame;
    frame.node.kind = kind;
    frame.node.line = LineOf(mark);
    frame.anchor = anchor;
    stack_.push_back(std::move(frame));
  }

  void Close() {
    Frame frame = std::move(stack_.back());
    stack_.pop_back();
    Emit(std::move(frame.node), frame.anchor);
  }

  void Emit(YamlNode node, YAML::anchor_t anchor) {
    if (anchor != 0) anchors_[anchor] = node;
    if (stack_.empty()) {
      root_ = std::move(node);
      return;
    }
    Frame& top = stack_.back();
    if (top.node.kind == YamlNode::Kind::kSequence) {
      top.node.items.push_back(std::move(node));
    } else if (!top.pending_key) {
      top.pending_key = std::move(node);
    } else {
      top.node.entries.emplace_back(std::move(*top.pending_key), std::move(node));
      top.pending_key.reset();
    }
  }

  std::vector<Frame> stack_;
  std::map<YAML::anchor_t, YamlNode> anchors_;
  std::optional<YamlNode> root_;
};

// In [ ] and { }, "{" ends a plain scalar, so an unquoted ${NAME} there is a
// syntax error; say so when the failing line looks like that.
std::string FlowHint(std::string_view text, int line) {
  std::size_t start = 0;
  for (int i = 1; i < line && start != std::string_view::npos; ++i) {
    start = text.find('\n', start);
    if (start != std::string_view::npos) ++start;
  }
  if (start == std::string_view::npos) return "";
  const std::string_view content = text.substr(start, text.find('\n', start) - start);
  const bool flow = content.find_first_of("[{") != std::string_view::npos;
  if (!flow || content.find("${") == std::string_view::npos) return "";
  return " (inside [ ] or { }, quote a value that uses ${...}, e.g. [\"${NAME}/file.pem\"])";
}

}  // namespace

std::string DescribeNode(const YamlNode& node, bool quote_scalar) {
  switch (node.kind) {
    case YamlNode::Kind::kNull: return "an empty value";
    case YamlNode::Kind::kSequence: return "a list";
    case YamlNode::Kind::kMapping: return "a mapping";
    case YamlNode::Kind::kScalar: break;
  }
  if (!quote_scalar) return "a text value";
  constexpr std::size_t kMaxShown = 60;
  if (node.text.size() > kMaxShown) return "\"" + node.text.substr(0, kMaxShown) + "...\"";
  return "\"" + node.text + "\"";
}

Result<YamlNode, YamlSyntaxError> ParseYaml(std::string_view text) {
  std::istringstream in{std::string(text)};
  try {
    YAML::Parser parser(in);
    TreeBuilder builder;
    if (!parser.HandleNextDocument(builder)) return YamlNode{};
    std::optional<YamlNode> root = builder.TakeRoot();
    TreeBuilder second;
    if (parser.HandleNextDocument(second)) {
      const std::optional<YamlNode> next = second.TakeRoot();
      return YamlSyntaxError{next ? next->line : 1,
                             "a second YAML document is not allowed; keep the whole configuration "
                             "in one document (remove the ---)"};
    }
    if (!root) return YamlNode{};
    return std::move(*root);
  } catch (const YAML::Exception& e) {
    const int line = LineOf(e.mark);
    return YamlSyntaxError{line, "YAML syntax error: " + e.msg + FlowHint(text, line)};
  }
}

}  // namespace wxpay
