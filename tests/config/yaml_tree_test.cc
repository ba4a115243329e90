#include "config/yaml_tree.h"

#include <gtest/gtest.h>

namespace wxpay {
namespace {

YamlNode Parsed(std::string_view text) {
  auto result = ParseYaml(text);
  EXPECT_TRUE(result.ok()) << (result.ok() ? "" : result.error().message);
  return result.ok() ? *result : YamlNode{};
}

TEST(YamlTree, KeepsDuplicateKeysInOrderWithOneBasedLines) {
  const YamlNode root = Parsed("# comment\na: 1\nb:\n  c: x\na: 2\n");
  ASSERT_TRUE(root.IsMapping());
  ASSERT_EQ(root.entries.size(), 3u);
  EXPECT_EQ(root.entries[0].first.text, "a");
  EXPECT_EQ(root.entries[0].first.line, 2);
  EXPECT_EQ(root.entries[0].second.text, "1");
  EXPECT_EQ(root.entries[1].first.text, "b");
  EXPECT_EQ(root.entries[1].first.line, 3);
  ASSERT_TRUE(root.entries[1].second.IsMapping());
  EXPECT_EQ(root.entries[1].second.entries[0].first.line, 4);
  EXPECT_EQ(root.entries[2].first.text, "a");
  EXPECT_EQ(root.entries[2].first.line, 5);
  EXPECT_EQ(root.entries[2].second.text, "2");
}

TEST(YamlTree, DistinguishesNullQuotedAndPlainScalars) {
  const YamlNode root = Parsed("a:\nb: ~\nc: \"~\"\nd: ''\ne: plain\nf: [1, x]\n");
  ASSERT_EQ(root.entries.size(), 6u);
  EXPECT_TRUE(root.entries[0].second.IsNull());
  EXPECT_TRUE(root.entries[1].second.IsNull());
  EXPECT_TRUE(root.entries[2].second.IsScalar());
  EXPECT_TRUE(root.entries[2].second.quoted);
  EXPECT_EQ(root.entries[2].second.text, "~");
  EXPECT_TRUE(root.entries[3].second.IsScalar());
  EXPECT_EQ(root.entries[3].second.text, "");
  EXPECT_FALSE(root.entries[4].second.quoted);
  ASSERT_TRUE(root.entries[5].second.IsSequence());
  EXPECT_EQ(root.entries[5].second.items.size(), 2u);
}

TEST(YamlTree, ResolvesAliasesByCopy) {
  const YamlNode root = Parsed("a: &tls {ca_file: /x}\nb: *tls\n");
  ASSERT_EQ(root.entries.size(), 2u);
  ASSERT_TRUE(root.entries[1].second.IsMapping());
  EXPECT_EQ(root.entries[1].second.entries[0].second.text, "/x");
  EXPECT_EQ(root.entries[1].second.line, 2);
}

TEST(YamlTree, EmptyTextIsNull) {
  EXPECT_TRUE(Parsed("").IsNull());
  EXPECT_TRUE(Parsed("# only a comment\n").IsNull());
}

TEST(YamlTree, SyntaxErrorsCarryOneBasedLine) {
  auto result = ParseYaml("a: 1\nb: [1, 2\nc: 3\n");
  ASSERT_FALSE(result.ok());
  EXPECT_GE(result.error().line, 2);
  EXPECT_EQ(result.error().message.rfind("YAML syntax error: ", 0), 0u) << result.error().message;

  auto indented = ParseYaml("a: 1\n b: 2\n");
  ASSERT_FALSE(indented.ok());
  EXPECT_EQ(indented.error().line, 2);
  EXPECT_EQ(indented.error().message, "YAML syntax error: illegal map value");
}

TEST(YamlTree, UnquotedVariableInAFlowCollectionGetsAHint) {
  auto result = ParseYaml("a: 1\nb: [${DIR}/x.pem]\n");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().line, 2);
  EXPECT_EQ(result.error().message,
            "YAML syntax error: end of sequence flow not found (inside [ ] or { }, quote a value that uses ${...}, "
            "e.g. [\"${NAME}/file.pem\"])");
  EXPECT_TRUE(ParseYaml("a: 1\nb: [\"${DIR}/x.pem\"]\n").ok());
}

TEST(YamlTree, ASecondDocumentIsAnError) {
  auto result = ParseYaml("a: 1\n---\nb: 2\n");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().line, 3);
  EXPECT_EQ(result.error().message,
            "a second YAML document is not allowed; keep the whole configuration in one document (remove the ---)");
}

TEST(YamlTree, DescribeNode) {
  EXPECT_EQ(DescribeNode(Parsed("[1]")), "a list");
  EXPECT_EQ(DescribeNode(Parsed("{a: 1}")), "a mapping");
  EXPECT_EQ(DescribeNode(YamlNode{}), "an empty value");
  EXPECT_EQ(DescribeNode(Parsed("abc")), "\"abc\"");
  EXPECT_EQ(DescribeNode(Parsed("abc"), false), "a text value");
  EXPECT_EQ(DescribeNode(Parsed(std::string(70, 'x'))), "\"" + std::string(60, 'x') + "...\"");
}

}  // namespace
}  // namespace wxpay
