/* Small, dependency-free enhancements. Every page works without them. */
(function () {
  var zh = document.documentElement.lang.indexOf("zh") === 0;

  /* A question that moved to another page: its old link still lands on it (docs/redirects.yml). */
  var moved = document.getElementById("handbook-moved");
  if (moved && location.hash) {
    var target = JSON.parse(moved.textContent)[decodeURIComponent(location.hash.slice(1))];
    if (target) location.replace(new URL(target, location.href).href);
  }

  /* Material's drawer and search toggles are checkboxes; a browser that restores form state on Back would
     reopen them (Material's own autocomplete="off" on them is not valid HTML: see overrides/base.html). */
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("input.md-toggle[data-md-toggle]").forEach(function (toggle) { toggle.checked = false; });
  });

  /* The language selector links the same page in the other language (built into the href); here we
     add the current #anchor, and stop Material's own handler, which looks pages up in sitemap.xml and
     falls back to the home page when that cannot be fetched (always, from file://). */
  document.addEventListener("click", function (event) {
    var link = event.target instanceof Element && event.target.closest("a[data-handbook-switch]");
    if (!link) return;
    event.stopPropagation();
    link.href = link.href.split("#")[0] + window.location.hash;
  }, true);

  /* Practice mode on a chapter: practice.js (next to this file) loads when the reader first turns the mode on,
     or at once when it was left on; the first click is passed on to it. */
  var practiceToggle = document.querySelector("button.practice-toggle");
  if (practiceToggle) {
    var practiceScript = document.currentScript.src.replace(/handbook\.js(\?.*)?$/, "practice.js");
    var loadPractice = function (then) {
      var script = document.createElement("script");
      script.src = practiceScript;
      script.onload = then;
      document.body.appendChild(script);
    };
    if (document.documentElement.classList.contains("practice")) {
      loadPractice();
    } else {
      practiceToggle.addEventListener("click", function first() {
        practiceToggle.removeEventListener("click", first);
        loadPractice(function () { practiceToggle.click(); });
      });
    }
  }

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

  /* A block that scrolls sideways (a wide table, formula or notebook cell on a phone) must be reachable
     with the keyboard, where the browser does not make scrolling boxes focusable itself (Safari).
     Material does this for code blocks only. Blocks below the fold are not laid out until they come
     near the screen (content-visibility: auto, handbook.css), and measuring them would lay them out:
     check the rendered ones once Material has wrapped the tables, each other one when it renders. */
  var SCROLLERS = ".md-typeset__scrollwrap, math[display=block], .highlight-ipynb, .jp-OutputArea-output";
  function focusScrollers(root) {  // root: the document, or a block that has just rendered (maybe a scroller itself)
    var found = Array.prototype.slice.call(root.querySelectorAll(SCROLLERS));
    if (root.matches && root.matches(SCROLLERS)) found.push(root);
    var wide = found.filter(function (el) {
      if (el.hasAttribute("tabindex") || (el.checkVisibility && !el.checkVisibility({ contentVisibilityAuto: true }))) return false;
      return el.scrollWidth > el.clientWidth;
    });
    wide.forEach(function (el) { el.tabIndex = 0; });  // measure all, then change: one layout, not one per block
  }
  var mounted = false;  // Material wraps the tables in scrolling boxes when it mounts the page
  document.addEventListener("contentvisibilityautostatechange", function (event) {
    if (!event.skipped && mounted) focusScrollers(event.target);
  }, true);
  var waits = 0;
  (function whenMaterialLoaded() {  // it loads after the first paint (main.html, block scripts)
    if (window.document$) {
      window.document$.subscribe(function () { mounted = true; focusScrollers(document); });  // after its own mount
    } else if (waits++ < 100) {
      setTimeout(whenMaterialLoaded, 100);
    } else {
      mounted = true;
      focusScrollers(document);
    }
  })();
})();
