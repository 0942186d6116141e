'use strict';
// Loaded with `node --require` before mocha and the layer-api SDK; no SDK file is edited.
//
// layer-api calls `https.request({host: 'api.layer.com', port: 443, ...})` without an agent, so
// Node uses `https.globalAgent`. This file replaces that agent with one whose connections go to
// the conformance harness's TLS front (LAYER_CONFORMANCE_TARGET = "127.0.0.1:PORT"), verifying
// the harness's throw-away CA (LAYER_CONFORMANCE_CA) and the name api.layer.com. Any other host
// is refused, so the suite can never reach the network.

var fs = require('fs');
var https = require('https');
var tls = require('tls');
var util = require('util');

var target = (process.env.LAYER_CONFORMANCE_TARGET || '').split(':');
if (target.length !== 2) throw new Error('LAYER_CONFORMANCE_TARGET must be HOST:PORT');
var ca = fs.readFileSync(process.env.LAYER_CONFORMANCE_CA);

function RedirectAgent(options) {
  https.Agent.call(this, options);
}
util.inherits(RedirectAgent, https.Agent);

RedirectAgent.prototype.createConnection = function(options, callback) {
  if (options.host !== 'api.layer.com') {
    throw new Error('conformance harness: refusing a connection to ' + options.host);
  }
  var opts = Object.assign({}, options, {
    host: target[0],
    port: Number(target[1]),
    servername: 'api.layer.com',
    ca: ca,
    rejectUnauthorized: true
  });
  return tls.connect(opts, callback);
};

https.globalAgent = new RedirectAgent({keepAlive: false});
