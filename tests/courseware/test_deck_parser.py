"""The Marp deck parser: plain Python, no database."""

import re
from datetime import date
from textwrap import dedent

import pytest

from courseware.decks import DeckError, ParsedDeck, parse_deck
from tests.conftest import FIXTURES

DECKS = FIXTURES / "decks"

SEED_OBJECTIVES = [
    "Understand the basic concepts of Transformer models.",
    "Explore the architecture and applications of Transformers.",
    "Introduction to Hugging Face and its tools.",
    "Learn how to get started with Transformers using Hugging Face.",
]
SEED_HOMEWORK = [
    "Review the key concepts covered today.",
    "Explore the Hugging Face Model Hub and try loading different models.",
    "Watch related videos on Transformers and their applications.",
    "Prepare questions for the guest lecture by Philipp Bayer.",
]
# The seed deck has 15 `---` lines after its front matter, none inside code: 16 slides.
SEED_SLIDE_COUNT = 16


def deck(markdown: str) -> ParsedDeck:
    return parse_deck(dedent(markdown).lstrip("\n"))


def minimal(body: str, front_matter: str = "marp: true") -> str:
    """A valid deck: front matter, a title slide, then `body` as further slides."""
    return f"---\n{front_matter}\n---\n\n## Session 3: Testing\n\n---\n\n{dedent(body).strip()}\n"


@pytest.fixture
def seed(seed_deck_source) -> ParsedDeck:
    return parse_deck(seed_deck_source)


class TestSeedDeck:
    def test_session_number_and_title_come_from_the_lead_slide_heading(self, seed):
        # The front matter's `# title:` line is a YAML comment, so the heading is used.
        assert seed.number == 12
        assert seed.title == "Introduction to Transformers and Hugging Face"
        assert "title" not in seed.front_matter

    def test_lecturer(self, seed):
        assert seed.lecturer == "Jordan Hill"

    def test_course_code_and_title_from_the_lead_heading(self, seed):
        assert seed.course_code == "ICTSS00120"
        assert seed.course_title == "Artificial Intelligence Skill Set"

    def test_learning_objectives(self, seed):
        assert seed.objectives == SEED_OBJECTIVES

    def test_homework_tasks_and_intro(self, seed):
        assert seed.homework == SEED_HOMEWORK
        assert seed.homework_intro == (
            "Next Week: Cover the CRISP-DM process for machine learning projects."
        )

    def test_no_date_in_front_matter(self, seed):
        assert seed.date is None

    def test_slide_count_and_numbering(self, seed):
        assert len(seed.slides) == SEED_SLIDE_COUNT
        assert [s.index for s in seed.slides] == list(range(1, SEED_SLIDE_COUNT + 1))
        assert seed.slides_html.count("<section ") == SEED_SLIDE_COUNT

    def test_lead_slide_class_comes_from_the_spot_directive(self, seed):
        lead = seed.slides[0]
        assert lead.css_class == "lead"
        assert lead.directives == {"_class": "lead"}
        assert [s.css_class for s in seed.slides[1:]] == [""] * (SEED_SLIDE_COUNT - 1)
        assert seed.slides_html.startswith(
            '<section class="slide lead" id="slide-1" aria-label="Slide 1">'
        )

    def test_directive_comment_is_not_rendered_or_kept_in_markdown(self, seed):
        assert "_class" not in seed.slides_html
        assert "<!--" not in seed.slides_html
        assert "_class" not in seed.slides[0].markdown
        assert seed.speaker_notes == []

    def test_style_script_and_iframe_are_removed_with_their_content(self, seed):
        html = seed.slides_html.lower()
        assert "<style" not in html
        assert "text-align: right" not in html  # the scoped style's CSS is not left as text
        assert "<script" not in html
        assert "<iframe" not in html
        assert "style=" not in html

    def test_youtube_iframe_becomes_a_link(self, seed):
        assert (
            '<p class="embed-link">Embedded: <a href="https://www.youtube.com/embed/wjZofJX0v4M"'
            in seed.slides_html
        )
        assert "But what is a GPT? Visual intro to transformers" in seed.slides_html

    def test_background_images_get_the_slide_bg_class_and_empty_alt(self, seed):
        images = re.findall(r"<img [^>]*>", seed.slides_html)
        assert images
        assert all('class="slide-bg"' in img and 'alt=""' in img for img in images)
        assert all('loading="lazy"' in img for img in images)

    def test_code_blocks_keep_their_language_class(self, seed):
        assert '<code class="language-bash">pip install transformers' in seed.slides_html
        assert seed.slides_html.count('class="language-python"') == 3

    def test_links_open_safely(self, seed):
        link = re.search(r'<a href="https://huggingface.co/models"[^>]*>', seed.slides_html)
        assert link
        assert 'rel="noopener noreferrer"' in link[0]


class TestSlideSplitting:
    def test_separator_inside_a_fenced_code_block_does_not_split(self):
        parsed = deck(
            minimal(
                """
                ## YAML front matter

                ```yaml
                ---
                marp: true
                ---
                ```

                ---

                ## Next
                """
            )
        )
        assert len(parsed.slides) == 3
        assert '<pre><code class="language-yaml">---\nmarp: true\n---\n</code></pre>' in (
            parsed.slides[1].html
        )

    def test_a_fence_closes_only_with_the_same_character_and_at_least_its_length(self):
        parsed = deck(
            minimal(
                """
                ~~~~markdown
                ---
                ~~~
                ---
                ```
                ---
                ~~~~~

                ---

                ## Last
                """
            )
        )
        assert len(parsed.slides) == 3
        assert parsed.slides[2].markdown == "## Last"

    def test_a_rule_indented_into_a_list_items_fence_is_code(self):
        parsed = deck(
            minimal(
                """
                1. Start a new slide with:
                   ```markdown
                   ---
                   ```
                2. Then add a heading.
                """
            )
        )
        assert len(parsed.slides) == 2

    def test_a_rule_at_the_margin_ends_the_list_item_and_its_fence_as_in_marp(self):
        parsed = deck(
            minimal(
                """
                1. Start a new slide with:
                   ```markdown
                ---
                   ```
                2. Then add a heading.
                """
            )
        )
        assert len(parsed.slides) == 3

    def test_asterisk_underscore_and_indented_rules_split_as_in_marp(self):
        parsed = deck(minimal("## A\n***\n## B\n___\n## C\n   ---\n## D\n> ---\n"))
        assert [s.markdown.splitlines()[0] for s in parsed.slides[1:]] == [
            "## A",
            "## B",
            "## C",
            "## D",
        ]

    def test_text_directly_above_a_rule_is_a_heading_not_a_slide_break(self):
        parsed = deck(minimal("Key idea\n---\n\nStill the same slide."))
        assert len(parsed.slides) == 2
        assert parsed.slides[1].html == "<h2>Key idea</h2>\n<p>Still the same slide.</p>"

    def test_heading_divider_in_front_matter_starts_a_slide_at_each_heading(self):
        parsed = deck("---\nheadingDivider: 2\n---\n# Session 1: A\n## B\ntext\n### C\n## D\n")
        assert [s.markdown for s in parsed.slides] == [
            "# Session 1: A",
            "## B\ntext\n### C",
            "## D",
        ]

    def test_heading_divider_levels_and_the_last_directive_wins(self):
        source = "<!-- headingDivider: [1, 3] -->\n# Session 1: A\n## B\n### C\n# D\n"
        assert len(deck(source).slides) == 3
        assert len(deck(source + "<!-- headingDivider: false -->\n").slides) == 1

    def test_a_heading_divider_and_a_rule_together_leave_an_empty_slide_as_in_marp(self):
        parsed = deck("---\nheadingDivider: 2\n---\n# Session 1: A\n\n---\n\n## B\n")
        assert [s.markdown for s in parsed.slides] == ["# Session 1: A", "", "## B"]

    def test_separator_with_trailing_whitespace_splits(self):
        assert len(deck(minimal("## A\n---   \n## B")).slides) == 3

    def test_empty_slides_at_the_start_and_end_are_kept_as_in_marp(self):
        parsed = deck(
            """
            ---
            marp: true
            ---

            ---

            ## Session 3: Testing

            ---

            ---
            """
        )
        assert [s.index for s in parsed.slides] == [1, 2, 3, 4]
        assert [s.markdown for s in parsed.slides] == ["", "## Session 3: Testing", "", ""]
        assert parsed.title == "Testing"

    def test_deck_without_front_matter(self):
        parsed = deck("## Session 3: Testing\n\n---\n\n## Two\n")
        assert parsed.front_matter == {}
        assert len(parsed.slides) == 2


class TestComments:
    def test_non_directive_comment_is_a_speaker_note_and_never_rendered(self):
        parsed = deck(
            minimal(
                """
                ## Attention

                <!-- Ask who has read "Attention is all you need". -->
                Attention lets the model weigh the input. <!-- pause here -->
                """
            )
        )
        slide = parsed.slides[1]
        assert slide.notes == ['Ask who has read "Attention is all you need".', "pause here"]
        assert parsed.speaker_notes == [
            {"slide": 2, "text": 'Ask who has read "Attention is all you need".'},
            {"slide": 2, "text": "pause here"},
        ]
        assert "Ask who" not in parsed.slides_html
        assert "pause here" not in parsed.slides_html
        assert "Ask who" not in slide.markdown
        assert "Attention lets the model weigh the input." in slide.html

    def test_multi_line_note(self):
        parsed = deck(minimal("## A\n\n<!--\nFirst point.\nSecond point.\n-->\n"))
        assert parsed.slides[1].notes == ["First point.\nSecond point."]

    def test_a_comment_spanning_slide_breaks_is_one_hidden_note(self):
        parsed = deck(
            minimal(
                """
                ## Exercise

                What is 2 + 2?

                <!--
                SOLUTION

                ---

                ## Answer: 4
                -->

                ---

                ## Next
                """
            )
        )
        assert len(parsed.slides) == 3
        assert parsed.slides[1].notes == ["SOLUTION\n\n---\n\n## Answer: 4"]
        assert "Answer" not in parsed.slides_html
        assert "--&gt;" not in parsed.slides_html
        assert parsed.slides[1].markdown == "## Exercise\n\nWhat is 2 + 2?"
        assert parsed.slides[2].markdown == "## Next"

    def test_text_after_the_closing_marker_on_its_line_is_hidden_as_in_marp(self):
        parsed = deck(minimal("## A\n\n<!-- x -->tail\n\n<!--\n---\n--> after\n\nShown"))
        html = parsed.slides[1].html
        assert "tail" not in html and "after" not in html and "-&gt;" not in html
        assert html.split() == ["<h2>A</h2>", "<p>Shown</p>"]
        assert parsed.slides[1].notes == ["x", "---"]

    def test_an_unclosed_comment_hides_the_rest_of_the_deck(self):
        parsed = deck(minimal("## A\n\n<!-- answers\n---\n## Hidden\n"))
        assert len(parsed.slides) == 2
        assert "Hidden" not in parsed.slides_html
        assert parsed.slides[1].notes == ["answers\n---\n## Hidden"]

    def test_an_inline_comment_may_contain_double_dashes(self):
        parsed = deck(minimal("Shown <!-- hidden -- really --> too"))
        assert parsed.slides[1].html == "<p>Shown  too</p>"
        assert parsed.slides[1].notes == ["hidden -- really"]

    def test_linter_comments_are_not_speaker_notes(self):
        parsed = deck(
            minimal("<!-- markdownlint-disable MD025 -->\n<!-- prettier-ignore -->\n## A")
        )
        assert parsed.speaker_notes == []

    def test_comment_inside_fenced_code_is_code(self):
        parsed = deck(minimal("## HTML\n\n```html\n<!-- not a note -->\n```\n"))
        assert parsed.speaker_notes == []
        assert "&lt;!-- not a note --&gt;" in parsed.slides[1].html

    def test_directives_are_recognised_with_or_without_underscore(self):
        parsed = deck(
            minimal(
                """
                <!--
                _class: Invert Big!
                paginate: false
                -->
                ## A
                """
            )
        )
        slide = parsed.slides[1]
        assert slide.directives == {"_class": "Invert Big!", "paginate": "false"}
        assert slide.css_class == "invert big"
        assert slide.notes == []

    def test_class_directive_carries_over_and_spot_class_does_not(self):
        parsed = deck(
            minimal(
                """
                <!-- class: dark -->
                ## A

                ---

                <!-- _class: lead -->
                ## B

                ---

                ## C
                """
            )
        )
        assert [s.css_class for s in parsed.slides] == ["", "dark", "lead", "dark"]

    def test_comment_with_unknown_keys_is_a_note(self):
        parsed = deck(minimal("<!-- todo: add a diagram -->\n## A\n"))
        assert parsed.slides[1].directives == {}
        assert parsed.slides[1].notes == ["todo: add a diagram"]


class TestSessionTitle:
    def test_title_from_front_matter(self):
        parsed = deck(
            """
            ---
            title: "Session 7 \u2013 *Neural* Networks"
            ---

            ## Session 1: Ignored when the front matter has a title
            """
        )
        assert (parsed.number, parsed.title) == (7, "Neural Networks")

    def test_session_key_supplies_the_number(self):
        parsed = deck(
            """
            ---
            title: Neural Networks
            session: 7
            ---

            ## Overview
            """
        )
        assert (parsed.number, parsed.title) == (7, "Neural Networks")

    def test_session_key_with_a_heading_without_number(self):
        parsed = deck("---\nsession: 4\n---\n\n# session — **Regression**\n")
        assert (parsed.number, parsed.title) == (4, "Regression")

    @pytest.mark.parametrize(
        "heading",
        ["# Session 5: Clustering", "### SESSION 5 - Clustering", "## session 5 — _Clustering_"],
    )
    def test_any_heading_level_case_and_separator(self, heading):
        parsed = deck(f"## Welcome\n\n---\n\n{heading}\n")
        assert (parsed.number, parsed.title) == (5, "Clustering")

    def test_front_matter_title_without_number_takes_it_from_the_heading(self):
        parsed = deck("---\ntitle: Clustering\n---\n\n## Session 5: k-means\n")
        assert (parsed.number, parsed.title) == (5, "Clustering")

    def test_disagreeing_numbers_are_an_error(self):
        with pytest.raises(DeckError, match="session 12 but the front matter says `session: 13`"):
            deck('---\ntitle: "Session 12: A"\nsession: 13\n---\n\n## A\n')

    def test_session_zero_is_an_error(self):
        with pytest.raises(DeckError, match="1 or more"):
            deck("## Session 0: Warm-up\n")
        with pytest.raises(DeckError, match="1 or more"):
            deck("---\ntitle: Warm-up\n---\n\n## Session 0: Warm-up\n")


class TestLecturerAndCourse:
    @pytest.mark.parametrize(
        "line", ["Lecturer: Ada Lovelace", "**Lecturer:** Ada Lovelace", "*Lecturer*: Ada Lovelace"]
    )
    def test_lecturer_line_with_optional_emphasis(self, line):
        assert deck(minimal(line)).lecturer == "Ada Lovelace"

    def test_front_matter_lecturer_wins(self):
        parsed = deck(minimal("Lecturer: Someone Else", "lecturer: Ada Lovelace"))
        assert parsed.lecturer == "Ada Lovelace"

    def test_lecturer_is_optional(self):
        assert deck(minimal("## A")).lecturer == ""

    def test_lecturer_inside_code_is_ignored(self):
        assert deck(minimal("```\nLecturer: Not Me\n```")).lecturer == ""

    def test_course_is_none_without_a_course_heading(self):
        parsed = deck(minimal("## A"))
        assert (parsed.course_code, parsed.course_title) == (None, None)

    def test_front_matter_course_overrides_the_code(self):
        parsed = deck(
            "---\ncourse: ICT50220\n---\n\n# ICTSS00120 - AI Skill Set\n\n## Session 1: Intro\n"
        )
        assert (parsed.course_code, parsed.course_title) == ("ICT50220", "AI Skill Set")


class TestDate:
    @pytest.mark.parametrize("value", ["2024-05-14", "'2024-05-14'", "2024-05-14T09:30:00"])
    def test_date_from_front_matter(self, value):
        assert deck(minimal("## A", f"date: {value}")).date == date(2024, 5, 14)


class TestObjectivesAndHomework:
    def test_heading_case_colon_and_level_one_or_two_do_not_matter(self):
        parsed = deck(
            minimal(
                """
                # LEARNING OBJECTIVES:

                1. Fit a model.
                2. Evaluate it.

                ---

                ## homework for next week

                - Read chapter 3.
                - Try the notebook.
                """
            )
        )
        assert parsed.objectives == ["Fit a model.", "Evaluate it."]
        assert parsed.homework == ["Read chapter 3.", "Try the notebook."]

    @pytest.mark.parametrize(
        "heading",
        [
            "## Learning Outcomes",
            "# Objectives",
            "## goals:",
            "## Learning Goals",
            "## Session Objectives",
            "## Learning Objectives (cont.)",
        ],
    )
    def test_common_objectives_headings_are_accepted(self, heading):
        assert deck(minimal(f"{heading}\n\n- Fit a model.")).objectives == ["Fit a model."]

    @pytest.mark.parametrize(
        "heading", ["### Learning Objectives", "### Homework", "## Goals of a GAN", "## Homeworld"]
    )
    def test_sub_headings_and_other_titles_are_not_objectives_or_homework(self, heading):
        parsed = deck(minimal(f"{heading}\n\n- Not a task."))
        assert (parsed.objectives, parsed.homework) == ([], [])

    def test_consecutive_homework_slides_are_merged_in_order(self):
        parsed = deck(
            minimal(
                """
                ## Homework: Part 1

                Due Friday.

                1. Finish the lab.
                2. Submit the model.

                ---

                ## Homework (cont.)

                3. Read chapter 9.

                ---

                # HOMEWORK \u2013 Part 3

                - Post a question.
                """
            )
        )
        assert parsed.homework == [
            "Finish the lab.",
            "Submit the model.",
            "Read chapter 9.",
            "Post a question.",
        ]
        assert parsed.homework_intro == "Due Friday."

    def test_objectives_continued_on_the_next_slide_are_merged(self):
        parsed = deck(
            minimal(
                "## Learning Outcomes\n\n- One.\n\n---\n\n## Learning Outcomes (cont.)\n\n- Two."
            )
        )
        assert parsed.objectives == ["One.", "Two."]

    def test_a_homework_slide_further_on_is_not_merged(self):
        parsed = deck(
            minimal("## Homework\n\n- First.\n\n---\n\n## Recap\n\n---\n\n## Homework\n\n- Later.")
        )
        assert parsed.homework == ["First."]

    def test_nested_items_are_not_separate_and_multi_line_items_are_joined(self):
        parsed = deck(
            minimal(
                """
                ## Learning Objectives

                - Understand **attention**,
                  the core of a Transformer.
                  - a sub-point
                - Use `pipeline()`.
                """
            )
        )
        assert parsed.objectives == [
            "Understand **attention**, the core of a Transformer.",
            "Use `pipeline()`.",
        ]

    def test_homework_intro_is_plain_text_and_images_are_not_tasks(self):
        parsed = deck(
            minimal(
                """
                ## Homework

                Due *before* next session.

                - ![diagram](https://example.edu/d.png)
                - Draw the diagram yourself.

                ![bg](https://example.edu/bg.png)
                """
            )
        )
        assert parsed.homework == ["Draw the diagram yourself."]
        assert parsed.homework_intro == "Due before next session."

    def test_deck_without_objectives_or_homework(self):
        parsed = deck(minimal("## Just content"))
        assert (parsed.objectives, parsed.homework, parsed.homework_intro) == ([], [], "")


class TestRendering:
    def test_scripts_handlers_styles_and_javascript_links_are_stripped(self):
        parsed = deck(
            minimal(
                """
                ## Unsafe

                <script>alert("x")</script>

                <p style="color:red" onclick="steal()">Hi</p>

                <a href="javascript:steal()">click</a>
                """
            )
        )
        html = parsed.slides[1].html
        assert "<script" not in html
        assert 'alert("x")' not in html
        assert "style=" not in html
        assert "onclick" not in html
        assert "javascript:" not in html
        assert "<p>Hi</p>" in html

    def test_iframe_becomes_a_link_with_escaped_title(self):
        parsed = deck(
            minimal(
                '<iframe src="https://example.edu/v?a=1&amp;b=2" title="A <b> &amp; C"></iframe>'
            )
        )
        assert parsed.slides[1].html == (
            '<p class="embed-link">Embedded: '
            '<a href="https://example.edu/v?a=1&amp;b=2" target="_blank" '
            'rel="noopener noreferrer">A &lt;b&gt; &amp; C</a></p>'
        )

    def test_iframe_inside_a_paragraph_becomes_an_inline_link(self):
        parsed = deck(minimal('Watch <iframe src="//example.edu/v" title="Demo"></iframe> now.'))
        assert parsed.slides[1].html == (
            '<p>Watch <span class="embed-link">Embedded: <a href="https://example.edu/v" '
            'target="_blank" rel="noopener noreferrer">Demo</a></span> now.</p>'
        )

    def test_iframe_with_an_unsafe_src_is_dropped(self):
        parsed = deck(minimal('<iframe src="javascript:alert(1)" title="x"></iframe>\n\nAfter'))
        assert parsed.slides[1].html == "<p>After</p>"

    def test_plain_images_keep_alt_text_without_marp_keywords(self):
        parsed = deck(minimal("![w:200 A cat](https://example.edu/cat.png)"))
        assert (
            '<img src="https://example.edu/cat.png" alt="A cat" loading="lazy">'
            in parsed.slides[1].html
        )

    def test_tables_and_strikethrough(self):
        parsed = deck(minimal("| a | b |\n|--:|---|\n| 1 | 2 |\n\n~~old~~"))
        html = parsed.slides[1].html
        assert '<th align="right">a</th>' in html
        assert "<s>old</s>" in html

    def test_br_in_headings_is_kept(self):
        assert "<br>" in deck(minimal("# A <br> B")).slides[1].html


class TestBrokenDecks:
    def test_no_title(self):
        with pytest.raises(DeckError, match="No session title found") as error:
            parse_deck((DECKS / "broken-no-title.md").read_text())
        assert "## Session 12: Introduction to Transformers" in error.value.message
        assert error.value.code == "invalid_deck"

    def test_title_without_number(self):
        with pytest.raises(DeckError, match="has no session number") as error:
            parse_deck((DECKS / "broken-title-without-number.md").read_text())
        assert "session: 12" in error.value.message
        assert error.value.line == 3

    def test_bad_yaml_names_the_line_and_suggests_quoting(self):
        with pytest.raises(DeckError) as error:
            parse_deck((DECKS / "broken-yaml.md").read_text())
        assert error.value.message.startswith("Line 3: The front matter is not valid YAML")
        assert error.value.line == 3
        assert 'title: "Session 12: Introduction to Transformers"' in error.value.message
        assert error.value.as_dict()["line"] == 3

    def test_invalid_date(self):
        with pytest.raises(DeckError, match="`date: 2024-13-45` is not a valid date") as error:
            parse_deck((DECKS / "broken-date.md").read_text())
        assert error.value.line == 3

    @pytest.mark.parametrize("source", ["", "  \n\n\t\n"])
    def test_empty_deck(self, source):
        with pytest.raises(DeckError, match="The deck is empty"):
            parse_deck(source)

    def test_empty_file_fixture(self):
        with pytest.raises(DeckError, match="empty"):
            parse_deck((DECKS / "broken-empty.md").read_text())

    def test_binary_content(self):
        with pytest.raises(DeckError, match="not a text file"):
            parse_deck("PK\x03\x04\x00\x00binary")

    def test_front_matter_that_is_not_a_mapping(self):
        with pytest.raises(DeckError, match="`key: value` lines"):
            deck("---\n- a\n- b\n---\n\n## Session 1: A\n")

    def test_front_matter_never_closed(self):
        with pytest.raises(DeckError, match="never closed"):
            deck("---\nmarp: true\n\n## Session 1: A\n")

    def test_front_matter_only(self):
        with pytest.raises(DeckError, match="no slides"):
            deck('---\ntitle: "Session 1: A"\n---\n\n')

    def test_non_numeric_session_key(self):
        with pytest.raises(DeckError, match="`session: twelve` is not a session number"):
            deck("---\nsession: twelve\n---\n\n## Session: A\n")
