// Prompt templates: how a dialogue becomes the model's input text.
//
// A template is text with one or more `{dialogue}` placeholders, written like a Python str.format string:
// `{{` and `}}` stand for literal braces, and any other `{...}` is an error (the only field is `dialogue`).
// The default is the prompt of the course lab that SumLab reproduces, also available as the preset "dialogsum":
//
//     PromptTemplate prompt = resolve_prompt("dialogsum");
//     std::string input = prompt.render(example.dialogue);
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace sumlab {

// The lab's prompt (preset "dialogsum"); note the trailing space after "Summary:".
inline constexpr std::string_view default_prompt_template =
    "Summarize the following conversation.\n\n{dialogue}\n\nSummary: ";

// A parsed, validated template. Rendering never re-reads the dialogue, so braces in a dialogue are kept as-is.
class PromptTemplate {
public:
    // The default template (default_prompt_template).
    PromptTemplate();

    // Parses `text`; throws ConfigError{source, key} when it has no {dialogue}, a field other than {dialogue},
    // an unmatched '{' or '}', or invalid UTF-8. `source` and `key` only name where the template came from.
    explicit PromptTemplate(std::string text, const std::string& source = "prompt template", const std::string& key = "");

    // The template as written (with its {dialogue} and doubled braces).
    const std::string& text() const { return text_; }

    // The prompt for one dialogue.
    std::string render(std::string_view dialogue) const;

    // Number of {dialogue} placeholders (at least 1).
    size_t placeholder_count() const { return literals_.size() - 1; }

private:
    std::string text_;
    // render() = literals_[0] + dialogue + literals_[1] + ... + dialogue + literals_.back()
    std::vector<std::string> literals_;
};

// A named, built-in template.
struct PromptPreset {
    std::string_view name;
    std::string_view text;
    std::string_view description;
};

// The built-in presets: "dialogsum" (the default, the lab's prompt) and "plain" (the dialogue alone).
const std::vector<PromptPreset>& prompt_presets();

// A preset by name, or a template when `name_or_template` names no preset.
// Throws ConfigError{"prompt template"} when it is neither (the message lists the presets).
PromptTemplate resolve_prompt(std::string_view name_or_template);

}  // namespace sumlab
