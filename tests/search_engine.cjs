/* The handbook's search engine (docs/overrides/assets/javascripts/search-engine.js) without a browser, for the
   fast test loop: `node tests/search_engine.cjs <search-engine.js> <index.js>` reads a JSON list of queries on stdin
   and prints, for each, the locations its results land on, best first (tests/test_search.py). */
"use strict";
const fs = require("fs");
const vm = require("vm");
const [engineFile, index] = process.argv.slice(2);
// both files are classic scripts, as the browser runs them; `module` makes the engine export itself
const scope = vm.createContext({ module: { exports: {} }, console });
scope.self = scope;
vm.runInContext(fs.readFileSync(index, "utf8"), scope);
vm.runInContext(fs.readFileSync(engineFile, "utf8"), scope);
const engine = new scope.module.exports.Engine(scope.handbookIndex);
const queries = JSON.parse(fs.readFileSync(0, "utf8"));
const started = process.hrtime.bigint();
const results = queries.map(q => engine.search(q).map(group => group[group.length - 1].location));
const ms = Number(process.hrtime.bigint() - started) / 1e6;
process.stdout.write(JSON.stringify({ results, ms_per_query: ms / Math.max(1, queries.length) }));
