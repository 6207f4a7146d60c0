// The desk's one live connection per browser, shared by its tabs: a shared worker holds the
// Server-Sent Events stream of /live and passes each event to every page connected to it.
// A page lets go of it on pagehide (a page kept by the back/forward cache holds nothing) and
// takes it again on pageshow; when no page is connected the stream is closed.
"use strict";
var ports = [];
var source = null;
// The last event of each kind, given to a page that connects later.
var last = {};

function send(message) {
  for (var i = 0; i < ports.length; i += 1) { ports[i].postMessage(message); }
}

function open() {
  source = new EventSource("/live");
  ["posts", "alerts", "counts"].forEach(function (kind) {
    source.addEventListener(kind, function (event) {
      var message = { kind: kind, data: event.data, id: event.lastEventId };
      last[kind] = message;
      send(message);
    });
  });
}

function close() {
  if (source) { source.close(); }
  source = null;
  last = {};
}

self.onconnect = function (connected) {
  var port = connected.ports[0];
  ports.push(port);
  port.onmessage = function (message) {
    if (message.data === "bye") {
      ports = ports.filter(function (p) { return p !== port; });
      port.close();
      if (ports.length === 0) { close(); }
    }
  };
  port.start();
  if (!source) {
    open();
  } else {
    Object.keys(last).forEach(function (kind) { port.postMessage(last[kind]); });
  }
};
