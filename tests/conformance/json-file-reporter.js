'use strict';
// A mocha reporter emitting the document mocha's own `--reporter json` emits (stats, tests,
// pending, failures, passes; each case {title, fullTitle, duration, err}) plus each case's spec
// `file`, written to the path in LAYER_CONFORMANCE_REPORT.
//
// Why not mocha's JSON reporter itself: in mocha 2.5.3 (what layer-api's devDependencies give)
// it copies every own property of a failure's error into the report, and should.js assertion
// errors are circular (Assertion.params.assertion) — JSON.stringify throws inside mocha's 'end'
// handler and the process exits 0 with an empty stdout. A report that vanishes exactly when a case
// fails is useless here, so errors are reduced to message + stack. It also writes to a file, not
// a pipe (mocha 2 calls process.exit() and can cut a piped stdout short).

var fs = require('fs');

function fileOf(runnable) {
  for (var r = runnable; r; r = r.parent) if (r.file) return r.file;
  return null;
}

function clean(runnable, err) {
  return {
    title: runnable.title,
    fullTitle: runnable.fullTitle(),
    file: fileOf(runnable),
    duration: runnable.duration,
    err: err ? {message: String(err.message || err), stack: String(err.stack || '')} : {}
  };
}

module.exports = function JsonFileReporter(runner) {
  var out = process.env.LAYER_CONFORMANCE_REPORT;
  if (!out) throw new Error('LAYER_CONFORMANCE_REPORT must name the report file');
  var tests = [], pending = [], failures = [], passes = [];
  var started = new Date();

  runner.on('pass', function(test) { passes.push(clean(test)); tests.push(passes[passes.length - 1]); });
  runner.on('pending', function(test) { pending.push(clean(test)); tests.push(pending[pending.length - 1]); });
  runner.on('fail', function(test, err) {
    var c = clean(test, err);
    failures.push(c);
    // A hook failure has no 'test end' of its own; it is listed with the cases so it is reported.
    tests.push(c);
  });
  runner.on('end', function() {
    var stats = {suites: runner.suite.suites.length, tests: tests.length, passes: passes.length,
                 pending: pending.length, failures: failures.length, start: started, end: new Date()};
    fs.writeFileSync(out, JSON.stringify({stats: stats, tests: tests, pending: pending,
                                          failures: failures, passes: passes}, null, 2));
  });
};
