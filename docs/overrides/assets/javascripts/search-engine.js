/* The handbook's search engine: search-worker.js loads it with the index on the first query and asks it
   for the best questions and lab sections; tests/search_engine.cjs runs it under Node.

   Ranking: each query is cut into terms (glossary names first, then Latin words, then Chinese runs cut
   into jieba's words with jieba's costs), a term counting as found when any of its synonyms is in the
   text. A section scores BM25 per term (a title or first-line hit counts extra) times the share of the
   query's weight it covers, squared, so a section holding every term beats one holding a single word;
   an exact phrase and the glossary's pointer to the question that explains a term add to it; the kind
   of section weighs last (a question above a lab section above a passing mention). */
"use strict";

var MAX_RESULTS = 20;
var FIELD = { title: 3, lead: 1 };                 /* extra weight of a hit in the title, in the first line */
var LINKED = 2;                                    /* the question the glossary names for a term */
var PHRASE = 0.5, K1 = 1.2, B = 0.75, PREFIX = 0.3;
/* a question first, then a lab section, a page's introduction or other section (summaries that name every
   topic of their page), and a glossary entry only after every section that uses the term */
var PRIOR = { q: 1, l: 0.55, i: 0.35, p: 0.35, g: 0.05 };
var STOP = new Set(("的 了 是 在 和 与 及 或 吗 呢 吧 啊 么 什么 怎么 怎样 如何 为什么 为何 哪些 哪个 有 有哪些 一个 " +
  "这个 那个 这 那 对 把 被 给 要 会 能 可以 应该 我 你 我们 是什么 " +
  "a an the of to in on at for from by with and or not is are was were be been being how what why when " +
  "where which who does do did can could should would will may might must i me my you your we our it its " +
  "this that these those there their they them as if than then so such vs versus about into").split(" "));
var WORD = /[a-z0-9]/, PIECE = /[a-z0-9]+|[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+/g;

/* ---- text ----------------------------------------------------------------------------------- */

/* A light English stemmer, applied alike to text and query, so that conflating two words costs little:
   plurals, -ing and -ed, a final e, British -ise spellings. */
function stem(w) {
  if (w.length < 4 || /[0-9]/.test(w)) return w;
  w = w.replace(/is(ation|ations|e|ed|es|ing)$/, "iz$1");
  if (/ies$/.test(w)) return w.slice(0, -3) + "y";
  if (/(sses|xes|ches|shes)$/.test(w)) w = w.slice(0, -2);
  else if (/[^su]s$/.test(w)) w = w.slice(0, -1);
  if (/ing$/.test(w) && w.length > 5) w = w.slice(0, -3);
  else if (/ed$/.test(w) && w.length > 4) w = w.slice(0, -2);
  if (/([b-df-hj-np-tv-z])\1$/.test(w) && !/(ll|ss|zz)$/.test(w)) w = w.slice(0, -1);
  return w.length > 3 ? w.replace(/e$/, "") : w;
}

/* Text as it is matched: full-width forms folded, lower case, Latin words stemmed; punctuation becomes a
   line break that no term spans; a space stays only between two Latin words ("kv cache"), none next to
   Chinese ("kv缓存"). One pass over the characters (a regex replace with a callback is several times
   slower on the whole index); stems are remembered, the index has a few thousand distinct words. */
var stems = new Map();
function isLatin(c) { return (c >= 48 && c <= 57) || (c >= 97 && c <= 122); }
function isHan(c) { return (c >= 0x3400 && c <= 0x4dbf) || (c >= 0x4e00 && c <= 0x9fff) || (c >= 0xf900 && c <= 0xfaff); }
function isGap(c) { return c === 32 || c === 9 || c === 10 || c === 13 || c === 45 || c === 95 || c === 47 || c === 0xb7; }

function normalize(text) {
  text = text.normalize("NFKC").toLowerCase();
  var out = [], n = text.length, i = 0, gap = false, latin = false, last = "";
  while (i < n) {
    var c = text.charCodeAt(i), j = i + 1;
    if (isLatin(c) || isHan(c)) {
      var han = isHan(c);
      while (j < n && (han ? isHan(text.charCodeAt(j)) : isLatin(text.charCodeAt(j)))) j++;
      var word = text.slice(i, j);
      if (!han) {
        if (gap && latin) out.push(" ");
        var s = stems.get(word);
        if (s === undefined) stems.set(word, s = stem(word));
        word = s;
      }
      out.push(last = word);
      latin = !han;
      gap = false;
    } else if (isGap(c)) {
      gap = true;
    } else {
      if (last && last !== "\n") out.push(last = "\n");
      latin = gap = false;
    }
    i = j;
  }
  return out.join("");
}

function escapeHtml(s) {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/* ---- the index ------------------------------------------------------------------------------ */

function Engine(data) {
  var self = this;
  this.pages = data.pages;
  this.docs = data.docs.map(function (d) {
    return { kind: d[0], location: d[1], title: d[2], text: d[3], page: d[4],
             snippet: d[3].slice(d[5], d[6]) + (d[7] ? "…" : ""),
             qid: (d[1].split("#")[1] || "").indexOf("q-") === 0 ? d[1].split("#")[1] : null };
  });
  /* one searchable string: for each doc its title, first line and text, each part ending in a NUL */
  var parts = [], offset = 0, total = 0;
  this.starts = new Int32Array(this.docs.length);
  this.docs.forEach(function (doc, i) {
    var title = normalize(doc.title), lead = normalize(doc.snippet), body = normalize(doc.text);
    self.starts[i] = offset;
    doc.leadStart = offset + title.length + 1;
    doc.bodyStart = doc.leadStart + lead.length + 1;
    doc.length = body.length;
    total += body.length;
    parts.push(title, lead, body);
    offset = doc.bodyStart + body.length + 1;
  });
  this.corpus = parts.join("\u0000") + "\u0000";
  this.docOf = new Uint16Array(this.corpus.length);   /* offset -> doc, for every hit of every query */
  for (var d = 1; d < this.docs.length; d++) this.docOf.fill(d, this.starts[d], d + 1 < this.docs.length ? this.starts[d + 1] : this.corpus.length);
  this.avgLength = total / Math.max(1, this.docs.length);
  /* the segmentation dictionary (zh): word -> cost, and how long a word can be */
  this.dict = new Map();
  this.longest = 1;
  Object.keys(data.dict || {}).forEach(function (cost) {
    data.dict[cost].split(" ").forEach(function (word) {
      self.dict.set(word, +cost);
      self.longest = Math.max(self.longest, word.length);
    });
  });
  this.unknown = data.unknown || 0;
  /* synonyms: normalized name -> the entries it names; an entry: its names and the questions that explain it */
  this.names = new Map();
  data.synonyms.forEach(function (raw) {
    var entry = { names: raw[0].map(normalize).filter(function (n) { return n.trim(); }), questions: raw[1] };
    entry.names.forEach(function (n) { (self.names.get(n) || self.names.set(n, []).get(n)).push(entry); });
  });
  this.byLength = Array.from(this.names.keys()).sort(function (a, b) { return b.length - a.length; });
}

/* jieba's route: the cut of a Chinese run into dictionary words with the least total cost, a character that
   no word covers costing as much as a word never seen, so a dictionary word always wins over single characters */
Engine.prototype.segment = function (run) {
  var n = run.length, best = new Float64Array(n + 1), next = new Int32Array(n + 1);
  for (var i = n - 1; i >= 0; i--) {
    best[i] = this.unknown + best[i + 1];
    next[i] = i + 1;
    for (var j = i + 2; j <= Math.min(n, i + this.longest); j++) {
      var cost = this.dict.get(run.slice(i, j));
      if (cost !== undefined && cost + best[j] < best[i]) {
        best[i] = cost + best[j];
        next[i] = j;
      }
    }
  }
  var words = [];
  for (var k = 0; k < n; k = next[k]) words.push(run.slice(k, next[k]));
  return words;
};

/* Where a term occurs in normalized text: a term that begins or ends with a Latin letter or digit only
   at a word edge there (dp is not in dpo), except the end of the word the reader is still typing. */
function hits(hay, term, prefix, from, to, each) {
  var startsLatin = WORD.test(term.charAt(0)), endsLatin = WORD.test(term.charAt(term.length - 1));
  for (var i = hay.indexOf(term, from); i !== -1 && (to === undefined || i < to); i = hay.indexOf(term, i + 1)) {
    if (startsLatin && WORD.test(hay.charAt(i - 1))) continue;
    if (endsLatin && !prefix && WORD.test(hay.charAt(i + term.length))) continue;
    each(i);
  }
}

/* ---- queries -------------------------------------------------------------------------------- */

/* The query's terms: each {label, alternatives: [{text, weight, prefix}], questions} */
Engine.prototype.parse = function (query) {
  var self = this, q = normalize(query), typing = !/\s$/.test(query), terms = [];
  var masked = q;
  /* glossary names first, longest first, as one term with all their synonyms */
  this.byLength.forEach(function (name) {
    hits(masked, name, false, 0, undefined, function (i) {
      if (masked.slice(i, i + name.length).indexOf("\u0001") !== -1) return;
      var entries = self.names.get(name), alternatives = new Set(), questions = new Set();
      entries.forEach(function (e) {
        e.names.forEach(function (n) { alternatives.add(n); });
        e.questions.forEach(function (id) { questions.add(id); });
      });
      terms.push({ label: name, at: i, questions: questions,
                   alternatives: Array.from(alternatives).map(function (t) { return { text: t, weight: 1 }; }) });
      masked = masked.slice(0, i) + "\u0001".repeat(name.length) + masked.slice(i + name.length);
    });
  });
  /* then the rest: Latin words, and Chinese runs cut into words */
  var m, pieces = [];
  PIECE.lastIndex = 0;
  while ((m = PIECE.exec(masked))) pieces.push(m);
  pieces.forEach(function (piece, n) {
    var words = WORD.test(piece[0].charAt(0)) ? [piece[0]] : self.segment(piece[0]);
    var at = piece.index;
    words.forEach(function (word) {
      var last = n === pieces.length - 1 && piece.index + piece[0].length === q.length;
      if (!STOP.has(word)) {
        var alternatives = [{ text: word, weight: 1 }];
        if (last && typing && WORD.test(word.charAt(0)) && word.length >= 3) alternatives.push({ text: word, weight: PREFIX, prefix: true });
        terms.push({ label: word, at: at, questions: new Set(), alternatives: alternatives });
      }
      at += word.length;
    });
  });
  terms.sort(function (a, b) { return a.at - b.at; });
  /* exact phrases: the stretches of the query between punctuation that hold more than one term */
  var phrases = terms.length > 1 ? q.split("\n").filter(function (p) {
    return terms.filter(function (t) { return p.indexOf(t.label) !== -1; }).length > 1;
  }) : [];
  return { terms: terms, phrases: phrases };
};

Engine.prototype.search = function (query) {
  var self = this, parsed = this.parse(query), terms = parsed.terms, N = this.docs.length;
  if (!terms.length) return [];
  /* counts[t][doc] = {title, lead, body} */
  var counts = terms.map(function (term) {
    var found = new Map();
    term.alternatives.forEach(function (alt) {
      hits(self.corpus, alt.text, alt.prefix, 0, undefined, function (i) {
        var d = self.docOf[i], doc = self.docs[d], c = found.get(d) || found.set(d, { title: 0, lead: 0, body: 0 }).get(d);
        c[i < doc.leadStart ? "title" : i < doc.bodyStart ? "lead" : "body"] += alt.weight;
      });
    });
    term.questions.forEach(function (id) {
      self.docs.forEach(function (doc, d) {
        if (doc.qid === id) (found.get(d) || found.set(d, { title: 0, lead: 0, body: 0 }).get(d)).linked = true;
      });
    });
    return found;
  });
  var idf = counts.map(function (found) { return Math.log(1 + (N - found.size + 0.5) / (found.size + 0.5)); });
  var weight = idf.reduce(function (a, b) { return a + b; }, 0);
  var scores = new Map();
  counts.forEach(function (found, t) {
    found.forEach(function (c, d) {
      var doc = self.docs[d], tf = c.body;
      var s = idf[t] * (FIELD.title * Math.min(c.title, 1) + FIELD.lead * Math.min(c.lead, 1) + (c.linked ? LINKED : 0) +
        tf * (K1 + 1) / (tf + K1 * (1 - B + B * doc.length / self.avgLength)));
      var entry = scores.get(d) || scores.set(d, { score: 0, covered: 0, found: new Set() }).get(d);
      entry.score += s;
      entry.covered += idf[t];
      entry.found.add(t);
    });
  });
  var ranked = [];
  scores.forEach(function (entry, d) {
    var doc = self.docs[d], start = self.starts[d], end = doc.bodyStart + doc.length;
    var score = entry.score * Math.pow(entry.covered / weight, 2);
    parsed.phrases.forEach(function (phrase) {
      var i = self.corpus.indexOf(phrase, start);
      if (i !== -1 && i < end) score *= 1 + PHRASE;
    });
    ranked.push({ doc: doc, score: score * PRIOR[doc.kind], found: entry.found });
  });
  ranked.sort(function (a, b) { return b.score - a.score; });
  return ranked.slice(0, MAX_RESULTS).map(function (r) { return self.result(r, terms); });
};

/* ---- results, in Material's format ---------------------------------------------------------- */

/* <mark> the query's words (and their synonyms' words) in an escaped display text */
function marker(terms) {
  var words = new Set();
  terms.forEach(function (t) {
    t.alternatives.forEach(function (a) { (a.text.match(PIECE) || []).forEach(function (w) { if (w.length > 1 || !WORD.test(w)) words.add(w); }); });
  });
  if (!words.size) return function (s) { return s; };
  var pattern = Array.from(words).sort(function (a, b) { return b.length - a.length; })
    .map(function (w) { return (WORD.test(w.charAt(0)) ? "\\b" : "") + w.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"); });
  var re = new RegExp("(" + pattern.join("|") + ")", "gi");
  return function (s) { return s.replace(re, "<mark>$1</mark>"); };
}

/* One result: the question (or lab section) under its page's title, as Material renders a page with one
   section; a page-level result stands alone. */
Engine.prototype.result = function (r, terms) {
  var mark = marker(terms), seen = {};
  terms.forEach(function (t, i) { seen[t.label] = r.found.has(i); });
  var item = { location: r.doc.location, title: mark(escapeHtml(r.doc.title)), text: mark(escapeHtml(r.doc.snippet)),
               score: r.score, terms: seen };
  if (r.doc.location.indexOf("#") === -1) return [item];
  var page = this.pages[r.doc.page];
  /* slightly below the section: Material's Enter key opens the best-scored link */
  return [{ location: page[0], title: escapeHtml(page[1]), text: "", score: r.score * 0.999, terms: {} }, item];
};

if (typeof module !== "undefined") module.exports = { Engine: Engine };  /* Node: tests/search_engine.cjs */
else self.HandbookEngine = Engine;
