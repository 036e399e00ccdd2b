"""The notebook stylesheet pruner keeps every rule a page can use and never breaks the CSS syntax."""
from handbook import css_prune

CSS = """@charset "UTF-8";
.a:is(.b, .c) > .d{color:red}
.x, .a .d{margin:0}
@media (max-width: 10em){.a{padding:0}.unused{padding:1px}}
.unused:not(.a, .b){color:blue}"""


def test_selector_lists_are_split_only_at_top_level_commas():
    assert css_prune._selectors(".a:is(.b, .c) > .d, .e:not(.f,.g)") == [".a:is(.b, .c) > .d", " .e:not(.f,.g)"]


def test_rules_for_used_classes_survive_whole_and_balanced():
    out = css_prune.prune(CSS, {"a", "b", "c", "d"})
    assert out.splitlines() == [
        ".a:is(.b, .c) > .d{color:red}",
        ".a .d{margin:0}",
        "@media (max-width: 10em){.a{padding:0}}",
    ]
    assert "@charset" not in out  # only valid first in a file, and the pages' CSS is concatenated
    assert out.count("(") == out.count(")") and out.count("{") == out.count("}")
