/* Small, dependency-free enhancements. Every page works without them. */
(function () {
  var zh = document.documentElement.lang.indexOf("zh") === 0;

  /* A question that moved to another page: its old link still lands on it (docs/redirects.yml). */
  var moved = document.getElementById("handbook-moved");
  if (moved && location.hash) {
    var target = JSON.parse(moved.textContent)[decodeURIComponent(location.hash.slice(1))];
    if (target) location.replace(new URL(target, location.href).href);
  }

  /* The language selector links the same page in the other language (built into the href); here we
     add the current #anchor, and stop Material's own handler, which looks pages up in sitemap.xml and
     falls back to the home page when that cannot be fetched (always, from file://). */
  document.addEventListener("click", function (event) {
    var link = event.target instanceof Element && event.target.closest("a[data-handbook-switch]");
    if (!link) return;
    event.stopPropagation();
    link.href = link.href.split("#")[0] + window.location.hash;
  }, true);

  /* "Copy link" in every question heading: the hosted URL, even when reading offline. */
  function copy(text) {
    if (navigator.clipboard && window.isSecureContext) return navigator.clipboard.writeText(text);
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    document.execCommand("copy");
    document.body.removeChild(area);
    return Promise.resolve();
  }

  /* The buttons are in the page (hooks.py); their data-url is the hosted URL of the question. */
  document.addEventListener("click", function (event) {
    var button = event.target instanceof Element && event.target.closest("button.q-copy");
    if (!button) return;
    var label = button.dataset.label || (button.dataset.label = button.textContent);
    copy(button.dataset.url).then(function () {
      button.textContent = zh ? "已复制" : "Copied";
      setTimeout(function () { button.textContent = label; }, 1500);
    });
  });

  /* Off-screen blocks start unrendered (content-visibility: auto, handbook.css) so that the page loads
     fast. Once it is idle, render them a few at a time: from then on the scrollbar, scrolling and
     anything that measures the page see their real heights, not 200 px placeholders. */
  var lazy = [], waits = 0;
  function skipped() {  // handbook.css alone decides which blocks start skipped; styles are computed by now
    return Array.prototype.filter.call(document.querySelectorAll(".md-content__inner > *, .jp-Notebook > .jp-Cell"),
      function (el) { return getComputedStyle(el).contentVisibility === "auto"; });
  }
  function settle() {
    var start = performance.now();
    while (lazy.length && performance.now() - start < 8) {
      lazy.shift().style.contentVisibility = "visible";
      void document.body.offsetHeight;  // lay this block out now, in this short task
    }
    if (!lazy.length) {
      // Material runs after the first paint and wraps every table in a new block: wait for it (up to 5 s)
      if (!window.component$ && waits++ < 50) return setTimeout(settle, 100);
      lazy = skipped();
      if (!lazy.length) return focusScrollers();
    }
    requestIdleCallback(settle);
  }
  addEventListener("load", function () {
    if ("requestIdleCallback" in window) requestIdleCallback(settle);
    else setTimeout(focusScrollers, 1000);  // Safari: after Material has wrapped the tables
  });

  /* A block that scrolls sideways (a wide table, formula or notebook cell on a phone) must be reachable
     with the keyboard, where the browser does not make scrolling boxes focusable itself (Safari).
     Material does this for code blocks only. */
  function focusScrollers() {
    document.querySelectorAll(".md-typeset__scrollwrap, math[display=block], .highlight-ipynb, .jp-OutputArea-output")
      .forEach(function (el) {
        if (el.scrollWidth > el.clientWidth && !el.hasAttribute("tabindex")) el.tabIndex = 0;
      });
  }

  /* Question bank filter (its controls are hidden without JavaScript): hides non-matching items. */
  var form = document.querySelector("form.qbank-filter");
  if (form) {
    var items = Array.prototype.map.call(form.parentNode.querySelectorAll("li > a[data-topic]"), function (a) {
      return { li: a.parentNode, topic: a.dataset.topic, level: a.dataset.difficulty };
    });
    var apply = function () {
      var topic = form.topic.value, level = form.difficulty.value, shown = 0;
      items.forEach(function (item) {
        var ok = (!topic || item.topic === topic) && (!level || item.level === level);
        item.li.hidden = !ok;
        shown += ok ? 1 : 0;
      });
      form.parentNode.querySelectorAll("h2[id^='topic-']").forEach(function (h) {
        var list = h.nextElementSibling;
        h.hidden = !!list && !list.querySelector("li:not([hidden])");
      });
      form.querySelector("output").textContent = form.dataset.shown.replace("{n}", shown).replace("{total}", items.length);
    };
    form.addEventListener("change", apply);
    apply();
  }
})();
