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


def test_classes_inside_pseudo_classes_and_attribute_values_are_not_required():
    css = '.a:not(.never){color:red}\na[href$=".pdf"]{color:green}\n.never{color:blue}'
    assert css_prune.prune(css, {"a"}).splitlines() == ['.a:not(.never){color:red}', 'a[href$=".pdf"]{color:green}']


def test_attribute_values_outside_the_allowed_set_are_dropped():
    css = "[data-md-color-primary=red]{color:red}\n[data-md-color-primary=indigo]{color:#3f51b5}\n[data-x=y]{color:0}"
    out = css_prune.prune(css, set(), {"data-md-color-primary": {"indigo"}})
    assert out.splitlines() == ["[data-md-color-primary=indigo]{color:#3f51b5}", "[data-x=y]{color:0}"]


def test_selectors_testing_a_dropped_attribute_are_dropped():
    css = "[data-sw] *,[data-sw] :after{transition:none}\n.a,[data-sw=x] .a{color:red}\n[data-other]{color:0}"
    out = css_prune.prune(css, {"a"}, dropped=frozenset({"data-sw"}))
    assert out.splitlines() == [".a{color:red}", "[data-other]{color:0}"]


def test_classes_come_from_class_attributes_and_script_words():
    assert css_prune.classes_in_html('<p class="a b"><span class="c">x</span>') == {"a", "b", "c"}
    assert {"md-search__item", "q-open"} <= css_prune.names_in_script('el.classList.add("md-search__item"); x = "q-open"')
