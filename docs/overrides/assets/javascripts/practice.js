/* Practice: a self-test on every chapter, the question bank's filters and progress marks, the mock
   interview page. Self-grades stay in this browser (localStorage), never sent anywhere; export and
   import move them. The question bank and the practice page load it at once (main.html); a chapter when
   the reader turns practice mode on (handbook.js). Without JavaScript every answer stays visible. */
(function () {
  var zh = document.documentElement.lang.indexOf("zh") === 0;
  var T = zh ? {
    reveal: "显示要点", answer: "完整答案", knew: "会了", partly: "部分", notyet: "还不会",
    grade: "自评", chapters: "章节", topics: "主题", levels: "难度", count: "题数", minutes: "每题分钟",
    start: "开始", next: "下一题", finish: "结束", print: "打印面试单", summary: "复习清单", of: " / ",
    none: "没有符合条件的题目。", fewer: "只有 {n} 道题符合条件，全部抽出。", ungraded: "未自评",
    points: "要点", followups: "追问", space: "（作答）", exported: "导出进度", import: "导入进度", reset: "清除进度",
    counts: "会了 {knew} · 部分 {partly} · 还不会 {notyet}", sure: "清除本浏览器中的全部自评？",
    notjson: "导入失败：文件不是 JSON。进度未改动。", badfile: "导入失败：文件不是本手册导出的进度。进度未改动。",
    unknown: "导入失败：文件里有本手册没有的题目：{ids}。进度未改动。", imported: "已导入 {n} 条自评。",
    isolated: "这个浏览器从本地磁盘打开页面时按文件隔离存储，进度不会在页面间共享；请在本页用导出 / 导入保存进度。",
    filter: "全部进度", todo: "还没掌握", unseen: "未自评过"
  } : {
    reveal: "Show key points", answer: "Full answer", knew: "Knew it", partly: "Partly", notyet: "Not yet",
    grade: "Self-grade", chapters: "Chapters", topics: "Topics", levels: "Difficulty", count: "Questions", minutes: "Minutes each",
    start: "Start", next: "Next question", finish: "Finish", print: "Print an interview sheet", summary: "Review list", of: " of ",
    none: "No question matches.", fewer: "Only {n} questions match; all are drawn.", ungraded: "not graded",
    points: "Key points", followups: "Follow-ups", space: "(your answer)", exported: "Export progress", import: "Import progress",
    reset: "Clear progress", counts: "knew {knew} · partly {partly} · not yet {notyet}",
    sure: "Clear every self-grade kept in this browser?", notjson: "Import failed: the file is not JSON. Progress unchanged.",
    badfile: "Import failed: the file is not progress exported from this handbook. Progress unchanged.",
    unknown: "Import failed: the file names questions this handbook does not have: {ids}. Progress unchanged.",
    imported: "Imported {n} self-grades.",
    isolated: "This browser keeps storage separate for each page opened from disk, so progress is not shared between pages; " +
              "keep it with export and import on this page.",
    filter: "All progress", todo: "Not known yet", unseen: "Never graded"
  };
  var KEY = "handbook.progress", MODE = "handbook.practice", GRADES = ["knew", "partly", "notyet"];
  var root = document.documentElement;

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    for (var k in attrs || {}) e.setAttribute(k, attrs[k]);
    if (text != null) e.textContent = text;
    return e;
  }
  function fill(s, values) { return s.replace(/\{(\w+)\}/g, function (_, k) { return values[k]; }); }

  /* ---- progress: {format, version, grades: {question id: {grade, at}}} -------------------------------- */
  function load() {
    try {
      var data = JSON.parse(localStorage.getItem(KEY));
      if (data && data.grades && typeof data.grades === "object") return data;
    } catch (e) { /* unreadable storage counts as empty */ }
    return { format: "handbook-progress", version: 1, grades: {} };
  }
  function save(data) { try { localStorage.setItem(KEY, JSON.stringify(data)); } catch (e) { /* storage off: grades live for this page */ } }
  function gradeOf(id) { var g = load().grades[id]; return g && g.grade; }
  function setGrade(id, grade) {
    var data = load();
    data.grades[id] = { grade: grade, at: new Date().toISOString() };
    save(data);
  }

  /* three buttons that grade a question, showing the current grade */
  function grader(id) {
    var box = el("div", { class: "q-grades", role: "group", "aria-label": T.grade, "data-question": id });
    GRADES.forEach(function (g) {
      var b = el("button", { type: "button", "data-grade": g, "aria-pressed": String(gradeOf(id) === g) }, T[g]);
      b.addEventListener("click", function () {
        setGrade(id, g);
        box.querySelectorAll("button").forEach(function (o) { o.setAttribute("aria-pressed", String(o === b)); });
      });
      box.appendChild(b);
    });
    return box;
  }
  /* key points as a checklist to tick what one's answer covered */
  function checklist(list) {
    list.querySelectorAll("li").forEach(function (li) {
      if (!li.querySelector("input")) li.insertBefore(el("input", { type: "checkbox", "aria-label": li.textContent.trim().slice(0, 60) }), li.firstChild);
    });
  }

  /* ---- chapters: practice mode hides every answer behind a reveal ---------------------------------- */
  var heads = document.querySelectorAll(".md-content [data-canon]");
  var toggle = document.querySelector("button.practice-toggle");  /* in the page (page_html.py) */
  if (heads.length && toggle) {
    toggle.setAttribute("aria-pressed", String(root.classList.contains("practice")));
    var drills = function () {
      heads.forEach(function (h) {
        var parts = document.querySelectorAll('[data-q="' + h.id + '"]');
        if (!parts.length || document.getElementById("drill-" + h.id)) return;
        var box = el("div", { class: "q-drill", id: "drill-" + h.id });
        var reveal = el("button", { type: "button", class: "md-button", "aria-expanded": "false" }, T.reveal);
        reveal.addEventListener("click", function () {
          parts.forEach(function (p) { p.classList.add("q-open"); if (p.classList.contains("q-points")) checklist(p); });
          reveal.remove();
          var last = parts[parts.length - 1];  /* grade under the key points and follow-ups, where the answer ends */
          last.parentNode.insertBefore(grader(h.dataset.canon), last.nextSibling);
        });
        box.appendChild(reveal);
        var prompt = document.querySelector('[data-prompt="' + h.id + '"]');
        h.parentNode.insertBefore(box, prompt ? prompt.nextSibling : h.nextSibling);
      });
    };
    toggle.addEventListener("click", function () {
      var on = root.classList.toggle("practice");
      toggle.setAttribute("aria-pressed", String(on));
      try { localStorage.setItem(MODE, on ? "on" : "off"); } catch (e) { /* the mode lasts for this page */ }
      if (on) drills();
    });
    if (root.classList.contains("practice")) drills();
  }

  /* ---- question bank: topic, difficulty and progress filters; each question's grade ------------------ */
  var form = document.querySelector("form.qbank-filter");
  if (form) {
    var items = Array.prototype.map.call(form.parentNode.querySelectorAll("li > a[data-topic]"), function (a) {
      var g = gradeOf(a.dataset.qid);
      if (g) a.parentNode.appendChild(el("span", { class: "q-grade", "data-grade": g }, T[g]));
      return { li: a.parentNode, topic: a.dataset.topic, level: a.dataset.difficulty, grade: g };
    });
    var apply = function () {
      var topic = form.topic.value, level = form.difficulty.value, progress = form.progress.value, shown = 0;
      items.forEach(function (item) {
        var ok = (!topic || item.topic === topic) && (!level || item.level === level) &&
          (!progress || (progress === "todo" ? item.grade !== "knew" : !item.grade));
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

  /* ---- the mock interview page ---------------------------------------------------------------------- */
  var mock = document.querySelector("[data-mock]"), data = document.getElementById("practice-data");
  if (mock && data) interview(JSON.parse(data.textContent));
  var tools = document.querySelector("[data-progress]");
  if (tools) progressTools(tools, data ? JSON.parse(data.textContent).questions.map(function (q) { return q.id; }) : []);

  function choices(name, label, pairs) {
    var set = el("fieldset", { class: "mock-" + name });
    set.appendChild(el("legend", {}, label));
    pairs.forEach(function (p) {
      var lab = el("label"), box = el("input", { type: "checkbox", name: name, value: p[0], checked: "" });
      lab.appendChild(box);
      lab.appendChild(document.createTextNode(" " + p[1]));
      set.appendChild(lab);
    });
    return set;
  }
  function number(name, label, value, max) {
    var lab = el("label", {}, label + " "), input = el("input", { type: "number", name: name, value: value, min: 1, max: max });
    lab.appendChild(input);
    return lab;
  }
  function checked(form, name) {
    return Array.prototype.filter.call(form.querySelectorAll('input[name="' + name + '"]'), function (i) { return i.checked; })
      .map(function (i) { return i.value; });
  }
  function link(q) { return new URL(JSON.parse(document.getElementById("__config").textContent).base + "/" + q.url, location.href).href; }

  function interview(d) {
    var form = el("form", { class: "mock-form" }), stage = el("div", { class: "mock-stage", "aria-live": "polite" });
    var sheet = el("div", { class: "mock-sheet" }), note = el("p", { class: "mock-note" });
    form.appendChild(choices("chapter", T.chapters, d.chapters));
    form.appendChild(choices("topic", T.topics, d.topics));
    form.appendChild(choices("level", T.levels, d.levels));
    form.appendChild(number("count", T.count, 5, d.questions.length));
    form.appendChild(number("minutes", T.minutes, 3, 60));
    var start = el("button", { type: "submit", class: "md-button md-button--primary" }, T.start);
    var print = el("button", { type: "button", class: "md-button" }, T.print);
    form.appendChild(start);
    form.appendChild(print);
    [form, note, stage, sheet].forEach(function (e) { mock.appendChild(e); });

    function draw() {
      var chapters = checked(form, "chapter"), topics = checked(form, "topic"), levels = checked(form, "level");
      var pool = d.questions.filter(function (q) {
        return chapters.indexOf(q.chapter) >= 0 && topics.indexOf(q.topic) >= 0 && levels.indexOf(q.level) >= 0;
      });
      for (var i = pool.length - 1; i > 0; i--) {  /* Fisher-Yates: every order equally likely, no repeats */
        var j = Math.floor(Math.random() * (i + 1)), t = pool[i];
        pool[i] = pool[j];
        pool[j] = t;
      }
      var n = Math.max(1, parseInt(form.count.value, 10) || 1);
      note.textContent = !pool.length ? T.none : pool.length < n ? fill(T.fewer, { n: pool.length }) : "";
      return pool.slice(0, n);
    }
    function points(q) {
      var box = el("div", { class: "mock-points" });
      box.appendChild(el("h3", {}, T.points));
      var ul = el("ul");
      q.points.forEach(function (p) { var li = el("li"); li.innerHTML = p; ul.appendChild(li); });
      box.appendChild(ul);
      checklist(ul);
      box.appendChild(el("h3", {}, T.followups));
      var ups = el("ul");
      q.followups.forEach(function (f) {
        var li = el("li");
        li.innerHTML = f[0];
        if (f[1]) { li.appendChild(document.createTextNode(" ")); li.appendChild(el("a", { href: link({ url: f[1] }) }, "→")); }
        ups.appendChild(li);
      });
      box.appendChild(ups);
      return box;
    }
    var timer = null;
    function run(questions, at) {
      clearInterval(timer);
      stage.textContent = "";
      if (at >= questions.length) return summary(questions);
      var q = questions[at], left = 60 * Math.max(1, parseFloat(form.minutes.value) || 3);
      stage.appendChild(el("p", { class: "mock-count" }, (at + 1) + T.of + questions.length));
      var h = el("h2", { class: "mock-question", "data-id": q.id, tabindex: "-1" });
      h.innerHTML = q.title;
      stage.appendChild(h);
      var clock = el("p", { class: "mock-timer", role: "timer" });
      var tick = function () {
        var s = Math.abs(left);
        clock.textContent = (left < 0 ? "−" : "") + Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
        clock.classList.toggle("mock-late", left < 0);
        left -= 1;
      };
      tick();
      timer = setInterval(tick, 1000);
      stage.appendChild(clock);
      var reveal = el("button", { type: "button", class: "md-button" }, T.reveal);
      var next = el("button", { type: "button", class: "md-button md-button--primary" }, at + 1 < questions.length ? T.next : T.finish);
      reveal.addEventListener("click", function () {
        reveal.replaceWith(points(q), grader(q.id));
      });
      next.addEventListener("click", function () { run(questions, at + 1); });
      stage.appendChild(reveal);
      stage.appendChild(next);
      h.focus();
    }
    function summary(questions) {
      stage.appendChild(el("h2", { class: "mock-summary" }, T.summary));
      var ol = el("ol");
      questions.forEach(function (q) {
        var li = el("li"), a = el("a", { href: link(q) });
        a.innerHTML = q.title;
        li.appendChild(a);
        li.appendChild(el("span", { class: "q-grade", "data-grade": gradeOf(q.id) || "" }, " · " + (T[gradeOf(q.id)] || T.ungraded)));
        ol.appendChild(li);
      });
      stage.appendChild(ol);
    }
    /* the paper version: questions with room to write, key points on a page of their own */
    function printable(questions) {
      sheet.textContent = "";
      questions.forEach(function (q, i) {
        var h = el("h2", {}, (i + 1) + ". ");
        h.insertAdjacentHTML("beforeend", q.title);
        sheet.appendChild(h);
        sheet.appendChild(el("div", { class: "mock-space" }, T.space));
      });
      var key = el("section", { class: "mock-key" });
      key.appendChild(el("h2", {}, T.points));
      questions.forEach(function (q, i) {
        var h = el("h3", {}, (i + 1) + ". ");
        h.insertAdjacentHTML("beforeend", q.title);
        key.appendChild(h);
        var ul = el("ul");
        q.points.forEach(function (p) { var li = el("li"); li.innerHTML = p; ul.appendChild(li); });
        key.appendChild(ul);
      });
      sheet.appendChild(key);
    }
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var questions = draw();
      printable(questions);
      if (questions.length) run(questions, 0);
    });
    print.addEventListener("click", function () {
      if (!sheet.childNodes.length) printable(draw());
      window.print();
    });
  }

  /* ---- progress: counts, export, import, reset ------------------------------------------------------ */
  function progressTools(box, known) {
    var counts = el("p", { class: "progress-counts" }), message = el("p", { class: "progress-message", role: "status" });
    var show = function () {
      var c = { knew: 0, partly: 0, notyet: 0 }, grades = load().grades;
      for (var id in grades) if (c[grades[id].grade] != null) c[grades[id].grade]++;
      counts.textContent = fill(T.counts, c);
    };
    var exp = el("button", { type: "button", class: "md-button" }, T.exported);
    var imp = el("label", { class: "md-button" }, T.import), file = el("input", { type: "file", accept: "application/json,.json", class: "progress-file" });
    var reset = el("button", { type: "button", class: "md-button" }, T.reset);
    imp.appendChild(file);
    exp.addEventListener("click", function () {
      var data = load();
      data.exported = new Date().toISOString();
      var a = el("a", { href: URL.createObjectURL(new Blob([JSON.stringify(data, null, 1)], { type: "application/json" })),
                        download: "handbook-progress.json" });
      document.body.appendChild(a);
      a.click();
      a.remove();
    });
    file.addEventListener("change", function () {
      var f = file.files[0];
      if (!f) return;
      f.text().then(function (text) {
        var data;
        try { data = JSON.parse(text); } catch (e) { message.textContent = T.notjson; return; }
        if (!data || data.format !== "handbook-progress" || typeof data.grades !== "object") { message.textContent = T.badfile; return; }
        var ids = Object.keys(data.grades), unknown = ids.filter(function (id) { return known.indexOf(id) < 0; });
        if (unknown.length) { message.textContent = fill(T.unknown, { ids: unknown.slice(0, 5).join(", ") }); return; }
        if (ids.some(function (id) { return !data.grades[id] || GRADES.indexOf(data.grades[id].grade) < 0; })) { message.textContent = T.badfile; return; }
        var store = load();
        ids.forEach(function (id) { store.grades[id] = data.grades[id]; });
        save(store);
        message.textContent = fill(T.imported, { n: ids.length });
        show();
      }).finally(function () { file.value = ""; });
    });
    reset.addEventListener("click", function () {
      if (!window.confirm(T.sure)) return;
      try { localStorage.removeItem(KEY); } catch (e) { /* nothing kept */ }
      show();
    });
    [counts, exp, imp, reset, message].forEach(function (e) { box.appendChild(e); });
    if (location.protocol === "file:" && window.origin === "null") box.appendChild(el("p", { class: "admonition warning" }, T.isolated));
    show();
  }
})();
