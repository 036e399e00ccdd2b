/* The handbook's search worker, named in Material's config block (overrides/base.html): the documented way
   to replace Material's search engine while its interface (box, keyboard, result list, highlighting on the
   target page) stays as it is. Material starts this worker on every page and sends SETUP with its index
   file, which the build reduced to its configuration and the name of the handbook's own index
   (scripts/handbook/search_index.py). Only the first real query loads the engine (search-engine.js) and
   that index, so a page view without a search transfers this file alone. */
"use strict";

var SETUP = 0, READY = 1, QUERY = 2, RESULT = 3;   /* Material's SearchMessageType */
var ENGINE = "search-engine.js";                   /* next to this file */
var config = null, engine = null, loading = null, queue = Promise.resolve();

function workerUrl() {
  /* a real worker knows its URL; under the iframe-worker shim (file://) this code is the page's script */
  return typeof document === "undefined" ? self.location.href : document.querySelector("script[src]").src;
}

function load() {
  var here = workerUrl();
  /* importScripts is synchronous in a worker and returns a promise under the shim */
  loading = loading || Promise.resolve(importScripts(new URL(ENGINE, here).href, new URL(config.index, here).href)).then(function () {
    engine = new self.HandbookEngine(self.handbookIndex);
  });
  return loading;
}

function answer(message) {
  if (message.type === SETUP) {
    config = message.data.config;
    return { type: READY };
  }
  var query = String(message.data || "");
  if (!query.trim()) return { type: RESULT, data: { items: [] } };
  return load().then(function () { return { type: RESULT, data: { items: engine.search(query) } }; });
}

/* replies go out in the order the messages came, whatever waits for the index */
addEventListener("message", function (event) {
  if (event.data.type !== SETUP && event.data.type !== QUERY) return;
  queue = queue.then(function () { return answer(event.data); }).then(postMessage, function (error) {
    console.error("search:", error);
    postMessage({ type: RESULT, data: { items: [] } });
  });
});
